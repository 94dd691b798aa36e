"""A request body to a JobSpec (v1, or the first system's shape), and a job to millimetres.

Every length is in the job's `units`; `to_mm()` converts a job once, at the engine's boundary.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Struct

from engine.spec.job import (DEFAULT_RULES_MM, MM_PER_INCH, ApplianceZone, Corner, Cutout, DripGroove, JobSpec,
                             Material, Options, PolygonShape, PolygonZone, Pricing, RectShape, RectZone, Rules, Segment,
                             SlabStock, Support)
from engine.spec.legacy import LegacyRequest, legacy_to_v1

_REQUIRED = ("spec_version", "job", "material", "slab_stock", "pieces")


_JOB_DECODER = msgspec.json.Decoder(JobSpec)


def decode_job(body: bytes | dict[str, Any], *, fallback_id: str = "JOB") -> JobSpec:
    """Decode a request body as a v1 job, or as the first system's shape when it has `dims`.

    Raises msgspec.ValidationError (with the `$.path` of the bad field) or msgspec.DecodeError.
    """
    if isinstance(body, (bytes, bytearray, str)):
        try:  # a v1 job in one pass, straight into the Structs; anything else is looked at below
            return _JOB_DECODER.decode(body)
        except msgspec.DecodeError:  # ValidationError included
            pass
    raw = msgspec.json.decode(body) if isinstance(body, (bytes, bytearray, str)) else body
    if not isinstance(raw, dict):
        raise msgspec.ValidationError("Expected `object`, got `" + type(raw).__name__ + "`")
    if "dims" in raw and "spec_version" not in raw:
        return legacy_to_v1(msgspec.convert(raw, LegacyRequest), fallback_id)
    # msgspec stops at the first problem; for a body that is not a job at all, name everything missing.
    missing = [f"`{name}`" for name in _REQUIRED if name not in raw]
    if missing:
        raise msgspec.ValidationError(f"Object missing required field{'s' if len(missing) > 1 else ''} "
                                      f"{', '.join(missing)} - at `$`")
    return msgspec.convert(raw, JobSpec)


_LENGTH_FIELDS: dict[type, tuple[str, ...]] = {
    Material: ("thickness",),
    SlabStock: ("length", "width"),
    RectZone: ("x", "y", "length", "width"),
    RectShape: ("length", "depth"),
    Corner: ("size",),
    Segment: ("start", "end"),
    DripGroove: ("offset", "width", "depth"),
    Cutout: ("length", "width", "diameter", "corner_radius"),
    Options: ("kerf", "slab_margin", "part_spacing"),
    Rules: tuple(DEFAULT_RULES_MM) + ("max_unsupported_overhang", "min_sink_to_seam"),
    ApplianceZone: ("start", "end"),
    Pricing: ("measure_rounding",),
}


def _scale(obj: Any, k: float) -> Any:
    if isinstance(obj, list):
        return [_scale(v, k) for v in obj]
    if isinstance(obj, dict):
        return {key: _scale(v, k) for key, v in obj.items()}
    if not isinstance(obj, Struct):
        return obj
    changes: dict[str, Any] = {}
    lengths = _LENGTH_FIELDS.get(type(obj), ())
    for name in obj.__struct_fields__:
        value = getattr(obj, name)
        if name in lengths and value is not None:
            changes[name] = value * k
        elif isinstance(obj, (PolygonShape, Support)) and name in ("vertices", "cabinet_footprint") and value:
            changes[name] = [[v[0] * k, v[1] * k, *v[2:]] for v in value]  # bulge is a ratio, not a length
        elif isinstance(obj, PolygonZone) and name == "vertices":
            changes[name] = [[v[0] * k, v[1] * k] for v in value]
        elif isinstance(obj, Cutout) and name == "center":
            changes[name] = [c * k for c in value]
        elif isinstance(value, (Struct, list, dict)):
            changes[name] = _scale(value, k)
    return msgspec.structs.replace(obj, **changes) if changes else obj


def to_mm(job: JobSpec) -> JobSpec:
    """The same job with every length in millimetres and `units="mm"`; callers keep the original units for output."""
    if job.units == "mm":
        return job
    return msgspec.structs.replace(_scale(job, MM_PER_INCH), units="mm")
