"""The `studio` command line as operators use it: real subprocesses, a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import psycopg

from tests.conftest import ROOT


def studio(*args: str, db_url: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ops.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "DATABASE_URL": db_url, "LOG_FORMAT": "json", **env})


def lines(out: str) -> list[dict]:  # type: ignore[type-arg]
    """The JSON log lines in a command's output (other output, like `jobs show`'s document, is skipped)."""
    found = []
    for line in out.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and "event" in event:
            found.append(event)
    return found


def insert_jobs(db_url: str) -> tuple[str, str]:
    with psycopg.connect(db_url) as conn:
        queued = conn.execute("INSERT INTO jobs (spec, job_ref) VALUES ('{}', 'Q-1') RETURNING id").fetchone()[0]
        failed = conn.execute("""INSERT INTO jobs (spec, job_ref, status, last_error, finished_at)
                                 VALUES ('{}', 'F-1', 'failed', 'boom', now() - interval '90 days')
                                 RETURNING id""").fetchone()[0]
    return str(queued), str(failed)


def test_migrate_is_idempotent_and_logs_it(db_url: str) -> None:
    r = studio("migrate", db_url=db_url)
    assert r.returncode == 0, r.stderr
    assert [e["applied"] for e in lines(r.stdout) if e["event"] == "database_initialized"] == [0]


def test_jobs_and_queue_commands(db_url: str) -> None:
    queued, failed = insert_jobs(db_url)
    listing = studio("jobs", "list", db_url=db_url)
    assert listing.returncode == 0 and queued in listing.stdout and failed in listing.stdout and "boom" in listing.stdout
    only_failed = studio("jobs", "list", "--status", "failed", db_url=db_url)
    assert failed in only_failed.stdout and queued not in only_failed.stdout
    shown = json.loads(studio("jobs", "show", failed, db_url=db_url).stdout)
    assert shown["status"] == "failed" and shown["last_error"] == "boom" and shown["attempt_history"] == []
    stats = json.loads(studio("queue", "stats", db_url=db_url).stdout)
    assert {(s["status"], s["stage"], s["jobs"]) for s in stats} == {("queued", "cad", 1), ("failed", "cad", 1)}
    assert studio("jobs", "retry", queued, db_url=db_url).returncode == 1  # queued: nothing to retry
    assert "queued" in studio("jobs", "retry", failed, db_url=db_url).stdout
    assert "cancelled" in studio("jobs", "cancel", queued, db_url=db_url).stdout
    missing = studio("jobs", "show", str(uuid.uuid4()), db_url=db_url)
    assert missing.returncode == 1 and "no job" in missing.stderr
    purged = studio("jobs", "purge", "--older-than-days", "0", db_url=db_url)
    assert "purged 1 finished jobs" in purged.stdout  # the cancelled one; the retried one is queued again


def test_db_echo_logs_statement_names_and_durations_without_parameters(db_url: str) -> None:
    queued, _ = insert_jobs(db_url)
    r = studio("jobs", "show", queued, db_url=db_url, DB_ECHO="true", LOG_LEVEL="debug")
    echoed = [e for e in lines(r.stdout) if e["event"] == "sql_executed"]
    assert {e["query"] for e in echoed} >= {"get_job", "list_job_attempts", "list_artifacts"}
    assert all(e["duration_ms"] >= 0 for e in echoed)
    assert queued not in json.dumps(echoed)  # the job id parameter is not logged
    quiet = studio("jobs", "show", queued, db_url=db_url)
    assert not [e for e in lines(quiet.stdout) if e["event"] == "sql_executed"]


def test_the_database_password_never_reaches_a_log_line(db_url: str) -> None:
    url = "postgresql://studio:hunter2-secret@127.0.0.1:9/studio?sslmode=disable"
    proc = subprocess.Popen([sys.executable, "-m", "ops.cli", "worker"], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "DATABASE_URL": url, "LOG_FORMAT": "json", "POLL_INTERVAL_S": "0.2"})
    try:
        out, _ = proc.communicate(timeout=4)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    events = lines(out)
    assert any(e["event"] in ("claim_failed", "listener_disconnected") for e in events), out[-2000:]
    assert "hunter2-secret" not in out
    assert any("studio:***@127.0.0.1:9" in json.dumps(e) for e in events)


def test_console_format_for_people(db_url: str) -> None:
    r = studio("migrate", db_url=db_url, LOG_FORMAT="console")
    assert "database_initialized" in r.stdout and not r.stdout.lstrip().startswith("{")


def test_bad_configuration_names_the_variable(db_url: str) -> None:
    r = studio("migrate", db_url=db_url, PORT="eighty")
    assert r.returncode != 0 and "PORT" in r.stderr
