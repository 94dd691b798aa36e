"""The submission body in the OpenAPI docs: msgspec's own JSON Schema for JobSpec and the legacy shape.

The handler reads the raw body (two accepted shapes, errors that name the field), so Litestar cannot infer the
schema; we hand it msgspec's, verbatim, through a Schema whose to_schema() returns it as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema

from engine.limits import MAX_COPIES, MAX_FINDINGS_LISTED, MAX_TOTAL_CUTOUTS, MAX_TOTAL_VERTICES
from engine.spec import JobSpec, LegacyRequest

REF = "#/components/schemas/{name}"
_, _COMPONENTS = msgspec.json.schema_components((JobSpec, LegacyRequest), ref_template=REF)
CAPS = (f"Caps per job, each a 422 naming the field: at most {MAX_COPIES} copies in all (the sum of `qty`: "
        f"TOO_MANY_COPIES), {MAX_TOTAL_VERTICES} outline vertices and {MAX_TOTAL_CUTOUTS} cutouts in all, each copy "
        f"counted (TOO_MANY_VERTICES, TOO_MANY_CUTOUTS); the schema bounds each list. An answer lists at most "
        f"{MAX_FINDINGS_LISTED} errors or warnings, then one that counts the rest.")
_COMPONENTS["JobSpec"]["description"] = (_COMPONENTS["JobSpec"].get("description", "") + "\n\n" + CAPS).strip()
_COMPONENTS["JobSpec"]["x-limits"] = {"copies": MAX_COPIES, "vertices": MAX_TOTAL_VERTICES,
                                      "cutouts": MAX_TOTAL_CUTOUTS, "findings_listed": MAX_FINDINGS_LISTED}


@dataclass
class RawSchema(Schema):
    raw: dict[str, Any] = field(default_factory=dict)

    def to_schema(self) -> dict[str, Any]:
        return self.raw


def add_spec_schemas(openapi: Any) -> None:
    """Add JobSpec's schemas to the app's built OpenAPI document (Litestar rebuilds `components.schemas`
    from its own registry, so configured components would be dropped)."""
    openapi.components.schemas.update({name: RawSchema(raw=schema) for name, schema in _COMPONENTS.items()})


@dataclass
class SubmitOperation(Operation):
    def __post_init__(self) -> None:
        body = {"oneOf": [{"$ref": REF.format(name="JobSpec")}, {"$ref": REF.format(name="LegacyRequest")}]}
        self.request_body = RequestBody(
            required=True,
            description="A job spec v1 (JOB_SPEC.md), or the first system's single-element request. " + CAPS,
            content={"application/json": OpenAPIMediaType(schema=RawSchema(raw=body))},
        )
