"""Shared benchmark helpers: a durable embedded PostgreSQL per run, fresh databases, interleaved rounds,
subprocesses that always stop, and writing one's own sections of docs/BENCHMARKS.md.

Every harness reports ratios against anchors measured in the same run, interleaved (A B C A B C), medians
of the rounds: the machine is shared and noisy, so absolute numbers drift while ratios hold.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
EXAMPLES = ROOT / "examples"
PYTHON = sys.executable
Size = TypeVar("Size", int, float)

# The raw anchor of the enqueue, NOTIFY and HTTP sections: one job's INSERT and its pg_notify in one statement, as
# a hand-written loop would send it (what `store.insert_job` sent before submissions shared statements).
RAW_INSERT = """INSERT INTO jobs (spec, job_ref, owner, priority, run_after, max_attempts, idempotency_key, request_sha256,
                  warnings)
VALUES (%(spec)s, %(job_ref)s, %(owner)s, %(priority)s, coalesce(%(run_after)s, now()), %(max_attempts)s,
        %(idempotency_key)s, %(request_sha256)s, %(warnings)s)
ON CONFLICT (coalesce(owner, ''), idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id, status, stage, created_at"""
RAW_INSERT_NOTIFY = f"""WITH inserted AS ({RAW_INSERT})
SELECT id, status, stage, created_at, pg_notify('studio_jobs', '') AS notified FROM inserted"""


# ---- CPU from /proc ------------------------------------------------------------------------------


TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(ppid, CPU seconds incl. reaped children) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "; fields[0] is state (field 3)
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))  # fields 14-17
    return ppid, (utime + stime + cutime + cstime) / TICK


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))):
            tree.setdefault(st[0], []).append(int(entry))
    return tree


def process_cpu(pid: int) -> float:
    """CPU seconds of one process, with those of the children it has reaped; 0 if it is gone."""
    st = _stat(pid)
    return st[1] if st else 0.0


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds of these processes and all their descendants (living, plus the reaped ones they waited for)."""
    tree, total, todo, seen = _children(), 0.0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        if st := _stat(pid):
            total += st[1]
            todo.extend(tree.get(pid, ()))
    return total


def postmaster_pid(server: Any) -> int | None:
    """The embedded server's postmaster (first line of postmaster.pid); None for BENCH_DATABASE_URL."""
    pgdata = getattr(server, "pgdata", None)
    if pgdata is None:
        return None
    try:
        return int((Path(pgdata) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# ---- the server -----------------------------------------------------------------------------------


@contextlib.contextmanager
def durable_server() -> Iterator[Any]:
    """A durable (fsync on) embedded PostgreSQL in its own data dir under /tmp; stopped and removed at exit.

    BENCH_DATABASE_URL points the harness at an existing server instead (databases are still created and
    dropped per run).
    """
    if os.environ.get("BENCH_DATABASE_URL"):
        yield _External(os.environ["BENCH_DATABASE_URL"])
        return
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    from ops.embedded import ensure_server

    tmp = tempfile.mkdtemp(prefix="studio-bench-pg-", dir="/tmp")
    server = ensure_server(tmp, durable=True)
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop("fast")
        shutil.rmtree(tmp, ignore_errors=True)


class _External:
    def __init__(self, url: str) -> None:
        self._info = psycopg.conninfo.conninfo_to_dict(url)

    def url(self, dbname: str = "postgres") -> str:
        i = self._info
        auth = i.get("user", "postgres") + (f":{i['password']}" if i.get("password") else "")
        return f"postgresql://{auth}@{i.get('host', '127.0.0.1')}:{i.get('port', 5432)}/{dbname}"


def create_database(server: Any, prefix: str, *, migrated: bool = True) -> str:
    """A fresh database (optionally with our migrations); returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = server.url(name)
    if migrated:
        import logging

        logging.getLogger("yoyo").setLevel(logging.WARNING)
        from ops.migrate import migrate

        migrate(url)
    return url


def drop_database(server: Any, url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def fresh_database(server: Any, prefix: str, *, migrated: bool = True) -> Iterator[str]:
    url = create_database(server, prefix, migrated=migrated)
    try:
        yield url
    finally:
        drop_database(server, url)


def quiet_logs() -> None:
    """Benchmarks measure work, not log rendering: drop our structlog output below warnings."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                        cache_logger_on_first_use=True)


def pg_version(server: Any) -> str:
    with psycopg.connect(server.url()) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        fsync = conn.execute("SHOW fsync").fetchone()
        sync = conn.execute("SHOW synchronous_commit").fetchone()
    assert row and fsync and sync
    return f"PostgreSQL {row[0]} (fsync={fsync[0]}, synchronous_commit={sync[0]})"


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"nproc {os.cpu_count()}, {cpu}, Python {platform.python_version()}"


# ---- specs ----------------------------------------------------------------------------------------


def example_spec(name: str = "island.json", *, pdf: bool = True, job_id: str = "BENCH") -> dict[str, Any]:
    """An example job; `pdf=False` makes the CAD stage the final one (options.outputs.pdf = null)."""
    raw = json.loads((EXAMPLES / name).read_text())
    raw["job"] = {**raw.get("job", {}), "id": job_id}
    if not pdf:
        raw.setdefault("options", {}).setdefault("outputs", {})["pdf"] = None
    return raw


# ---- rounds and statistics ------------------------------------------------------------------------


def interleaved(rounds: int, variants: Sequence[str], run: Callable[[str, int], float],
                log: Callable[[str], None] | None = None) -> dict[str, list[float]]:
    """Run A B C, C B A, A B C ... `rounds` times; returns every sample per variant.

    The order flips every round, so no variant always runs right after the same neighbour (the raw-insert load,
    say) or always first: drift and after-effects fall on every variant alike."""
    samples: dict[str, list[float]] = {v: [] for v in variants}
    for r in range(rounds):
        for v in (variants if r % 2 == 0 else list(reversed(variants))):
            value = run(v, r)
            samples[v].append(value)
            if log:
                log(f"round {r + 1}/{rounds} {v}: {value:,.2f}")
    return samples


def paired_ratio(samples: dict[str, list[float]], a: str, b: str) -> float:
    """Median over rounds of a/b within each round: on a noisy machine the drift between rounds cancels."""
    return statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True))


def med(values: Sequence[float]) -> float:
    return statistics.median(values)


def pct(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def eprint(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


def fmt_n(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


# ---- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def process(args: Sequence[str], env: dict[str, str] | None = None, *, grace_s: float = 10.0,
            log_path: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A child process in its own process group, always stopped (SIGTERM, then SIGKILL) on exit."""
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(list(args), env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True, cwd=ROOT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if log_path:
            out.close()  # type: ignore[union-attr]


def log_file(name: str) -> Path:
    """Where a child process's output goes: /tmp/studio-bench-logs/NAME.log (kept for a post-mortem)."""
    d = Path(tempfile.gettempdir()) / "studio-bench-logs"
    d.mkdir(exist_ok=True)
    return d / f"{name}.log"


def worker_env(url: str, **extra: object) -> dict[str, str]:
    """Environment for `studio worker` against `url`; logs above info only (one line per stage is real I/O)."""
    env = {"DATABASE_URL": url, "LOG_LEVEL": "warning", "LOG_FORMAT": "json", "POLL_INTERVAL_S": "5",
           "JOB_RETENTION_DAYS": "0"}
    env.update({k.upper(): str(v) for k, v in extra.items()})
    return env


def studio(*args: str) -> list[str]:
    return [PYTHON, "-m", "ops.cli", *args]


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(interval_s)


def wait_port(port: int, timeout_s: float = 30.0) -> None:
    def up() -> bool:
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", port)) == 0

    wait_for(up, timeout_s, f"port {port}")


# ---- the document ---------------------------------------------------------------------------------


def load_note(start: float) -> str:
    """The 1-minute load average at the start and end of a run: the machine is shared, and a busy one slows
    everything (the ratios, measured in the same rounds, less so)."""
    return f"Load average (1 min) {start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} cores."


def header(command: str, server_desc: str) -> str:
    return (f"Command: `{command}`. Machine: {machine()}. {server_desc}, durable, loopback. "
            f"Date: {dt.date.today().isoformat()}.")


def write_section(title: str, body: str, path: Path = DOC) -> None:
    """Replace (or append) the `## title` section of docs/BENCHMARKS.md, leaving every other section alone.

    The file is read right before writing: other harnesses (and other people) own the other sections.
    """
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round (smoke test)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3; 1 with --quick)")
    parser.add_argument("--write", action="store_true", help="replace this section in docs/BENCHMARKS.md")
    parser.add_argument("--json", dest="json_path", type=Path, help="also write the raw results as JSON here")
    return parser


def sized_run(description: str | None, argv: list[str] | None, option: str, what: str, *, full: Size,
              quick: Size) -> tuple[argparse.Namespace, int, Size]:
    """A harness's start: logs quieted, the common options and one size option (`--jobs`), whose default is `full`
    (`quick` with --quick). Returns the arguments, the number of rounds and the size."""
    quiet_logs()
    parser = base_parser(description or "")
    parser.add_argument(option, type=type(full), default=None, help=f"{what} (default {full:g})")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    rounds = args.rounds or (1 if args.quick else 3)
    size = getattr(args, option.removeprefix("--").replace("-", "_"))
    return args, rounds, size or (quick if args.quick else full)


def emit(title: str, body: str, results: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the section, and write it to the doc (--write) and the raw results (--json)."""
    print(f"## {title}\n\n{body.strip()}\n", flush=True)
    if args.json_path:
        args.json_path.write_text(json.dumps(results, indent=2, default=str))
    if args.write and not args.quick:
        write_section(title, body)
