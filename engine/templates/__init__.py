"""Template import: a digital templater's DXF (Proliner, LT-55, Laser Products, Flexijet) -> a v1 job draft.

`import_template(data, defaults)` answers `{"job": <v1 job dict>, "problems": [{code, handle, message, fix}]}`
or raises `TemplateError` when the file cannot give a draft at all. Pure and synchronous (ezdxf is CPU work:
callers run it off their event loop). docs/TEMPLATES.md describes the conventions.
"""

from __future__ import annotations

from typing import Any

from engine.templates.chain import chain, drop_duplicates
from engine.templates.draft import build
from engine.templates.model import Defaults, Problem, TemplateError
from engine.spec import MM_PER_INCH, MM_PER_UNIT
from engine.templates.read import INSUNITS, read

INFER_INCHES_BELOW = 200.0  # no single entity of a mm template is this short... of an inch template this long


def import_template(data: bytes, defaults: Defaults | None = None) -> dict[str, Any]:
    defaults = defaults or Defaults()
    problems: list[Problem] = []
    drawing = read(data, defaults.spline_tolerance_mm, MM_PER_UNIT[defaults.units] if defaults.units else MM_PER_INCH)
    problems.extend(drawing.problems)
    family, unit_len = _drawing_units(drawing, defaults, problems)
    units = defaults.units or family
    scale = unit_len * MM_PER_UNIT[family] / MM_PER_UNIT[units]  # drawing units -> job units
    paths = [path.scaled(scale) for path in drawing.paths]
    for text in drawing.texts:
        text.x, text.y = text.x * scale, text.y * scale
    tolerance = defaults.gap_tolerance_mm / MM_PER_UNIT[units]
    paths = drop_duplicates(paths, min(tolerance, 0.01 / MM_PER_UNIT[units]), problems)
    loops = chain(paths, tolerance, units, problems)
    thickness = defaults.thickness or (1.25 if units == "in" else 30.0)
    job = build(loops, drawing.texts, units, defaults, thickness, problems)
    return {"job": job, "problems": [problem.as_dict() for problem in problems]}


def _drawing_units(drawing: Any, defaults: Defaults, problems: list[Problem]) -> tuple[str, float]:
    """(units family, size of one drawing unit in it): $INSUNITS, else the caller's `units`, else inferred."""
    if drawing.insunits in INSUNITS:
        return INSUNITS[drawing.insunits]
    if defaults.units:
        return defaults.units, 1.0
    longest = max((path.extent() for path in drawing.paths), default=0.0)
    family = "in" if 0 < longest < INFER_INCHES_BELOW else "mm"
    said = "unitless" if drawing.insunits == 0 else f"in an unsupported unit ($INSUNITS {drawing.insunits})"
    problems.append(Problem("UNITS_INFERRED", None, f"the drawing is {said}; taken as {family} because its "
                            f"longest entity measures {longest:.4g} units", "import again with units=mm or units=in "
                            "if that is wrong (or set $INSUNITS in the templater's export)"))
    return family, 1.0


__all__ = ["Defaults", "Problem", "TemplateError", "import_template"]
