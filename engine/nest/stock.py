"""What is nested on what: the parts (piece copies by bounding box), the slabs in stock, and the area bound."""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec

from engine.model import EngineError

__all__ = ["NestError", "Part", "StockSlab", "lower_bound", "part_area", "usable_size"]


class Part(msgspec.Struct, frozen=True):
    """One copy of a piece to place, by its bbox (outline translated so the bbox min is (0, 0))."""

    key: str  # unique, e.g. "A#1"
    piece: str  # piece id
    copy: int  # 1..qty
    length: float  # bbox along x, mm
    width: float  # bbox along y, mm
    can_rotate: bool  # False when the stone's vein/grain direction must be kept
    outline: list[tuple[float, float]] | None = None  # true outline in the same frame


class StockSlab(msgspec.Struct, frozen=True):
    """A slab in stock: `qty` None means unlimited; `kind` "full" or "remnant"; `defects` are zones no part may
    cover (polygons in slab coordinates, mm): every part stays one kerf clear of each."""

    id: str
    length: float
    width: float
    qty: int | None
    kind: str
    defects: list[list[tuple[float, float]]] = []


class NestError(EngineError):
    """The parts cannot be nested on the stock (a part fits no slab, or stock runs out)."""


def part_area(part: Part) -> float:
    """True outline area (shoelace) when the outline is given, else the bbox area, in mm²."""
    pts = part.outline
    if not pts or len(pts) < 3:
        return part.length * part.width
    twice = 0.0
    for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1]):
        twice += x1 * y2 - x2 * y1
    return abs(twice) / 2.0


def usable_size(slab: StockSlab, margin: float) -> tuple[float, float]:
    return slab.length - 2 * margin, slab.width - 2 * margin


def lower_bound(parts: Sequence[Part], slabs: Sequence[StockSlab], margin: float) -> int:
    """ceil(total part area / usable area of the largest slab): true outline areas, usable = (L-2m)(W-2m)."""
    if not parts:
        return 0
    usable = max((max(0.0, length) * max(0.0, width) for length, width in (usable_size(s, margin) for s in slabs)),
                 default=0.0)
    if usable <= 0:
        return len(parts)
    return max(1, math.ceil(sum(part_area(p) for p in parts) / usable - 1e-9))
