"""Real `studio` processes: kill -9, SIGTERM and a PostgreSQL restart in the middle of the work."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.acceptance.conftest import Cluster, Proc, free_port
from tests.conftest import EXAMPLES

FAULTY = {"STAGE_FUNCTION": "tests.stage_faults:faulty_stage"}


def job(job_id: str, action: str) -> dict:  # type: ignore[type-arg]
    raw = json.loads((EXAMPLES / "island.json").read_text())
    raw["job"] = {"id": job_id, "name": action}
    return raw


def _alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()  # a zombie is dead, just not reaped
    except FileNotFoundError:
        return False


def test_kill_9_mid_stage_is_rescued_after_the_lease(cluster: Cluster) -> None:
    cluster.api()
    doomed = cluster.worker(**FAULTY)
    job_id = cluster.submit(job("K9", "cad:sleep:2")).json()["id"]
    runs = Path(cluster.env["STUDIO_TEST_FAULT_DIR"]) / "K9-cad"
    deadline = time.monotonic() + 30
    while not runs.exists():  # the stage itself has started (running is set at claim, before the child runs)
        assert time.monotonic() < deadline, "the stage never started"
        time.sleep(0.02)
    stage_pid = int(runs.read_text().split()[0])
    doomed.signal(signal.SIGKILL)
    doomed.p.wait(timeout=10)
    # Its stage process dies with it (PR_SET_PDEATHSIG) instead of sleeping out its 2 s as an orphan.
    deadline = time.monotonic() + 1.0
    while _alive(stage_pid):
        assert time.monotonic() < deadline, "the killed worker's stage process is still running"
        time.sleep(0.02)
    cluster.worker(**FAULTY)
    done = cluster.wait_job(job_id)
    assert done["status"] == "succeeded"
    history = [(a["stage"], a["outcome"]) for a in done["attempt_history"]]
    assert history == [("cad", "lost"), ("cad", "succeeded"), ("pdf", "succeeded")]
    assert sorted(a["name"] for a in done["artifacts"]) == ["cad.txt", "pdf.txt"]  # no duplicates
    assert len(runs.read_text().splitlines()) == 2  # the killed run and the rescue


def test_sigterm_mid_stage_exits_cleanly_and_requeues_without_spending_an_attempt(cluster: Cluster) -> None:
    cluster.api()
    worker = cluster.worker(**FAULTY, SHUTDOWN_GRACE_S="0.5")
    job_id = cluster.submit(job("TERM", "cad:sleep:30")).json()["id"]
    cluster.wait_job(job_id, statuses=("running",))
    started = time.monotonic()
    assert worker.stop(timeout=20) == 0
    assert time.monotonic() - started < 10
    released = cluster.http.get(f"/api/jobs/{job_id}").json()
    assert (released["status"], released["attempts"]) == ("queued", 0)
    assert [a["outcome"] for a in released["attempt_history"]] == ["released"]
    assert worker.events("job_released") and worker.events("worker_stopped")


def test_every_job_finishes_across_a_postgres_restart(cluster: Cluster, embedded_server) -> None:  # type: ignore[no-untyped-def]
    cluster.api()
    worker = cluster.worker(**FAULTY)
    before = [cluster.submit(job(f"R{i}", "cad:sleep:0.3")).json()["id"] for i in range(4)]
    embedded_server.stop("fast")
    try:
        deadline = time.monotonic() + 20
        while cluster.http.get("/health").status_code != 503:
            assert time.monotonic() < deadline, "health stayed 200 with the database down"
            time.sleep(0.1)
        assert cluster.http.get("/health").json() == {"status": "unhealthy"}
    finally:
        embedded_server.start()
    deadline = time.monotonic() + 30
    while cluster.http.get("/health").status_code != 200:
        assert time.monotonic() < deadline, "the API did not recover by itself"
        time.sleep(0.2)
    after = [cluster.submit(job(f"S{i}", "ok")).json()["id"] for i in range(3)]
    finished = [cluster.wait_job(j) for j in before + after]
    assert [j["status"] for j in finished] == ["succeeded"] * 7
    assert worker.events("listener_disconnected")
    # Polling may finish the jobs before the listener's capped backoff (up to ~5 s) reconnects: wait for it.
    deadline = time.monotonic() + 20
    while len(worker.events("listener_connected")) < 2:
        assert time.monotonic() < deadline, "the worker's listener never reconnected"
        time.sleep(0.1)


@pytest.mark.parametrize("workers", [2])
def test_worker_processes_split_the_work_and_run_each_stage_once(cluster: Cluster, workers: int) -> None:
    cluster.api()
    procs = [cluster.worker(**FAULTY) for _ in range(workers)]
    ids = [cluster.submit(job(f"N{i}", "cad:sleep:0.05")).json()["id"] for i in range(12)]
    assert all(cluster.wait_job(j)["status"] == "succeeded" for j in ids)
    for i in range(12):
        for stage in ("cad", "pdf"):
            runs = open(f"{cluster.env['STUDIO_TEST_FAULT_DIR']}/N{i}-{stage}").read().splitlines()
            assert len(runs) == 1
    assert all(p.events("stage_finished") for p in procs), "one worker did all the work"


def test_events_stream_follows_the_job_until_it_ends(cluster: Cluster) -> None:
    cluster.api()
    job_id = cluster.submit(job("SSE", "cad:sleep:0.5")).json()["id"]
    seen: list[tuple[str, str]] = []
    with cluster.http.stream("GET", f"/api/jobs/{job_id}/events", timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        cluster.worker(**FAULTY)  # started after the stream opened: every change arrives live
        for line in r.iter_lines():
            if line.startswith("data:"):
                event = json.loads(line[5:])
                seen.append((event["status"], event["stage"]))
    assert seen[0] == ("queued", "cad") and seen[-1] == ("succeeded", "pdf")
    assert ("running", "cad") in seen and ("running", "pdf") in seen


def test_web_concurrency_serves_from_several_processes_that_stop_together(cluster: Cluster) -> None:
    api = cluster.api(WEB_CONCURRENCY="2")
    deadline = time.monotonic() + 30
    while len(started := api.events("api_started")) < 2:  # each worker process opens its own pool and says so
        assert time.monotonic() < deadline, "".join(api.raw[-20:])
        time.sleep(0.05)
    assert all(e["service"] == "api" for e in started)  # each worker configured its own JSON logs
    submitted = cluster.submit(job("WC2", "ok"))
    assert submitted.status_code == 202
    api.wait_for_event("http_request", where=lambda e: e.get("job_id") == submitted.json()["id"])
    assert api.stop() == 0


def test_studio_up_stops_its_worker_and_postgres_on_sigterm() -> None:
    # A process manager stops `studio up` with SIGTERM. uvicorn re-raises it after its own shutdown, and with the
    # default handler that ended the process before it stopped the worker and the embedded PostgreSQL.
    data = Path(tempfile.mkdtemp(prefix="studio-up-test-"))
    data.chmod(0o755)  # the embedded server runs as its own user
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_DIRECT_URL")}
    env.update(STUDIO_DATA_DIR=str(data), PORT=str(free_port()), HOST="127.0.0.1", LOG_FORMAT="json",
               SHUTDOWN_GRACE_S="2", PYTHONUNBUFFERED="1")
    up = Proc(["up"], env)
    try:
        worker_pid = up.wait_for_event("studio_up", timeout=120)["worker_pid"]
        up.wait_for_event("worker_started")
        up.wait_for_event("api_started")
        assert (data / "pgdata" / "postmaster.pid").exists()
        assert up.stop() == 0
        assert up.events("worker_stopped"), "".join(up.raw[-20:])
        assert not Path(f"/proc/{worker_pid}").exists()
        assert not (data / "pgdata" / "postmaster.pid").exists(), "PostgreSQL is still running"
    finally:
        up.stop()
        if (data / "pgdata" / "postmaster.pid").exists():
            subprocess.run(["pkill", "-f", "--", f"-D {data}/pgdata"], check=False)
        shutil.rmtree(data, ignore_errors=True)
