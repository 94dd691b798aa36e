"""Fuzz the API from its own OpenAPI document (schemathesis), in process, against a real PostgreSQL.

Every operation in /docs/openapi.json gets a fixed number of generated requests, schema-valid and schema-invalid,
derandomized so CI sees the same requests every run. The app runs its lifespan (the pool and the LISTEN task)
through schemathesis' ASGI transport, so handlers really query the test database.

Checks, and why these:
- not_a_server_error: no input may produce a 5xx.
- response_schema_conformance, content_type_conformance, response_headers_conformance: what comes back is
  what the document says (the submission body schema is msgspec's JSON Schema, api/openapi.py).
- status_code_conformance: every status the API returns is documented (4xx bodies are ErrorBody).
- negative_data_rejection: a request that breaks the schema is a 4xx, never accepted.
- errors_name_the_field (ours): a 4xx body is an ErrorBody whose problems have a path, never msgspec's raw
  "- at `$...`" text.
Left out: positive_data_acceptance. A body can satisfy the JSON Schema and still be refused with a 422 that
names the rule (a cutout outside its piece, vertices that coincide), and `cursor` is any string in the schema
but only one this API issued is accepted (400). Both are the contract, not bugs.
"""

from __future__ import annotations

import collections
import json
import time
from typing import Any

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.schemas import ErrorBody
from ops.config.settings import Settings
from tests.conftest import example_bytes

# Requests per operation; the submission has the richest input, so it gets more. About 25 s in all on 2 cores.
MAX_EXAMPLES = 25
MAX_EXAMPLES_BY_OPERATION = {"POST /api/cad/generate": 60}


def errors_name_the_field(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx is an ErrorBody, and every problem in it names a path instead of leaking msgspec's location text."""
    if not 400 <= response.status_code < 500 or "json" not in (response.headers.get("content-type") or [""])[0]:
        return None
    try:
        body = msgspec.json.decode(response.content, type=ErrorBody)
    except msgspec.ValidationError as exc:
        raise AssertionError(f"a {response.status_code} that is not an ErrorBody: {exc}") from None
    for problem in [*body.errors, *body.warnings]:
        if not problem.path or " - at `" in problem.message:
            raise AssertionError(f"problem without a usable path: {problem}")
    return True


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, response_headers_conformance,
          status_code_conformance, negative_data_rejection, errors_name_the_field]


@pytest.fixture
def api_schema(db_url: str) -> schemathesis.BaseSchema:
    # No rate limit: the fuzzer sends far more than 60 submissions a minute from one client.
    # No worker runs here: the web app's synchronous routes answer 202 at once instead of waiting SYNC_WAIT_S.
    app = create_app(Settings(database_url=db_url, rate_limit_per_minute=0, sync_wait_s=0.01).normalized())
    return schemathesis.openapi.from_asgi("/docs/openapi.json", app)


def fuzz(operation: Any, max_examples: int, statuses: collections.Counter[int],
         samples: dict[int, list[str]]) -> None:
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None, print_blob=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    def run(case: Any) -> None:
        response = case.call(timeout=10)
        statuses[response.status_code] += 1
        if len(samples.setdefault(response.status_code, [])) < 5:
            samples[response.status_code].append(response.text[:300])
        case.validate_response(response, checks=CHECKS)

    run()


def test_every_operation_against_its_schema(api_schema: schemathesis.BaseSchema) -> None:
    failures: dict[str, str] = {}
    seen: dict[str, collections.Counter[int]] = {}
    submit_samples: dict[int, list[str]] = {}
    started = time.monotonic()
    for result in api_schema.get_all_operations():
        operation = result.ok()
        label = operation.label
        statuses: collections.Counter[int] = collections.Counter()
        samples: dict[int, list[str]] = {}
        try:
            fuzz(operation, MAX_EXAMPLES_BY_OPERATION.get(label, MAX_EXAMPLES), statuses, samples)
        except Exception as exc:  # noqa: BLE001  (every operation runs; all failures are reported together)
            failures[label] = str(exc)
        seen[label] = statuses
        if label == "POST /api/cad/generate":
            submit_samples = samples
    summary = "\n".join(f"  {label}: {dict(sorted(s.items()))}" for label, s in seen.items())
    print(f"fuzzed {len(seen)} operations in {time.monotonic() - started:.1f} s:\n{summary}")
    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items()) + "\n" + summary

    assert "POST /api/cad/generate" in seen and "GET /api/jobs/{job_id}" in seen, sorted(seen)
    # The body schema is msgspec's, so generated jobs get past "not a job at all": some are queued, and some are
    # refused by a rule or a field check that names where (not the root).
    submit = seen["POST /api/cad/generate"]
    named = [json.loads(t) for t in submit_samples.get(422, [])]
    assert submit[202] > 0, f"no generated job was accepted: {dict(submit)}"
    assert any(e["path"] not in ("", "$") for body in named for e in body["errors"]), named


def test_seed_smoke_call_is_a_422_that_names_what_is_missing(api_schema: schemathesis.BaseSchema) -> None:
    """The seed's own smoke test: POST /api/cad/generate {"test": true}."""
    case = api_schema["/api/cad/generate"]["POST"].Case(body={"test": True}, media_type="application/json")
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"] == [{"path": "$", "code": "MISSING_FIELD", "message":
                               "Object missing required fields `spec_version`, `job`, `material`, `slab_stock`, "
                               "`pieces`"}], body
    assert "spec_version" in body["detail"] and "pieces" in body["detail"]


def test_an_invalid_key_is_named_by_its_object(api_schema: schemathesis.BaseSchema) -> None:
    """Found by the fuzzer: an edge keyed by something other than a side was a 422 at path `$` with msgspec's text."""
    job = json.loads(example_bytes("l-kitchen.json"))
    job["pieces"][0]["edges"] = {"frnt": {"kind": "wall"}}
    case = api_schema["/api/cad/generate"]["POST"].Case(body=job, media_type="application/json")
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"path": "pieces[0].edges", "code": "INVALID_VALUE",
                                          "message": "Invalid enum value 'frnt' for a key"}]


def test_a_real_job_through_every_job_operation_matches_the_schema(api_schema: schemathesis.BaseSchema) -> None:
    """Generated ids only ever find nothing (404); walk one real job so the 2xx bodies are checked too."""

    def call(method: str, path: str, expect: int, **kwargs: Any) -> Any:
        case = api_schema[path][method].Case(**kwargs)
        response = case.call(timeout=10)
        case.validate_response(response, checks=[c for c in CHECKS if c is not negative_data_rejection])
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response

    submitted = call("POST", "/api/cad/generate", 202, body=json.loads(example_bytes("l-kitchen.json")),
                     media_type="application/json", headers={"Idempotency-Key": "fuzz-walk"}).json()
    job = {"job_id": submitted["id"]}
    assert call("GET", "/api/jobs/{job_id}", 200, path_parameters=job).json()["status"] == "queued"
    listed = call("GET", "/api/jobs", 200, query={"status": "queued", "limit": 1}).json()["items"]
    assert [item["id"] for item in listed] == [job["job_id"]]
    call("GET", "/api/jobs/{job_id}/artifacts/{name}", 404, path_parameters={**job, "name": "piece-A.svg"})
    assert call("POST", "/api/jobs/{job_id}/cancel", 202, path_parameters=job).json()["status"] == "cancelled"
    call("POST", "/api/jobs/{job_id}/cancel", 409, path_parameters=job)
    events = call("GET", "/api/jobs/{job_id}/events", 200, path_parameters=job).text  # a finished job: one event
    assert "event: status" in events and '"status":"cancelled"' in events, events
    assert call("POST", "/api/jobs/{job_id}/retry", 202, path_parameters=job).json()["status"] == "queued"
    call("DELETE", "/api/jobs/{job_id}", 204, path_parameters=job)
    call("GET", "/api/jobs/{job_id}", 404, path_parameters=job)
