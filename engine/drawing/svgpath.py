"""The one SVG path writer: chains of lines and arcs (engine.geometry segments) as path data, in any paper frame."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from engine import geometry

Point = tuple[float, float]


def number(value: float) -> str:
    """A coordinate with at most two decimals, no trailing zeros and no negative zero: small, byte-stable files."""
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) >= 0.005 else "0"


def path_d(segs: list[geometry.Seg], to_paper: Callable[[Point], Point], scale: float = 1.0,
           closed: bool = True) -> str:
    """Path data for segments mapped by `to_paper`, a y-flipping map (model y up, paper y down) times `scale`.

    Arcs stay arcs; their radius is scaled by `scale`, and the sweep flips because the map mirrors y.
    """
    if not segs:
        return ""
    x, y = to_paper(segs[0].start)
    out = [f"M{number(x)} {number(y)}"]
    for seg in segs:
        end_x, end_y = to_paper(seg.end)
        if abs(seg.bulge) < geometry.EPS or seg.chord < geometry.EPS:
            out.append(f"L{number(end_x)} {number(end_y)}")
        else:
            _, radius = seg.center_radius()
            large = 1 if abs(seg.angle) > math.pi else 0
            sweep = 0 if seg.bulge > 0 else 1  # y is flipped on paper, so a CCW arc sweeps the negative way
            radius_text = number(radius * scale)
            out.append(f"A{radius_text} {radius_text} 0 {large} {sweep} {number(end_x)} {number(end_y)}")
    if closed:
        out.append("Z")
    return " ".join(out)


def polyline_d(points: Iterable[Point]) -> str:
    """Path data for an open polyline of paper points."""
    return "M" + " L".join(f"{number(x)} {number(y)}" for x, y in points)
