"""Connections: the pool for queries and the dedicated LISTEN connection that wakes workers and streams."""

from __future__ import annotations

import asyncio
import contextlib
import random
import select
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import psycopg
import structlog
from psycopg.rows import dict_row
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool

import msgspec
from ops.config.dsn import is_pooler, mask_dsn
from ops.config.settings import Settings

log = structlog.get_logger()

# msgspec reads and writes jsonb several times faster than the json module, and knows Decimal and Structs.
set_json_dumps(msgspec.json.encode)
set_json_loads(msgspec.json.decode)


def pool_kwargs(url: str) -> dict[str, object]:
    """Pooled connections are autocommit: every store function is one statement, which is then its own transaction
    in one round trip (psycopg's implicit BEGIN and the COMMIT on return were two more, a third of a claim's time).
    A write of several statements says so with `conn.transaction()`.

    Transaction poolers (pgbouncer, Supavisor) cannot keep prepared statements across transactions.
    """
    kwargs: dict[str, object] = {"row_factory": dict_row, "autocommit": True}
    if is_pooler(url):
        kwargs["prepare_threshold"] = None
    return kwargs


async def check_connection(conn: psycopg.AsyncConnection[object]) -> None:
    """Checkout check without a round trip when nothing happened: an idle connection's socket has data (or EOF)
    only when the server spoke to it (a restart, a terminated backend); only then ask the server.

    psycopg_pool's `check_connection` costs a round trip and two autocommit switches on every checkout:
    a third of a claim's time on an idle worker.
    """
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    if readable:
        await AsyncConnectionPool.check_connection(conn)


def make_pool(settings: Settings, *, min_size: int | None = None, max_size: int | None = None) -> AsyncConnectionPool:
    """A pool that drops broken connections on checkout, so it heals by itself after a database restart."""
    return AsyncConnectionPool(
        settings.database_url,
        min_size=settings.pool_min_size if min_size is None else min_size,
        max_size=settings.pool_max_size if max_size is None else max_size,
        kwargs=pool_kwargs(settings.database_url),
        check=check_connection,
        open=False,
        name="studio",
        timeout=10.0,
    )


@contextlib.asynccontextmanager
async def open_pool(settings: Settings, **sizes: int) -> AsyncIterator[AsyncConnectionPool]:
    """Open a pool without waiting for the database: requests fail fast (503) until it is reachable."""
    pool = make_pool(settings, **sizes)
    await pool.open(wait=False)
    try:
        yield pool
    finally:
        await pool.close()


async def listen(
    url: str,
    channels: tuple[str, ...],
    on_notify: Callable[[psycopg.Notify], None],
    *,
    on_connect: Callable[[], Awaitable[None] | None] | None = None,
    stop: asyncio.Event,
    max_backoff_s: float = 5.0,
) -> None:
    """LISTEN on its own autocommit connection until `stop`; reconnect with capped backoff when it drops.

    `on_connect` runs after every (re)connection, once LISTEN is in place: notifications sent while we
    were away are lost, so the caller drains the queue then (procrastinate's and River's rule).
    """
    backoff = 0.1
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                for channel in channels:
                    await conn.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(channel)))
                log.info("listener_connected", channels=list(channels))
                backoff = 0.1
                if on_connect is not None:
                    result = on_connect()
                    if result is not None:
                        await result
                gen = conn.notifies()
                stopper = asyncio.ensure_future(stop.wait())
                nxt: asyncio.Future[psycopg.Notify] | None = None
                try:
                    while True:
                        nxt = asyncio.ensure_future(anext(gen))
                        done, _ = await asyncio.wait({nxt, stopper}, return_when=asyncio.FIRST_COMPLETED)
                        if nxt not in done:
                            return
                        on_notify(nxt.result())
                finally:
                    stopper.cancel()
                    # Stopped, or cancelled mid-wait: a pending read holds the connection's lock, and leaving the
                    # connection (its rollback, then close) would wait on that lock forever.
                    if nxt is not None and not nxt.done():
                        nxt.cancel()
                        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, psycopg.Error):
                            await nxt
        except (psycopg.OperationalError, psycopg.InterfaceError, StopAsyncIteration) as exc:
            if stop.is_set():
                return
            log.warning("listener_disconnected", error=str(exc).strip()[:300], retry_in_s=round(backoff, 2),
                        dsn=mask_dsn(url))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=backoff)
            backoff = min(max_backoff_s, backoff * 2) * (0.8 + 0.4 * random.random())  # noqa: S311


Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """Group commit: items that arrive while one write is in flight go out together in the next one (one
    statement, one commit, one fsync), so none waits longer than one write, and an idle caller not at all.

    `write(items)` returns one result per item, in order; an exception in that list is raised to its item's
    caller alone. A write the database refuses for its data (a DataError or IntegrityError: one bad item) is
    retried item by item, so that item cannot fail the others; any other failure (the database unreachable, a
    timeout) goes to every caller of the batch at once, instead of being waited out once per item.
    """

    def __init__(self, write: Callable[[list[Item]], Awaitable[Sequence[Result | BaseException]]],
                 max_batch: int = 200) -> None:
        self.write = write
        self.max_batch = max_batch  # a burst of thousands goes out in statements of this many, one after another
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        fut: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, fut))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await fut

    async def drain(self) -> None:
        """Wait until every item submitted so far is written (or has failed): a worker calls it before exiting,
        so no result is left in memory, even one whose caller was cancelled."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
            try:
                results = await self.write([item for item, _ in batch])
            except Exception as exc:
                if len(batch) > 1 and isinstance(exc, (psycopg.DataError, psycopg.IntegrityError)):
                    # find the culprit: every other item still commits
                    for entry in batch:
                        try:
                            _settle([entry], await self.write([entry[0]]))
                        except Exception as one:
                            _settle([entry], [one])
                else:
                    _settle(batch, [exc] * len(batch))
                continue
            _settle(batch, results)


def _settle(batch: list[tuple[Item, asyncio.Future[Result]]], results: Sequence[Result | BaseException]) -> None:
    for (_, fut), result in zip(batch, results, strict=True):
        if fut.done():  # its caller was cancelled (a client gone, a shutdown): the write stands or not on its own
            continue
        if isinstance(result, BaseException):
            fut.set_exception(result)
        else:
            fut.set_result(result)
