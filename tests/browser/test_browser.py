"""The frontend's view: a page on another origin submits a job with fetch, follows it over SSE, shows the SVG.

Real processes (`studio api`, `studio worker`), a real PostgreSQL, and headless Chromium enforcing CORS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.acceptance.conftest import Cluster
from tests.browser.conftest import StaticSite


def open_page(browser: Any, site: StaticSite, api: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 900, "height": 900})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.goto(f"{site.origin}/index.html?api={api}")
    page.wait_for_function("document.body.dataset.state !== 'loading'", timeout=90_000)
    return context, page, console


def explain(page: Any, console: list[str]) -> str:
    return f"page log:\n{page.inner_text('#log')}\nconsole:\n" + "\n".join(console)


def test_the_frontend_origin_submits_follows_over_sse_and_shows_the_svg(
        browser: Any, cluster: Cluster, static_site: StaticSite, tmp_path: Path) -> None:
    # Configured the way people type it (upper-case scheme, trailing slash); the browser sends the bare origin.
    api = cluster.api(ALLOWED_ORIGINS=f"HTTP://127.0.0.1:{static_site.port}/")
    cluster.worker()
    context, page, console = open_page(browser, static_site, cluster.base)
    try:
        shot = tmp_path / "frontend.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        assert page.get_attribute("body", "data-state") == "done", explain(page, console)
        log = page.inner_text("#log")
        # Followed, not just polled once: the stream carried changes (the first one is the state on connect).
        assert "status succeeded (pdf)" in log and log.count("status ") >= 2, log
        assert "Location /api/jobs/" in log and "X-Request-ID null" not in log, "exposed headers unreadable:\n" + log
        preview = page.eval_on_selector("#preview img", "img => [img.complete, img.naturalWidth, img.naturalHeight]")
        assert preview[0] and preview[1] > 0 and preview[2] > 0, preview
        assert page.eval_on_selector("#inline svg", "svg => svg.getAttribute('viewBox')"), "no inline <svg>"
        assert page.inner_text("#status") == "succeeded"
        assert not [c for c in console if "CORS" in c or c.startswith("error")], console
    finally:
        context.close()
    requests = [(e["method"], e["path"], e["status_code"]) for e in api.events("http_request")]
    assert any(r[:2] == ("OPTIONS", "/api/cad/generate") and r[2] in (200, 204) for r in requests), requests
    assert any(m == "GET" and p.endswith("/events") and s == 200 for m, p, s in requests), requests
    assert any(m == "GET" and p.endswith("/artifacts/piece-A.svg") and s == 200 for m, p, s in requests), requests


def test_an_origin_not_in_allowed_origins_is_blocked_by_the_browser(
        browser: Any, cluster: Cluster, static_site: StaticSite, other_site: StaticSite) -> None:
    api = cluster.api(ALLOWED_ORIGINS=static_site.origin)
    context, page, console = open_page(browser, other_site, cluster.base)
    try:
        assert page.get_attribute("body", "data-state") == "error", explain(page, console)
        assert page.get_attribute("body", "data-error") == "TypeError: Failed to fetch", explain(page, console)
        blocked = [c for c in console if "blocked by CORS policy" in c]
        assert blocked and other_site.origin in blocked[0], explain(page, console)
    finally:
        context.close()
    # The preflight was refused, so the POST never left the browser and no job exists.
    requests = [(e["method"], e["path"], e["status_code"]) for e in api.events("http_request")]
    assert [r for r in requests if r[1] == "/api/cad/generate"] and \
        all(m == "OPTIONS" and s >= 400 for m, p, s in requests if p == "/api/cad/generate"), requests
    assert cluster.http.get("/api/jobs").json()["items"] == []
