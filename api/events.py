"""Job status changes fanned out from one LISTEN connection to every open Server-Sent Events stream."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator

import msgspec
import psycopg


class StreamsFull(Exception):
    """No room for another open stream: the client's own cap or the process's."""


class EventHub:
    """Per-job subscriber queues; `dispatch` is the listener's callback for `studio_job_events`.

    Open streams are bounded per client and in total: each one holds a socket and a queue for as long as its
    job runs."""

    def __init__(self, per_client: int = 20, total: int = 500) -> None:
        self._subs: dict[uuid.UUID, set[asyncio.Queue[str]]] = {}
        self.per_client, self.total = per_client, total
        self._open: dict[str, int] = {}  # client -> open streams

    def room_for(self, client: str) -> str | None:
        """Why another stream for this client would be refused, or None when there is room."""
        if sum(self._open.values()) >= self.total:
            return f"this server has {self.total} event streams open, its most"
        if self._open.get(client, 0) >= self.per_client:
            return f"this client has {self.per_client} event streams open, its most; close one first"
        return None

    @contextlib.contextmanager
    def stream_slot(self, client: str) -> Iterator[None]:
        """Hold one of the client's stream slots for as long as its stream is open."""
        reason = self.room_for(client)
        if reason is not None:
            raise StreamsFull(reason)
        self._open[client] = self._open.get(client, 0) + 1
        try:
            yield
        finally:
            self._open[client] -= 1
            if not self._open[client]:
                del self._open[client]

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
