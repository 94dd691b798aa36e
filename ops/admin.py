"""Operator commands over the same queries as the API: `studio jobs ...` and `studio queue stats`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from ops.config.settings import Settings
from ops.embedded import resolve_database
from pipeline import store
from pipeline.db import open_pool


def _print(obj: Any) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(obj)).decode() + "\n")


def _run(settings: Settings, fn: Callable[[Any], Awaitable[int]]) -> int:
    if not settings.database_url:
        settings, _ = resolve_database(settings)

    async def main() -> int:
        async with open_pool(settings, min_size=1, max_size=2) as pool:
            await pool.wait(timeout=10)
            return await fn(pool)

    return asyncio.run(main())


def jobs_command(settings: Settings, args: argparse.Namespace) -> int:
    async def run(pool: Any) -> int:
        match args.action:
            case "list":
                rows = await store.list_jobs(pool, status=args.status, limit=args.limit)
                for row in rows:
                    print(f"{row.id}  {row.status:<9}  {row.stage:<3}  {row.job_ref:<20}  "
                          f"{row.created_at:%Y-%m-%d %H:%M:%S}  {row.last_error or ''}")
                return 0
            case "show":
                job = await store.get_job(pool, uuid.UUID(args.id))
                if job is None:
                    print(f"no job {args.id}", file=sys.stderr)
                    return 1
                shown = msgspec.structs.asdict(job)
                shown.pop("spec")
                shown["attempt_history"] = await store.list_job_attempts(pool, job.id)
                shown["artifacts"] = await store.list_artifacts(pool, job.id)
                _print(shown)
                return 0
            case "retry" | "cancel":
                fn = store.retry_job if args.action == "retry" else store.cancel_job
                row = await fn(pool, uuid.UUID(args.id))
                if row is None:
                    status = await store.job_exists(pool, uuid.UUID(args.id))
                    print(f"cannot {args.action} job {args.id}: " + (f"it is {status}" if status else "no such job"),
                          file=sys.stderr)
                    return 1
                print(f"{row.id} {row.status}")
                return 0
            case "purge":
                total = 0
                while pruned := await store.prune_jobs(pool, days=args.older_than_days):
                    total += pruned
                print(f"purged {total} finished jobs older than {args.older_than_days:g} days")
                return 0
        return 2

    return _run(settings, run)


def queue_command(settings: Settings, args: argparse.Namespace) -> int:
    async def run(pool: Any) -> int:
        _print(await store.queue_stats(pool))
        return 0

    return _run(settings, run)


def add_admin_commands(sub: Any) -> None:
    jobs = sub.add_parser("jobs", help="inspect and operate on jobs")
    jobs.set_defaults(func=jobs_command)
    actions = jobs.add_subparsers(dest="action", required=True)
    ls = actions.add_parser("list", help="newest jobs first")
    ls.add_argument("--status", choices=["queued", "running", "succeeded", "failed", "cancelled"])
    ls.add_argument("--limit", type=int, default=20)
    for name in ("show", "retry", "cancel"):
        actions.add_parser(name, help=f"{name} one job").add_argument("id")
    purge = actions.add_parser("purge", help="delete finished jobs and their artifacts")
    purge.add_argument("--older-than-days", type=float, default=30.0)
    queue = sub.add_parser("queue", help="queue depth and age")
    queue.set_defaults(func=queue_command)
    queue.add_subparsers(dest="action", required=True).add_parser("stats", help="jobs by status and stage")
