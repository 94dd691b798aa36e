"""Real processes: `studio api` and `studio worker` as subprocesses, talking to a real PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """A `studio` subprocess whose JSON log lines are collected for assertions."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args = args
        self.lines: list[dict] = []  # type: ignore[type-arg]
        self.raw: list[str] = []
        self.p = subprocess.Popen([sys.executable, "-m", "ops.cli", *args], cwd=ROOT, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.raw.append(line)
            try:
                self.lines.append(json.loads(line))
            except json.JSONDecodeError:
                pass

    def events(self, name: str) -> list[dict]:  # type: ignore[type-arg]
        return [e for e in list(self.lines) if e.get("event") == name]

    def wait_for_event(self, name: str, timeout: float = 30, where: Callable[[dict], bool] = lambda e: True) -> dict:  # type: ignore[type-arg]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events(name):
                if where(e):
                    return e
            if self.p.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no {name!r} from studio {' '.join(self.args)}; output:\n{''.join(self.raw[-40:])}")

    def signal(self, sig: int) -> None:
        self.p.send_signal(sig)

    def stop(self, timeout: float = 30) -> int:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self._reader.join(timeout=5)
        return self.p.returncode


class Cluster:
    """Start API and worker processes against one database; stops them all at the end."""

    def __init__(self, db_url: str, fault_dir: Path) -> None:
        self.db_url = db_url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DATABASE_URL": db_url, "PORT": str(self.port), "HOST": "127.0.0.1",
                    "LOG_FORMAT": "json", "POLL_INTERVAL_S": "1", "HEARTBEAT_S": "0.5", "LEASE_S": "3",
                    "SHUTDOWN_GRACE_S": "2", "RETRY_BASE_S": "0.1", "STUDIO_TEST_FAULT_DIR": str(fault_dir),
                    "PYTHONUNBUFFERED": "1"}
        self.procs: list[Proc] = []
        self.http = httpx.Client(base_url=self.base, timeout=10)

    def api(self, **env: str) -> Proc:
        proc = Proc(["api"], {**self.env, **env})
        self.procs.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.http.get("/health").status_code == 200:
                    return proc
            except httpx.TransportError:
                pass
            assert proc.p.poll() is None, "".join(proc.raw)
            time.sleep(0.05)
        raise AssertionError("API did not become healthy:\n" + "".join(proc.raw))

    def worker(self, *args: str, **env: str) -> Proc:
        proc = Proc(["worker", *args], {**self.env, **env})
        self.procs.append(proc)
        proc.wait_for_event("worker_started")
        return proc

    def submit(self, body: bytes | dict, **headers: str) -> httpx.Response:  # type: ignore[type-arg]
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.http.post("/api/cad/generate", content=content,
                              headers={"content-type": "application/json", **headers})

    def wait_job(self, job_id: str, statuses: tuple[str, ...] = ("succeeded", "failed", "cancelled"),
                 timeout: float = 90) -> dict:  # type: ignore[type-arg]
        deadline = time.monotonic() + timeout
        job: dict = {}  # type: ignore[type-arg]
        while time.monotonic() < deadline:
            try:
                job = self.http.get(f"/api/jobs/{job_id}").json()
            except httpx.TransportError:
                job = {}
            if job.get("status") in statuses:
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} still {job.get('status')}: {job}")

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.http.close()


@pytest.fixture
def cluster(db_url: str) -> Iterator[Cluster]:
    with tempfile.TemporaryDirectory(prefix="studio-faults-") as faults:
        c = Cluster(db_url, Path(faults))
        try:
            yield c
        finally:
            c.close()
