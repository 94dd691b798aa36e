"""SIGTERM to a real `studio worker`, alone or with its whole process group (systemd's KillMode=control-group,
a terminal's Ctrl+C), at either stage, on the job's last attempt: the job goes back to `queued` with its attempt
refunded, never `failed`, never left `running`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.acceptance.conftest import Cluster, Proc
from tests.acceptance.test_processes import FAULTY, _alive, job
from tests.conftest import ROOT


class GroupProc(Proc):
    """A `studio worker` leading its own process group, as under systemd or a terminal."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args = args
        self.lines = []
        self.raw = []
        self.p = subprocess.Popen([sys.executable, "-m", "ops.cli", *args], cwd=ROOT, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()


def _wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared: the stage did not start"
        time.sleep(0.02)


@pytest.mark.parametrize("stage", ["cad", "pdf"])
@pytest.mark.parametrize("target", ["worker", "group"])
def test_sigterm_on_the_last_attempt_requeues_with_the_attempt_refunded(cluster: Cluster, stage: str,
                                                                        target: str) -> None:
    cluster.api(MAX_ATTEMPTS="1")  # the job's max_attempts is set at submission: every attempt is its last
    env = {**cluster.env, **FAULTY, "SHUTDOWN_GRACE_S": "0.5"}
    worker = GroupProc(["worker"], env)
    cluster.procs.append(worker)
    worker.wait_for_event("worker_started")
    name = f"T{stage}{target}"
    job_id = cluster.submit(job(name, f"{stage}:sleep:60")).json()["id"]
    runs = Path(cluster.env["STUDIO_TEST_FAULT_DIR"]) / f"{name}-{stage}"
    _wait_for(runs)  # the stage itself is running in its child process
    stage_pid = int(runs.read_text().split()[0])
    if target == "group":
        os.killpg(worker.p.pid, signal.SIGTERM)  # the stage's process gets it too
    else:
        worker.p.send_signal(signal.SIGTERM)
    assert worker.p.wait(timeout=30) == 0
    released = cluster.http.get(f"/api/jobs/{job_id}").json()
    assert released["max_attempts"] == 1
    assert (released["status"], released["stage"], released["attempts"]) == ("queued", stage, 0), released
    history = [(a["stage"], a["outcome"]) for a in released["attempt_history"]]
    assert history == ([("cad", "released")] if stage == "cad" else [("cad", "succeeded"), ("pdf", "released")])
    assert not worker.events("stage_crashed")
    assert [e["outcome"] for e in worker.events("stage_finished") if e["stage"] == stage] == ["released"]
    deadline = time.monotonic() + 5
    while _alive(stage_pid):  # the worker killed its stage process past the grace period
        assert time.monotonic() < deadline, "the stage process outlived its worker"
        time.sleep(0.02)
