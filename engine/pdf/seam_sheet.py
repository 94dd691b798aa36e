"""A seamed piece's sheet: the piece as submitted with its seams dimensioned from the left end, and why each is
where it is; the parts follow on sheets of their own."""

from __future__ import annotations

from engine import geometry
from engine.model import Seam
from engine.pdf.blocks import DrawingSheet, SheetContext, box, content, drawing_div, foreign_or_missing, rows_table
from engine.pdf.marks import escape
from engine.pdf.page import BOTTOM_PANEL_H, HEAD_H
from engine.pdf.piece_view import piece_drawing
from engine.spec import Piece


def seam_sheet(doc: SheetContext, piece: Piece, seams: list[Seam]) -> DrawingSheet:
    """The whole piece (mm, as submitted) with its seams, and the seam table under it."""
    page = doc.page
    bottom_h = BOTTOM_PANEL_H[page.name]
    room_w, room_h = page.inner_w, page.content_h - HEAD_H - bottom_h - 3
    parts = [seams[0].parts[0], *(seam.parts[1] for seam in seams)]
    try:
        svg, width, height, denominator = piece_drawing(piece, doc.lengths, room_w, room_h,
                                                        [seam.position_mm for seam in seams], parts)
        drawing = drawing_div(svg, width, height, 0, HEAD_H, room_w, room_h)
        scale_note = f"Scale 1:{denominator} on {page.name}"
    except Exception:  # a piece the geometry cannot build: say so rather than lose the sheet
        drawing, scale_note = foreign_or_missing(None, 0, HEAD_H, room_w, room_h), "Not to scale"
    try:
        left_end = geometry.bbox(geometry.outline(piece).segs)[0]  # the drawing dimensions from here
    except geometry.GeometryError:
        left_end = 0.0
    rows = [[f"<b>{ordinal}</b>", doc.lengths(seam.position_mm - left_end), escape(" + ".join(seam.parts)),
             escape("; ".join(seam.rules) or "—")] for ordinal, seam in enumerate(seams, start=1)]
    table = rows_table([("Seam", ""), ("From the left end", "num"), ("Joins", ""), ("Keeps", "")], rows,
                       widths=["7%", "15%", "16%", "62%"])
    note = (f'<p class="note">{escape(seams[0].reason)}. Butt seams, placed by options.auto_seams: fewest seams, '
            "then fewest slabs, then farthest from cutouts.</p>")
    panel = box(doc, 0, page.content_h - bottom_h, page.inner_w, bottom_h, f"<h2>Seams</h2>{table}{note}", cls="panel")
    head = (f"<h1>Piece {escape(piece.id)}<span class=\"sub\">seams: {escape(' + '.join(parts))}</span>"
            f"<span class=\"scale\">{escape(scale_note)}</span></h1>")
    return DrawingSheet(f"Piece {piece.id}: seams", content(doc, head + drawing + panel))
