"""The shop's web app, as the browser sees it: a page on another origin (tests/browser/page/webapp.html) loads the
catalogue, orders a 120 x 25 x 2 cm top through POST /api/cad/generate-drawing, shows the SVG the way the app
does (a data: URL), then fetches the GLB and loads it with a small glTF loader shipped beside the page.

Real processes (`studio api`, `studio worker`), a real PostgreSQL, and headless Chromium enforcing CORS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


from tests.acceptance.conftest import Cluster
from tests.browser.conftest import StaticSite


def test_the_web_app_loads_the_catalogue_orders_a_top_and_loads_its_model(
        browser: Any, cluster: Cluster, static_site: StaticSite, tmp_path: Path) -> None:
    api = cluster.api(ALLOWED_ORIGINS=static_site.origin)
    cluster.worker()
    context = browser.new_context(viewport={"width": 900, "height": 900})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    try:
        page.goto(f"{static_site.origin}/webapp.html?api={cluster.base}")
        page.wait_for_function("document.body.dataset.state !== 'loading'", timeout=90_000)
        shot = tmp_path / "webapp.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        log = page.inner_text("#log")
        assert page.get_attribute("body", "data-state") == "done", f"{log}\n" + "\n".join(console)
        assert "catalogue 18 materials, first Plano #EAE6D9" in log, log
        assert page.eval_on_selector("#material", "s => s.value") == "1"
        assert page.eval_on_selector("#finish option", "o => o.textContent") == "Bez obrade (0 €/m²)"
        assert "generate-drawing 200 success true dxf piece-P1.dxf" in log, log
        width, height = page.eval_on_selector("#drawing img", "img => [img.naturalWidth, img.naturalHeight]")
        assert width > 0 and height > 0
        glb = page.get_attribute("body", "data-glb")
        assert not [c for c in console if "CORS" in c or c.startswith("error")], console
        assert glb == "loaded", log
        size = [float(x) for x in (page.get_attribute("body", "data-glb-size") or "").split(",")]
        assert sorted(round(x, 3) for x in size) == [0.02, 0.25, 1.2], size  # true size, metres
    finally:
        context.close()
    requests = [(e["method"], e["path"], e["status_code"]) for e in api.events("http_request")]
    assert ("OPTIONS", "/api/cad/generate-drawing", 204) in requests or \
        ("OPTIONS", "/api/cad/generate-drawing", 200) in requests, requests
