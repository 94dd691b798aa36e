"""What the engine hands back: findings, the job summary, slab layouts and artifacts.

These Structs are the contract between `engine/` and the rest of the system: the pipeline stores
`Summary` as jsonb and the PDF stage reads it back with `msgspec.convert(raw, Summary)`.
Lengths inside are millimetres (`_mm`), areas square metres (`_m2`), as the suffixes say.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from msgspec import Struct


class Finding(Struct, frozen=True):
    """One fabricator check that failed: `code` (CUTOUT_OUTSIDE_PIECE), `path` (pieces[0].cutouts[1]), a message."""

    code: str
    path: str
    message: str
    severity: Literal["error", "warning"] = "error"


class EngineError(Exception):
    """A job the engine cannot produce (bad spec or geometry): permanent, never retried; the message is for a person."""

    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


class Placement(Struct, frozen=True):
    """A piece copy on a slab: slab point = rotate(piece point, rotation_deg about the origin) + (x_mm, y_mm)."""

    piece: str  # piece id
    copy: int  # 1..qty
    x_mm: float
    y_mm: float
    rotation_deg: float = 0.0


class Remnant(Struct, frozen=True):
    x_mm: float
    y_mm: float
    length_mm: float
    width_mm: float


class SlabLayout(Struct, frozen=True):
    slab_id: str  # the slab_stock id
    index: int  # 1-based: the n-th slab of the whole layout
    length_mm: float
    width_mm: float
    kind: Literal["full", "remnant"]
    placements: list[Placement]
    used_area_m2: float
    yield_pct: float
    remnants: list[Remnant] = []
    used_area_sqft: float | None = None  # the twin of used_area_m2 (None only in a summary stored before it)


class Slabs(Struct, frozen=True):
    area_bound: int  # fewest slabs the pieces' area alone allows
    used: int
    yield_pct: float
    layouts: list[SlabLayout]


class CutoutCounts(Struct, frozen=True):
    total: int
    by_type: dict[str, int]


class PieceSummary(Struct, frozen=True):
    id: str
    type: str
    qty: int
    label: str | None
    length_mm: float  # bounding box along x
    depth_mm: float  # bounding box along y
    area_gross_m2: float  # one copy
    area_net_m2: float  # one copy
    finished_edge_m: float  # one copy
    finished_edge_by_profile_m: dict[str, float]  # one copy
    cutouts: CutoutCounts  # one copy
    # The ft² and linear ft twins of the figures above, for a job in inches (None only in a summary stored before
    # they were added: the PDF stage then converts the metric figures).
    area_gross_sqft: float | None = None
    area_net_sqft: float | None = None
    finished_edge_ft: float | None = None
    finished_edge_by_profile_ft: dict[str, float] | None = None


class QuoteLine(Struct, frozen=True):
    description: str
    quantity: str  # decimal as text, in `unit`, after the price list's measurement rounding
    unit: str  # m², ft², m, ft (linear), slab, pc
    unit_price: str  # in the quote's currency per `unit`
    amount: str
    detail: str = ""  # the line as a reader checks it: "12.5 ft² x 65.00 USD/ft²"


class Quote(Struct, frozen=True):
    currency: str
    lines: list[QuoteLine]
    net: str
    vat_rate: str  # VAT only: "0" and "0.00" when the tax is a sales tax or there is none (see tax_kind)
    vat: str
    total: str
    tax_kind: Literal["vat", "sales_tax", "none"] = "vat"  # "none": no tax rate in the job or its price list
    tax_label: str = ""  # "VAT 25 %", "Sales tax 7.25 %", "No tax"
    tax_rate: str = "0"
    tax: str = "0.00"
    prices_include_tax: bool = False
    measure_rounding: str | None = None  # "1/2 in", "10 mm": measurements rounded to this before pricing
    notes: list[str] = []  # what a reader must know: the currency's source, items left unpriced


class Seam(Struct, frozen=True):
    """A butt seam `options.auto_seams` placed: where on the piece as submitted, which parts it joins, and why."""

    piece: str  # the piece as submitted
    parts: list[str]  # the part left of the seam, the part right of it
    position: float  # x in the piece's frame, in the job's units: from its left end when that is at x = 0
    position_mm: float
    reason: str  # why the piece needs a seam: "A is 4200 mm long; the longest slab holds 3180 mm of it"
    rules: list[str]  # the rules the position keeps, in words and the job's units
    cutout_clearance: float | None = None  # to the nearest cutout, in the job's units (None: no cutout)
    inside_corner_clearance: float | None = None  # to the nearest inside corner, in the job's units


class Summary(Struct, frozen=True):
    """The figures a fabricator checks, totals over all pieces and copies (JOB_SPEC.md, 'What a finished job reports')."""

    job_id: str
    units: Literal["mm", "in"]  # the job's own units; the figures below are metric plus the ft/ft²/lb twins
    area_gross_m2: float
    area_net_m2: float
    area_gross_sqft: float
    area_net_sqft: float
    finished_edge_m: float
    finished_edge_ft: float
    finished_edge_by_profile_m: dict[str, float]
    cutouts: CutoutCounts
    weight_kg: float
    pieces: list[PieceSummary]
    slabs: Slabs | None
    warnings: list[Finding]
    errors: list[Finding] = []
    quote: Quote | None = None
    seams: list[Seam] = []  # placed by options.auto_seams; the pieces above are then the parts
    finished_edge_by_profile_ft: dict[str, float] | None = None  # twins (None only in a summary stored before them)
    weight_lb: float | None = None


class Artifact(Struct, frozen=True):
    name: str  # file name, unique within a job: "piece-A.dxf", "slab-1.svg", "shop-drawing.pdf"
    content_type: str
    data: bytes


class CadResult(Struct, frozen=True):
    summary: Summary
    artifacts: list[Artifact]


def to_builtins(obj: object) -> object:
    """JSON-ready form of any engine Struct (for jsonb columns and API responses)."""
    return msgspec.to_builtins(obj)
