"""Job status changes fanned out from one LISTEN connection to every open Server-Sent Events stream."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator

import msgspec
import psycopg


class EventHub:
    """Per-job subscriber queues; `dispatch` is the listener's callback for `studio_job_events`."""

    def __init__(self) -> None:
        self._subs: dict[uuid.UUID, set[asyncio.Queue[str]]] = {}

    @contextlib.contextmanager
    def subscribe(self, job_id: uuid.UUID) -> Iterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=64)
        self._subs.setdefault(job_id, set()).add(queue)
        try:
            yield queue
        finally:
            subs = self._subs.get(job_id)
            if subs is not None:
                subs.discard(queue)
                if not subs:
                    del self._subs[job_id]

    def dispatch(self, notify: psycopg.Notify) -> None:
        try:
            job_id = uuid.UUID(msgspec.json.decode(notify.payload)["id"])
        except (msgspec.DecodeError, KeyError, ValueError, TypeError):
            return
        for queue in self._subs.get(job_id, ()):
            with contextlib.suppress(asyncio.QueueFull):  # a slow reader re-reads the row anyway
                queue.put_nowait(notify.payload)

    def wake_all(self) -> None:
        """After the listener reconnects: every stream re-reads its job, since notifications were missed."""
        for subs in self._subs.values():
            for queue in subs:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait("")
