"""What template import takes and gives: defaults, problems, the refusal, and the layer conventions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from engine.spec import MAX_CUTOUTS, MAX_PIECES, MAX_VERTICES

MAX_ENTITIES = 20_000
MAX_LOOPS = MAX_PIECES * (MAX_CUTOUTS + 1)
__all__ = ["MAX_CUTOUTS", "MAX_ENTITIES", "MAX_LOOPS", "MAX_PIECES", "MAX_VERTICES", "Defaults", "Problem",
           "TemplateError", "ROLES", "role_of"]

Role = Literal["piece", "wall", "finished", "sawn", "seam", "appliance", "splash_base", "backsplash",
               "cutout", "sink", "cooktop", "faucet", "ignore"]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]

# Layer names (upper case, or a word of them: "WALL_LINES" -> WALL) -> role. A shop's own mapping comes first.
LAYER_ROLES: dict[str, Role] = {
    "WALL": "wall", "WALLS": "wall", "WALLLINE": "wall",
    "FINISHED": "finished", "FINISH": "finished", "POLISH": "finished", "POLISHED": "finished",
    "EXPOSED": "finished", "PROFILE": "finished",
    "SAWN": "sawn", "UNFINISHED": "sawn", "RAW": "sawn",
    "SEAM": "seam", "JOINT": "seam",
    "APPLIANCE": "appliance", "DISHWASHER": "appliance",
    "BACKSPLASH": "backsplash", "SPLASH": "backsplash", "UPSTAND": "backsplash",
    "CUTOUT": "cutout", "CUTOUTS": "cutout", "HOLE": "cutout", "HOLES": "cutout",
    "SINK": "sink", "SINKS": "sink", "BASIN": "sink",
    "COOKTOP": "cooktop", "HOB": "cooktop", "RANGE": "cooktop", "STOVE": "cooktop",
    "FAUCET": "faucet", "TAP": "faucet", "TAPHOLE": "faucet",
    "DEFPOINTS": "ignore", "DIM": "ignore", "DIMS": "ignore", "DIMENSION": "ignore", "DIMENSIONS": "ignore",
    "TEXT": "ignore", "NOTES": "ignore", "HATCH": "ignore", "VIEWPORT": "ignore", "TITLE": "ignore",
}
# When a layer holds several known words the more specific role wins ("CUTOUT_SINK" is a sink).
_PRIORITY = ("ignore", "sink", "cooktop", "faucet", "cutout", "backsplash", "wall", "seam", "appliance",
             "splash_base", "sawn", "finished")
# Linetypes templaters use for wall lines (DASHED, HIDDEN2, DASHDOTX2, ...).
WALL_LINETYPE = re.compile(r"^(DASH|HIDDEN|DOT|DIVIDE|CENTER|PHANTOM|ACAD_ISO0[2-9]|ACAD_ISO1)")


def role_of(layer: str, linetype: str, mapping: dict[str, str]) -> str:
    """The role of an entity: the shop's mapping (exact layer name, any case), then the built-in layer words,
    then a dashed linetype (wall), else `piece` (an outline edge of the default kind)."""
    name = layer.upper()
    if name in mapping:
        return mapping[name]
    if name in LAYER_ROLES:
        return LAYER_ROLES[name]
    words = {LAYER_ROLES[word] for word in re.split(r"[^A-Z0-9]+", name) if word in LAYER_ROLES}
    for role in _PRIORITY:
        if role in words:
            return role
    if WALL_LINETYPE.match(linetype.upper()):
        return "wall"
    return "piece"


@dataclass(frozen=True)
class Defaults:
    """What the file does not say. Lengths (thickness) in `units`; tolerances always in mm."""

    units: Literal["mm", "in"] | None = None  # None: the file's $INSUNITS, else inferred
    material: str = "Unspecified"
    material_type: str = "unspecified"
    thickness: float | None = None  # None: 30 mm / 1.25 in
    layers: dict[str, str] = field(default_factory=dict)  # the shop's layer name -> role
    edge_default: Literal["finished", "sawn"] = "finished"
    edge_profile: str = "eased"
    gap_tolerance_mm: float = 0.05
    spline_tolerance_mm: float = 0.1
    job_id: str = "TEMPLATE"
    job_name: str = "Imported template"

    def __post_init__(self) -> None:
        bad = {layer: role for layer, role in self.layers.items() if role not in ROLES}
        if bad:
            name, role = next(iter(bad.items()))
            raise TemplateError("BAD_LAYER_MAPPING", f"layer {name!r} is mapped to {role!r}, which is not a role",
                                f"use one of: {', '.join(ROLES)}")
        object.__setattr__(self, "layers", {layer.upper(): role for layer, role in self.layers.items()})


@dataclass(frozen=True)
class Problem:
    code: str
    handle: str | None
    message: str
    fix: str

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "handle": self.handle, "message": self.message, "fix": self.fix}


class TemplateError(ValueError):
    """The file cannot become a job draft at all (not a DXF, over a cap, no closed outline): a 4xx."""

    def __init__(self, code: str, message: str, fix: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.fix, self.problems = code, message, fix, problems or []
