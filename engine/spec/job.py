"""The v1 job's msgspec Structs (see JOB_SPEC.md) and the bounds on every field.

Structs forbid unknown fields so a misspelt key ("corner_raduis") is reported, not silently ignored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from msgspec import Meta, Struct, field

MM_PER_INCH = 25.4
MM_PER_UNIT = {"mm": 1.0, "in": MM_PER_INCH}  # a job's or a drawing's units -> mm
MAX_PIECES = 200
MAX_VERTICES = 500
MAX_CUTOUTS = 50
MAX_STOCK = 100
INVENTORY = "inventory"  # slab_stock's value for "the yard's slabs", resolved by the pipeline

# Limits keep hostile input out of the geometry code: NaN fails every range check, 1e12 fails the bound.
Length = Annotated[float, Meta(ge=0.01, le=100_000)]  # nothing in stone is cut finer than 0.01 mm (or inch)
Offset = Annotated[float, Meta(ge=0, le=100_000)]
Coord = Annotated[float, Meta(ge=-100_000, le=100_000)]
Bulge = Annotated[float, Meta(ge=-1000, le=1000)]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL's jsonb cannot hold the NUL character
Name = Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)]
Text = Annotated[str, Meta(max_length=200, pattern=NO_NUL)]
Vertex = Annotated[list[Coord], Meta(min_length=2, max_length=3)]
Point = Annotated[list[Coord], Meta(min_length=2, max_length=2)]

Units = Literal["mm", "in"]
Currency = Annotated[str, Meta(pattern="^[A-Z]{3}$")]  # ISO 4217
EdgeKind = Literal["finished", "wall", "seam", "appliance", "splash_base", "miter", "sawn"]
RectSide = Literal["front", "right", "back", "left"]
CutoutType = Literal[
    "undermount_sink", "dropin_sink", "farm_sink", "cooktop", "faucet_hole", "soap_hole", "outlet", "custom"
]
CuttingProcess = Literal["bridge_saw", "sawjet", "waterjet", "cnc"]

RECT_SIDES: tuple[RectSide, ...] = ("front", "right", "back", "left")


def added(revision: str, description: str) -> Meta:
    """An optional field added to spec 1.0 after its release: the OpenAPI schema says when (`x-added-in`) and what.
    A job using it still says `spec_version: "1.0"`; a reader that ignores it still reads the job."""
    return Meta(description=description, extra_json_schema={"x-added-in": revision})


def changed(revision: str, description: str) -> Meta:
    """A 1.0 field whose default or meaning changed in `revision` (`x-changed-in`): the description says how."""
    return Meta(description=description, extra_json_schema={"x-changed-in": revision})


class Base(Struct, forbid_unknown_fields=True, omit_defaults=True, frozen=True):
    pass


class JobInfo(Base):
    id: Name
    name: Text
    customer: Text | None = None
    site: Text | None = None
    currency: Annotated[Currency | None, changed("1.1", "ISO 4217 code; the quote is in it, from the shop's price "
                                            "list in it. Absent: the shop's default currency, and the quote "
                                            "says so (before 1.1: EUR).")] = None
    locale: Annotated[str, Meta(max_length=35, pattern=NO_NUL)] | None = None


class Material(Base):
    name: Text
    type: Name
    thickness: Length
    finish: Text | None = None
    density_kg_m3: Annotated[float, Meta(gt=0, le=10_000)] = 2500.0
    vein: Literal["none", "directional"] | None = None
    color: Annotated[str, Meta(pattern="^#[0-9A-Fa-f]{6}$")] | None = None  # the 3D model's colour; default: by type


MAX_DEFECTS = 20  # per slab: a slab with more marked zones is scrap, not stock
MAX_DEFECT_VERTICES = 100


class RectZone(Base, tag="rect", tag_field="type"):
    """A defect zone's rectangle in slab coordinates (origin at the slab's corner, x along its length)."""

    x: Coord
    y: Coord
    length: Length
    width: Length

    def outline(self) -> list[tuple[float, float]]:
        x, y = self.x, self.y
        return [(x, y), (x + self.length, y), (x + self.length, y + self.width), (x, y + self.width)]


class PolygonZone(Base, tag="polygon", tag_field="type"):
    """A defect zone's outline in slab coordinates, `[x, y]` vertices."""

    vertices: Annotated[list[Point], Meta(min_length=3, max_length=MAX_DEFECT_VERTICES)]

    def outline(self) -> list[tuple[float, float]]:
        return [(vertex[0], vertex[1]) for vertex in self.vertices]


DefectZone = RectZone | PolygonZone


class SlabStock(Base):
    id: Name
    length: Length
    width: Length
    qty: Annotated[int, Meta(ge=0, le=10_000)] | None = None
    kind: Literal["full", "remnant"] = "full"
    defects: Annotated[list[DefectZone], Meta(max_length=MAX_DEFECTS), added(
        "1.1", "Zones of the slab no piece may cover (cracks, fissures, pits), in slab coordinates: a piece stays "
               "at least one kerf clear of each.")] = []


class RectShape(Base, tag="rect", tag_field="type"):
    length: Length
    depth: Length


class PolygonShape(Base, tag="polygon", tag_field="type"):
    """Counter-clockwise vertices `[x, y]` or `[x, y, bulge]`; bulge = tan(angle/4) of the arc to the next."""

    vertices: Annotated[list[Vertex], Meta(min_length=3, max_length=MAX_VERTICES)]


class Corner(Base):
    at: Annotated[int, Meta(ge=0, lt=MAX_VERTICES)]
    type: Literal["radius", "clip"]
    size: Length


class Segment(Base):
    start: Offset = field(name="from")
    end: Offset = field(name="to")
    kind: EdgeKind
    profile: Name | None = None


class DripGroove(Base):
    offset: Offset = 20.0
    width: Length = 8.0
    depth: Length = 5.0


class Edge(Base):
    kind: EdgeKind
    profile: Name | None = None
    segments: Annotated[list[Segment], Meta(max_length=50)] = []
    drip_groove: DripGroove | None = None


class Cutout(Base):
    id: Name
    type: CutoutType
    shape: Literal["rect", "oval", "circle"]
    center: Point
    length: Length | None = None
    width: Length | None = None
    diameter: Length | None = None
    corner_radius: Offset = 0.0
    rotation: Annotated[float, Meta(ge=-360, le=360)] = 0.0
    edge_finish: Annotated[Name | None, added("1.1", "The cutout's own edge work, e.g. `polished` for an undermount "
                                              "sink: priced per m or ft of cutout perimeter.")] = None


class ApplianceZone(Base):
    """An opening under the piece with no cabinet to carry a seam: a dishwasher, a slide-in range's gap."""

    type: Literal["dishwasher", "range", "other"]
    start: Offset = field(name="from")  # along x in the piece frame, in the job's units
    end: Offset = field(name="to")

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"`to` ({self.end:g}) must be greater than `from` ({self.start:g})")


class Support(Base):
    cabinet_footprint: Annotated[list[Vertex], Meta(min_length=3, max_length=MAX_VERTICES)] | None = None


class Piece(Base):
    id: Name
    shape: RectShape | PolygonShape
    type: Name = "countertop"
    label: Text | None = None
    qty: Annotated[int, Meta(ge=1, le=1000)] = 1
    corners: Annotated[list[Corner], Meta(max_length=MAX_VERTICES)] = []
    edges: dict[RectSide, Edge] | Annotated[list[Edge], Meta(max_length=MAX_VERTICES)] | None = None
    cutouts: Annotated[list[Cutout], Meta(max_length=MAX_CUTOUTS)] = []
    support: Support | None = None
    appliance_zones: Annotated[list[ApplianceZone], Meta(max_length=20), added(
        "1.1", "Openings under the piece (dishwasher, range) from `from` to `to` along x in the piece frame, in "
               "the job's units: `options.auto_seams` never puts a seam over one.")] = []


class Join(Base):
    a: Text
    b: Text
    type: Name = "butt_seam"


Money = Decimal  # msgspec cannot bound a Decimal; Pricing.__post_init__ checks the range
Rate = Decimal


class Pricing(Base):
    """The job's own prices, over the shop's price list in the same currency. Each price names its unit
    (`_per_m2` or `_per_ft2`, `_per_m` or `_per_ft`); a rate left out (None) is the price list's."""

    currency: Currency | None = None
    material_per_m2: Money | None = None
    material_per_ft2: Annotated[Money | None, added("1.1", "Material price per ft² (or material_per_m2).")] = None
    material_per_slab: Money | None = None
    fabrication_per_m2: Money | None = None
    fabrication_per_ft2: Annotated[Money | None, added("1.1", "Fabrication per ft² (or fabrication_per_m2).")] = None
    edge_per_m: dict[Name, Money] = {}
    edge_per_ft: Annotated[dict[Name, Money], added("1.1", "Edge price per linear ft, by profile.")] = {}
    cutout_each: dict[Name, Money] = {}
    cutout_edge_per_m: Annotated[dict[Name, Money], added(
        "1.1", "Price per m of cutout perimeter, by the cutouts' `edge_finish`.")] = {}
    cutout_edge_per_ft: Annotated[dict[Name, Money], added(
        "1.1", "Price per linear ft of cutout perimeter, by the cutouts' `edge_finish`.")] = {}
    drip_groove_per_m: Money | None = None
    drip_groove_per_ft: Annotated[Money | None, added("1.1", "Drip groove per linear ft.")] = None
    vat_rate: Annotated[Rate | None, changed("1.1", "VAT as a fraction (0.25), in the prices or added to them. "
                                                  "Absent: the price list's tax (before 1.1 a 0 meant that).")] = None
    prices_include_vat: bool = False
    sales_tax_rate: Annotated[Rate | None, added("1.1", "Sales tax as a fraction (0.0725), always added on top "
                                                        "and labelled as sales tax; not with vat_rate.")] = None
    measure_rounding: Annotated[Annotated[float, Meta(ge=0, le=1000)] | None, added(
        "1.1", "Round measurements to the nearest multiple of this length (job units; 0.5 in is CounterGo's "
               "default, 0: none) before pricing. Absent: the price list's.")] = None

    def __post_init__(self) -> None:
        prices = [self.material_per_m2, self.material_per_ft2, self.material_per_slab, self.fabrication_per_m2,
                  self.fabrication_per_ft2, self.drip_groove_per_m, self.drip_groove_per_ft,
                  *self.edge_per_m.values(), *self.edge_per_ft.values(), *self.cutout_each.values(),
                  *self.cutout_edge_per_m.values(), *self.cutout_edge_per_ft.values()]
        if any(price is not None and not (0 <= price <= 10_000_000) for price in prices):
            raise ValueError("prices must be between 0 and 10000000")
        for name in ("vat_rate", "sales_tax_rate"):
            rate = getattr(self, name)
            if rate is not None and not (0 <= rate <= 1):
                raise ValueError(f"{name} must be a fraction between 0 and 1")
        if self.vat_rate is not None and self.sales_tax_rate is not None:
            raise ValueError("give vat_rate or sales_tax_rate, not both: a price list has one kind of tax")
        if self.sales_tax_rate is not None and self.prices_include_vat:
            raise ValueError("sales tax is added on top of the prices: prices_include_vat must be false with it")
        for metric, imperial in (("material_per_m2", "material_per_ft2"), ("fabrication_per_m2", "fabrication_per_ft2"),
                                 ("drip_groove_per_m", "drip_groove_per_ft")):
            if getattr(self, metric) is not None and getattr(self, imperial) is not None:
                raise ValueError(f"give {metric} or {imperial}, not both")
        for metric, imperial in (("edge_per_m", "edge_per_ft"), ("cutout_edge_per_m", "cutout_edge_per_ft")):
            both = sorted(set(getattr(self, metric)) & set(getattr(self, imperial)))
            if both:
                raise ValueError(f"{', '.join(both)}: priced in both {metric} and {imperial}; give one")


class Rules(Base):
    """Fabrication rule thresholds in the job's units; None means the default in `DEFAULT_RULES_MM`."""

    min_cutout_to_edge: Offset | None = None
    min_hole_to_edge: Offset | None = None
    min_web_between_cutouts: Offset | None = None
    min_cutout_to_seam: Offset | None = None
    min_inside_corner_radius: Offset | None = None
    max_unsupported_overhang: Offset | None = None
    min_seam_to_inside_corner: Annotated[Offset | None, added(
        "1.1", "How far a seam `options.auto_seams` places stays from an inside corner (default 150 mm).")] = None
    min_sink_to_seam: Annotated[Offset | None, added(
        "1.1", "How far a seam stays from a sink or cooktop, when more than `min_cutout_to_seam`: 457 mm (18 in) "
               "is the AWI guideline. Absent: `min_cutout_to_seam`.")] = None


class Grain(Base):
    keep_direction: bool = False


class PdfOutput(Base):
    page: Literal["A4", "A3"] = "A3"


class Outputs(Base):
    dxf: bool = True
    svg: bool = True
    pdf: PdfOutput | None = PdfOutput()
    glb: bool = True  # model.glb, the 3D model
    renders: bool = False  # view-top/front/iso.png of the model: CPU-heavy, so asked for
    layer_names: dict[Name, Name] = {}


class Options(Base):
    kerf: Offset = 4.0
    slab_margin: Offset = 10.0
    cutting_process: CuttingProcess = "bridge_saw"
    guillotine: bool | None = None
    prefer_remnants: bool = True
    part_spacing: Offset | None = None
    grain: Grain | None = None
    rules: Rules = Rules()
    auto_seams: Annotated[bool, added(
        "1.1", "Split a piece no slab can hold into parts joined by butt seams, placed by the rules (clear of "
               "cutouts, appliance zones and inside corners; fewest seams, then fewest slabs). The summary's "
               "`seams` says where and why.")] = False
    outputs: Outputs = Outputs()
    time_limit_s: Annotated[float, Meta(gt=0, le=30)] = 3.0
    seed: Annotated[int, Meta(ge=0, le=2**31)] = 0


class JobSpec(Base):
    spec_version: Literal["1.0"]
    job: JobInfo
    material: Material
    slab_stock: Annotated[Annotated[list[SlabStock], Meta(min_length=1, max_length=MAX_STOCK)] | Literal["inventory"],
                          changed("1.1", "The slabs to nest on, or `\"inventory\"`: the on-hand slabs of the shop's "
                                  "yard (`/api/slabs`) in the job's material and thickness, remnants first; the "
                                  "slabs the job is nested on are allocated to it until it is confirmed.")]
    pieces: Annotated[list[Piece], Meta(min_length=1, max_length=MAX_PIECES)]
    units: Units = "mm"
    joins: Annotated[list[Join], Meta(max_length=MAX_PIECES)] = []
    pricing: Pricing | None = None
    options: Options = Options()

    def __post_init__(self) -> None:
        own = self.pricing.currency if self.pricing else None
        if own and self.job.currency and own != self.job.currency:  # a quote is in one currency; none is converted
            raise ValueError(f"pricing.currency {own} differs from job.currency {self.job.currency}: give one "
                             "currency (Studio does not convert)")

    def defect_outlines(self, slab_id: str) -> list[list[tuple[float, float]]]:
        """The defect zones of the stock slab `slab_id` as polygons (none before the yard's stock is filled in)."""
        stock = [] if isinstance(self.slab_stock, str) else self.slab_stock
        return [zone.outline() for slab in stock if slab.id == slab_id for zone in slab.defects]

    @property
    def from_inventory(self) -> bool:
        """The job is nested on the shop's yard, which the pipeline resolves into `slab_stock` before the CAD stage."""
        return isinstance(self.slab_stock, str)

    @property
    def guillotine(self) -> bool:
        """Bridge saws cut straight through the slab, so their layouts must be guillotine by default."""
        if self.options.guillotine is not None:
            return self.options.guillotine
        return self.options.cutting_process == "bridge_saw"


DEFAULT_RULES_MM: dict[str, float] = {
    "min_cutout_to_edge": 50.0,
    "min_hole_to_edge": 25.0,
    "min_web_between_cutouts": 25.0,
    "min_cutout_to_seam": 76.0,
    "min_inside_corner_radius": 4.0,
    "min_seam_to_inside_corner": 150.0,
}


def max_overhang_mm(thickness_mm: float) -> float:
    """Unsupported overhang limit: 152 mm for 2 cm stone, 254 mm for 3 cm and thicker."""
    return 254.0 if thickness_mm >= 30 else 152.0
