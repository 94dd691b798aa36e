"""The drawing set: which sheets, in which order, and the HTML of the whole set (one .sheet per page)."""

from __future__ import annotations

import datetime as dt

from engine.model import Quote, Summary
from engine.pdf.blocks import SheetContext
from engine.pdf.cover import cover_sheets, piece_list_chunks, quote_sheet, title_block
from engine.pdf.marks import escape
from engine.pdf.piece_sheet import piece_sheet
from engine.pdf.slab_sheet import slab_sheet
from engine.spec import JobSpec


def build_html(job: JobSpec, summary: Summary, svgs: dict[str, bytes], issued: dt.date, quote: Quote | None) -> str:
    """The HTML of the whole drawing set (one .sheet per page)."""
    doc = SheetContext(job, summary, issued)
    n_cover = len(piece_list_chunks(len(summary.pieces), doc.page))
    slabs = summary.slabs.layouts if summary.slabs else []
    contents = ([f"{n_cover + i + 1} Piece {pc.id}" for i, pc in enumerate(doc.mm.pieces)]
                + [f"{n_cover + len(doc.mm.pieces) + i + 1} Slab {lay.index}" for i, lay in enumerate(slabs)]
                + ([f"{n_cover + len(doc.mm.pieces) + len(slabs) + 1} Quote"] if quote is not None else []))
    sheets = cover_sheets(doc, contents)
    sheets += [piece_sheet(doc, i, svgs) for i in range(len(doc.mm.pieces))]
    sheets += [slab_sheet(doc, lay, svgs) for lay in slabs]
    if quote is not None:
        sheets.append(quote_sheet(doc, quote))
    count = len(sheets)
    pages = "".join(f'<section class="sheet">{sh.body}{title_block(doc, sh, i, count)}<div class="frame"></div></section>'
                    for i, sh in enumerate(sheets, start=1))
    lang = escape(job.job.locale or "en")
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{escape(job.job.id)} shop drawing</title><style>{doc.places.css()}</style></head><body>{pages}</body></html>")

