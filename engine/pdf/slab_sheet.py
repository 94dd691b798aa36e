"""A slab's sheet: the layout drawing with placements and remnants beside or under it."""

from __future__ import annotations

from engine.model import SlabLayout
from engine.pdf.blocks import DrawingSheet, SheetContext, box, content, drawing_div, foreign_or_missing, kv, rows_table
from engine.pdf.marks import escape
from engine.pdf.page import BOTTOM_PANEL_H, HEAD_H
from engine.pdf.slab_view import fit_foreign_svg, slab_drawing


def slab_sheet(doc: SheetContext, layout: SlabLayout, svgs: dict[str, bytes]) -> DrawingSheet:
    """The slab drawing (the CAD stage's SVG, or drawn here), with placements and remnants beside or under it."""
    page = doc.page
    side_w, bottom_h = page.panel_w, BOTTOM_PANEL_H[page.name]
    rooms = {"side": (page.inner_w - side_w - 6, page.content_h - HEAD_H),
             "bottom": (page.inner_w, page.content_h - HEAD_H - bottom_h - 3)}
    foreign = svgs.get(f"slab-{layout.index}.svg")
    options: list[tuple[float, str, str, str]] = []  # (drawing area, layout, html, scale note)
    for name, (room_w, room_h) in rooms.items():
        if foreign:
            try:
                fixed, width, height = fit_foreign_svg(foreign, room_w, room_h)
                options.append((width * height, name,
                                drawing_div(fixed.decode("utf-8"), width, height, 0, HEAD_H, room_w, room_h), ""))
                continue
            except Exception:
                pass
        try:
            svg, width, height, denominator = slab_drawing(layout, doc.pieces_mm, doc.lengths, doc.mm.options.slab_margin,
                                                           room_w, room_h)
            options.append((1.0 / denominator, name, drawing_div(svg, width, height, 0, HEAD_H, room_w, room_h),
                            f"Scale 1:{denominator} on {page.name}"))
        except Exception:
            options.append((0.0, name, foreign_or_missing(None, 0, HEAD_H, room_w, room_h), ""))
    _, which, drawing, scale_note = max(options, key=lambda option: (option[0], option[1] == "side"))
    job_options = doc.mm.options
    data = [
        ("Stock", escape(f"{layout.slab_id} ({layout.kind})")),
        ("Size", f"{doc.lengths(layout.length_mm)} × {doc.lengths(layout.width_mm)} {doc.job.units}"),
        ("Kerf / margin", f"{doc.lengths.with_unit(job_options.kerf)} / {doc.lengths.with_unit(job_options.slab_margin)}"),
        ("Pieces", str(len(layout.placements))),
        ("Used area", doc.lengths.area(layout.used_area_m2, layout.used_area_sqft)),
        ("Yield", f"<b>{doc.numbers.number(layout.yield_pct, 1)} %</b>"),
    ]
    budget = (page.panel_rows - len(data) - 10) if which == "side" else int((bottom_h - 8) / page.row_mm) - 1
    rows = [[f"<b>{escape(placement.piece)}</b>", str(placement.copy), doc.lengths(placement.x_mm),
             doc.lengths(placement.y_mm), f"{doc.numbers.trim(placement.rotation_deg, 4)}°"]
            for placement in layout.placements]
    shown = rows[: max(1, budget - (len(layout.remnants) + 3 if which == "side" else 0))]
    placements = "<h2>Placements</h2>" + rows_table(
        [("Piece", ""), ("Copy", "num"), ("x", "num"), ("y", "num"), ("Rotation", "num")], shown,
        widths=["26%", "14%", "20%", "20%", "20%"])
    if len(shown) < len(rows):
        placements += f'<p class="more">+ {len(rows) - len(shown)} more placements</p>'
    if layout.remnants:
        rem = [[f"RM{i}", f"{doc.lengths(remnant.length_mm)} × {doc.lengths(remnant.width_mm)}",
                doc.lengths(remnant.x_mm), doc.lengths(remnant.y_mm)]
               for i, remnant in enumerate(layout.remnants, start=1)]
        remnants = "<h2>Remnants</h2>" + rows_table(
            [("Id", ""), ("Size L × W", "num"), ("at x", "num"), ("at y", "num")], rem, widths=["16%", "36%", "24%", "24%"])
    else:
        remnants = '<h2>Remnants</h2><p class="muted">No usable remnant.</p>'
    remnants += ('<p class="note">Positions are slab coordinates from the lower-left corner of the slab to each '
                 "piece's own origin (its front-left corner); rotation is counter-clockwise. Cuts are one kerf "
                 "wide; the margin is trimmed off every edge.</p>")
    first = f"<h2>Slab {layout.index}</h2>{kv(data)}"
    if which == "side":
        panel = box(doc, page.inner_w - side_w, HEAD_H, side_w, page.content_h - HEAD_H, first + placements + remnants, "panel")
    else:
        col_w = (page.inner_w - 10) / 3
        top = page.content_h - bottom_h
        panel = "".join(box(doc, i * (col_w + 5), top, col_w, bottom_h, block, "panel")
                        for i, block in enumerate((first, placements, remnants)))
    head = (f"<h1>Slab {layout.index}<span class=\"sub\">{escape(layout.slab_id)}, {len(layout.placements)} piece{'s' if len(layout.placements) != 1 else ''}, "
            f"yield {doc.numbers.number(layout.yield_pct, 1)} %</span><span class=\"scale\">{escape(scale_note)}</span></h1>")
    return DrawingSheet(f"Slab {layout.index} layout", content(doc, head + drawing + panel))

