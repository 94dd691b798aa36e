"""Job spec v1 (see JOB_SPEC.md): what the API validates and the engine consumes.

- `job`: the msgspec Structs and the bounds on every field;
- `legacy`: the first system's request shape and its one-piece v1 job;
- `convert`: a request body to a JobSpec, and a job to millimetres (`to_mm`, once, at the engine's boundary).
"""

from engine.spec.convert import decode_job, to_mm
from engine.spec.job import (DEFAULT_RULES_MM, MAX_CUTOUTS, MAX_PIECES, MAX_VERTICES, MM_PER_INCH, NO_NUL, RECT_SIDES,
                             Base, Bulge, Coord, Corner, Currency, Cutout, CutoutType, CuttingProcess, DripGroove, Edge,
                             EdgeKind, Grain, JobInfo, JobSpec, Join, Length, Material, Money, Name, Offset, Options,
                             Outputs, PdfOutput, Piece, Point, PolygonShape, Pricing, Rate, RectShape, RectSide, Rules,
                             Segment, SlabStock, Support, Text, Units, Vertex, added, changed, max_overhang_mm)
from engine.spec.job import INVENTORY, MAX_STOCK, DefectZone, PolygonZone, RectZone  # the slab yard (1.1)
from engine.spec.job import ApplianceZone  # seams placed by the rules (1.1)
from engine.spec.job import MM_PER_UNIT
from engine.spec.legacy import LegacyDims, LegacyEdges, LegacyNamed, LegacyRequest, legacy_to_v1

__all__ = ["Base", "Bulge", "Coord", "Corner", "Currency", "Cutout", "CutoutType", "CuttingProcess", "DEFAULT_RULES_MM",
           "DripGroove", "Edge", "EdgeKind", "Grain", "JobInfo", "JobSpec", "Join", "LegacyDims", "LegacyEdges",
           "LegacyNamed", "LegacyRequest", "Length", "MAX_CUTOUTS", "MAX_PIECES", "MAX_VERTICES", "MM_PER_INCH",
           "Material", "Money", "NO_NUL", "Name", "Offset", "Options", "Outputs", "PdfOutput", "Piece", "Point",
           "PolygonShape", "Pricing", "RECT_SIDES", "Rate", "RectShape", "RectSide", "Rules", "Segment", "SlabStock",
           "Support", "Text", "Units", "Vertex", "added", "changed", "decode_job", "legacy_to_v1", "max_overhang_mm",
           "to_mm"]
__all__ += ["INVENTORY", "MAX_STOCK", "DefectZone", "PolygonZone", "RectZone"]
__all__ += ["ApplianceZone"]
__all__ += ["MM_PER_UNIT"]
