"""The drawing set: which sheets, in which order, and the HTML of the whole set (one .sheet per page)."""

from __future__ import annotations

import datetime as dt

from engine.model import Quote, Seam, Summary
from engine.pdf.blocks import SheetContext
from engine.pdf.cover import cover_sheets, piece_list_chunks, quote_sheet, title_block
from engine.pdf.marks import escape
from engine.pdf.piece_sheet import piece_sheet
from engine.pdf.seam_sheet import seam_sheet
from engine.pdf.slab_sheet import slab_sheet
from engine.seams import apply_seams
from engine.spec import JobSpec, to_mm


def build_html(job: JobSpec, summary: Summary, svgs: dict[str, bytes], issued: dt.date, quote: Quote | None) -> str:
    """The HTML of the whole drawing set (one .sheet per page)."""
    doc = SheetContext(apply_seams(job, summary.seams), summary, issued)  # the parts the CAD stage drew
    n_cover = len(piece_list_chunks(len(summary.pieces), doc.page))
    slabs = summary.slabs.layouts if summary.slabs else []
    seams_of: dict[str, list[Seam]] = {}
    for seam in summary.seams:
        seams_of.setdefault(seam.piece, []).append(seam)
    index = {piece.id: i for i, piece in enumerate(doc.mm.pieces)}
    piece_sheets = []
    for i, piece in enumerate(to_mm(job).pieces):  # in the order submitted: a seamed piece, then its parts
        path = f"pieces[{i}]"  # findings name the pieces as submitted
        if piece.id in seams_of and piece.id not in index:
            seams = seams_of[piece.id]
            piece_sheets.append(seam_sheet(doc, piece, seams))
            parts = [seams[0].parts[0], *(seam.parts[1] for seam in seams)]
            piece_sheets += [piece_sheet(doc, index[part], svgs, path) for part in parts]
        elif piece.id in index:
            piece_sheets.append(piece_sheet(doc, index[piece.id], svgs, path))
    contents = ([f"{n_cover + i + 1} {sheet.title}" for i, sheet in enumerate(piece_sheets)]
                + [f"{n_cover + len(piece_sheets) + i + 1} Slab {lay.index}" for i, lay in enumerate(slabs)]
                + ([f"{n_cover + len(piece_sheets) + len(slabs) + 1} Quote"] if quote is not None else []))
    sheets = cover_sheets(doc, contents) + piece_sheets
    sheets += [slab_sheet(doc, lay, svgs) for lay in slabs]
    if quote is not None:
        sheets.append(quote_sheet(doc, quote))
    count = len(sheets)
    pages = "".join(f'<section class="sheet">{sheet.body}{title_block(doc, sheet, i, count)}<div class="frame"></div></section>'
                    for i, sheet in enumerate(sheets, start=1))
    lang = escape(job.job.locale or "en")
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{escape(job.job.id)} shop drawing</title><style>{doc.places.css()}</style></head><body>{pages}</body></html>")
