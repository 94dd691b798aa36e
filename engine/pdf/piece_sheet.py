"""A piece's sheet: its drawing, and its data, legend, cutouts, corners, edges and warnings beside or under it."""

from __future__ import annotations

import re

from engine import geometry
from engine.drawing.palette import EDGE_STYLES, edge_order
from engine.pdf.blocks import DrawingSheet, SheetContext, box, content, drawing_div, edge_text, foreign_or_missing, kv, rows_table, warnings_box
from engine.pdf.marks import escape
from engine.pdf.page import BOTTOM_PANEL_H, HEAD_H
from engine.pdf.piece_view import cutout_positions, legend_sample, piece_drawing
from engine.spec import Piece


def _piece_blocks(doc: SheetContext, index: int, budget: int, path: str) -> tuple[str, str, str]:
    """The piece sheet's tables in three groups (data + legend, cutouts + corners, edges + warnings),
    each kept within about `budget` table rows."""
    piece, job = doc.mm.pieces[index], doc.job
    stats = next((entry for entry in doc.summary.pieces if entry.id == piece.id), None)
    data = [("Type", escape(piece.type.replace("_", " "))), ("Quantity", str(piece.qty))]
    if stats:
        data += [("Size L × D", f"{doc.lengths(stats.length_mm)} × {doc.lengths(stats.depth_mm)} {job.units}"),
                 ("Gross / net area", f"{doc.lengths.area(stats.area_gross_m2, stats.area_gross_sqft)} / "
                                      f"{doc.lengths.area_figure(stats.area_net_m2, stats.area_net_sqft)}"),
                 ("Finished edge", escape(edge_text(stats.finished_edge_by_profile_m, doc, stats.finished_edge_by_profile_ft)))]
    data.append(("Thickness", doc.lengths.thickness(doc.mm.material.thickness)))
    kinds: list[str] = []
    try:
        outline = geometry.outline(piece)
        kinds = sorted({span.kind for span in outline.spans}, key=edge_order)
        if any(span.groove is not None for span in outline.spans):
            kinds.append("drip_groove")
    except geometry.GeometryError:
        pass
    legend = "".join(
        f"<tr><td style=\"width:13mm\">{legend_sample(kind)}</td><td>"
        f"{'Drip groove' if kind == 'drip_groove' else _label(kind)}"
        f"{escape(_profiles_for(piece, kind))}</td></tr>" for kind in kinds)
    block1 = f"<h2>Piece {escape(piece.id)}</h2>{kv(data)}<h2>Legend</h2><table class=\"legend\">{legend}</table>"

    block2 = ""
    positions = cutout_positions(piece, doc.lengths)
    corners_rows = 2 if piece.corners else 0
    if positions:
        shown = positions[: max(1, budget - 2 - corners_rows)]
        rows = [[f"<b>{escape(position.id)}</b>", escape(position.type), escape(position.size),
                 position.centre_from_left, position.setback_front] for position in shown]
        block2 += "<h2>Cutouts</h2>" + rows_table(
            [("Id", ""), ("Type", ""), ("Size", ""), ("Centre from left", "num"), ("Front setback", "num")], rows,
            widths=["13%", "24%", "23%", "20%", "20%"])
        if len(shown) < len(positions):
            block2 += f'<p class="more">+ {len(positions) - len(shown)} more cutouts</p>'
        block2 += ('<p class="note">Centre: from the left end (x = 0). Setback: from the front edge (y = 0) to the '
                   "cutout's front.</p>")
    else:
        block2 += '<h2>Cutouts</h2><p class="muted">None.</p>'
    if piece.corners:
        block2 += "<h2>Corners</h2><p class=\"note\">" + escape(", ".join(
            f"vertex {corner.at}: {'R' if corner.type == 'radius' else 'clip '}{doc.lengths(corner.size)}"
            for corner in piece.corners[:12])) + "</p>"

    own = [finding for finding in [*doc.summary.errors, *doc.summary.warnings]
           if finding.path == path or finding.path.startswith(path + ".") or finding.path.startswith(path + "[")]
    edge_rows = _edge_rows(piece, doc)
    block3 = ""
    if edge_rows:
        shown_e = edge_rows[: max(1, budget - 2 - (4 if own else 0))]
        block3 += "<h2>Edges</h2>" + rows_table(
            [("Edge", ""), ("Length", "num"), ("Kind", ""), ("Profile", ""), ("Drip groove", "")], shown_e,
            widths=["14%", "14%", "32%", "18%", "22%"])
        if len(shown_e) < len(edge_rows):
            block3 += f'<p class="more">+ {len(edge_rows) - len(shown_e)} more edges</p>'
    if own:
        block3 += "<h2>Warnings</h2>" + warnings_box(own, 2)
    return block1, block2, block3


def piece_sheet(doc: SheetContext, index: int, svgs: dict[str, bytes], path: str | None = None) -> DrawingSheet:
    """Drawing plus tables; the tables go beside the drawing or under it, whichever leaves the larger scale.
    `path` is where the job's findings name the piece (default `pieces[index]`; a part: the piece it came from)."""
    path = path or f"pieces[{index}]"
    page, piece = doc.page, doc.mm.pieces[index]
    side_w = page.panel_w
    bottom_h = BOTTOM_PANEL_H[page.name]
    side_room = (page.inner_w - side_w - 6, page.content_h - HEAD_H)
    bottom_room = (page.inner_w, page.content_h - HEAD_H - bottom_h - 3)
    best = None
    for layout, (room_w, room_h) in (("side", side_room), ("bottom", bottom_room)):
        try:
            svg, width, height, denominator = piece_drawing(piece, doc.lengths, room_w, room_h)
        except Exception:  # a piece the geometry cannot build: the CAD preview if there is one, else say so
            best = None
            break
        if best is None or denominator < best[4]:
            best = (layout, svg, width, height, denominator)
    layout = best[0] if best else "side"
    room_w, room_h = side_room if layout == "side" else bottom_room
    if best:
        _, svg, width, height, denominator = best
        drawing = drawing_div(svg, width, height, 0, HEAD_H, room_w, room_h)
        scale_note = f"Scale 1:{denominator} on {page.name}"
    else:
        drawing = foreign_or_missing(svgs.get(f"piece-{_file_stem(piece.id)}.svg"), 0, HEAD_H, room_w, room_h)
        scale_note = "Not to scale"
    if layout == "side":
        b1, b2, b3 = _piece_blocks(doc, index, max(4, (page.panel_rows - 14) // 2), path)
        panel = box(doc, page.inner_w - side_w, HEAD_H, side_w, page.content_h - HEAD_H, b1 + b2 + b3, cls="panel")
    else:
        col_w = (page.inner_w - 10) / 3
        budget = int((bottom_h - 8) / page.row_mm) - 1
        b1, b2, b3 = _piece_blocks(doc, index, budget, path)
        top = page.content_h - bottom_h
        panel = "".join(box(doc, i * (col_w + 5), top, col_w, bottom_h, block, cls="panel")
                        for i, block in enumerate((b1, b2, b3)))
    label = f"<span class=\"sub\">{escape(piece.label)}</span>" if piece.label else ""
    qty = f"<span class=\"sub\">× {piece.qty}</span>" if piece.qty > 1 else ""
    head = f"<h1>Piece {escape(piece.id)}{label}{qty}<span class=\"scale\">{escape(scale_note)}</span></h1>"
    return DrawingSheet(f"Piece {piece.id}", content(doc, head + drawing + panel))


def _profiles_for(piece: Piece, kind: str) -> str:
    if kind != "finished":
        return ""
    try:
        profiles = sorted({span.profile or "unspecified" for span in geometry.outline(piece).spans if span.kind == "finished"})
    except geometry.GeometryError:
        return ""
    return f" ({', '.join(profiles)})" if profiles else ""


def _edge_rows(piece: Piece, doc: SheetContext) -> list[list[str]]:
    try:
        outline = geometry.outline(piece)
        edges = geometry.piece_edges(piece)
    except geometry.GeometryError:
        return []
    rows = []
    for i, name in enumerate(outline.edge_names):
        spans = [span for span in outline.spans if span.edge == i]
        kinds = []
        for span in spans:
            word = _label(span.kind).lower()
            if not kinds or kinds[-1][0] != word:
                kinds.append([word, span.seg.length(), span.profile])
            else:
                kinds[-1][1] += span.seg.length()
        kind_text = kinds[0][0] if len(kinds) == 1 else " + ".join(f"{edge_kind} {doc.lengths(run_mm)}"
                                                                   for edge_kind, run_mm, _ in kinds)
        profiles = sorted({span.profile for span in spans if span.kind == "finished" and span.profile})
        groove = edges[i].drip_groove if edges[i] else None
        groove_text = (f"{doc.lengths(groove.width)}×{doc.lengths(groove.depth)} at {doc.lengths(groove.offset)}" if groove else "")
        rows.append([escape(name), doc.lengths(outline.edge_lengths[i]), escape(kind_text), escape(", ".join(profiles)), escape(groove_text)])
    return rows


def _file_stem(piece_id: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", piece_id).strip("._") or "piece"
    return stem[:64]



def _label(kind: str) -> str:
    style = EDGE_STYLES.get(kind)
    return style.label if style else kind
