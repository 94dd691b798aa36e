"""A real browser (Debian's headless Chromium, driven by Playwright's Python package) and static pages on loopback.

No browser is ever downloaded: Playwright launches the system Chromium (`.ci/run` installs Debian's package
when it runs as root). Without Chromium or the playwright package the browser tests skip and say why.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.conftest import Cluster, cluster, free_port  # noqa: F401  (the real-process fixture)
from tests.conftest import EXAMPLES

PAGE = Path(__file__).resolve().parent / "page"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def chromium_path() -> tuple[str | None, str]:
    """(the executable or None, where we looked)."""
    found = os.environ.get("STUDIO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return (found if os.access(found, os.X_OK) else None), found


class StaticSite:
    """The test page on its own origin (http://127.0.0.1:<port>), with examples/l-kitchen.json next to it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.requests: list[str] = []
        handler = functools.partial(_Handler, site=self, directory=str(PAGE))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, site: StaticSite, **kwargs: Any) -> None:
        self.site = site
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        if path.split("?", 1)[0] == "/l-kitchen.json":  # a copy of the example, served from where it lives
            return str(EXAMPLES / "l-kitchen.json")
        return super().translate_path(path)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        self.site.requests.append(format % args)


@pytest.fixture
def static_site() -> Iterator[StaticSite]:
    site = StaticSite()
    try:
        yield site
    finally:
        site.close()


@pytest.fixture
def other_site() -> Iterator[StaticSite]:
    """The same page on a third origin, one the API was not told about."""
    site = StaticSite()
    try:
        yield site
    finally:
        site.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable, looked = chromium_path()
    if executable is None:
        pytest.skip(f"Chromium is not installed (no executable {looked}): apt-get install chromium (.ci/run does it "
                    "as root), or set STUDIO_CHROMIUM to another Chromium binary")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                                   "(pip install -e '.[test]')")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield chromium
        finally:
            chromium.close()
