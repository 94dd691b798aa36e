"""One palette for every drawing: each edge kind's label, its colour on screen (SVG previews), its print style
(PDF: colour, stroke width in mm, dash pattern) and the DXF layer colours (AutoCAD colour index)."""

from __future__ import annotations

from typing import NamedTuple


class EdgeStyle(NamedTuple):
    label: str
    screen: str  # SVG preview colour
    ink: str  # PDF print colour
    width_mm: float  # PDF stroke width
    dash: str  # PDF dash pattern, "" for solid


EDGE_STYLES: dict[str, EdgeStyle] = {
    "finished": EdgeStyle("Finished", "#1565c0", "#111111", 0.7, ""),
    "wall": EdgeStyle("Wall", "#6d4c41", "#8a6d5a", 0.45, "2.4 1.2"),
    "seam": EdgeStyle("Seam", "#d81b60", "#d81b60", 0.6, "5 1.2 0.8 1.2"),
    "splash_base": EdgeStyle("Splash", "#8e24aa", "#7b1fa2", 0.6, "1 0.8"),
    "appliance": EdgeStyle("Appliance", "#ef6c00", "#ef6c00", 0.5, "2 1"),
    "miter": EdgeStyle("Miter", "#2e7d32", "#2e7d32", 0.6, "4 1 1 1"),
    "sawn": EdgeStyle("Sawn", "#9e9e9e", "#9e9e9e", 0.35, ""),
}
GROOVE = "#00838f"  # drip grooves, on screen and in print
SCREEN_INK, SCREEN_STONE = "#212121", "#ece7df"
PRINT_INK, PRINT_DIM, PRINT_STONE = "#111111", "#374151", "#eeeae3"

# DXF layers (AutoCAD colour index); POLISH_* layers take POLISH_COLOUR
LAYER_COLOURS = {
    "OUTER_CUT": 7, "INNER_CUT": 1, "DRILL": 3, "SEAM": 6, "DRIP_GROOVE": 4,
    "LABELS": 8, "DIMENSIONS": 8, "SLAB": 9, "DEFECTS": 1,
}
DEFECT = "#e53935"  # a slab's defect zones, which no piece covers
POLISH_COLOUR = 5


def edge_order(kind: str) -> int:
    """Legend order: the palette's order, unknown kinds last."""
    return list(EDGE_STYLES).index(kind) if kind in EDGE_STYLES else len(EDGE_STYLES)
