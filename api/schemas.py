"""What the API sends back: msgspec Structs, so the OpenAPI docs show the real shapes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from msgspec import Struct

from pipeline.rows import AttemptInfo  # a job's attempts go out as the store reads them


class Problem(Struct):
    """One thing wrong with a request or a job: where (`path`), what (`code`) and why (`message`)."""

    path: str
    message: str
    code: str = "INVALID"


class ErrorBody(Struct):
    status_code: int
    detail: str
    errors: list[Problem] = []
    warnings: list[Problem] = []


class Submitted(Struct):
    id: uuid.UUID
    status: str
    status_url: str
    events_url: str
    created: bool  # False: an earlier request with the same Idempotency-Key made this job
    warnings: list[Problem] = []


class ArtifactInfo(Struct):
    name: str
    stage: str
    content_type: str
    size_bytes: int
    sha256: str
    url: str


class JobView(Struct):
    id: uuid.UUID
    job_ref: str
    status: str
    stage: str
    attempts: int
    max_attempts: int
    priority: int
    created_at: dt.datetime
    updated_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    run_after: dt.datetime
    cancel_requested: bool
    error: str | None
    warnings: list[Any]
    summary: dict[str, Any] | None
    artifacts: list[ArtifactInfo]
    attempt_history: list[AttemptInfo]


class JobListItem(Struct):
    id: uuid.UUID
    job_ref: str
    status: str
    stage: str
    attempts: int
    error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None
    url: str


class JobPage(Struct):
    items: list[JobListItem]
    next_cursor: str | None


class JobState(Struct):
    id: uuid.UUID
    status: str
    stage: str
