"""WeasyPrint set-up and the stage entry point: fonts, stylesheets, the URL fetcher, one render into PDF bytes.

WeasyPrint keeps part of every FontConfiguration alive (about 0.2 MB per render), so one configuration and
the compiled stylesheets are shared by every render in the process (see docs/BENCHMARKS.md, "PDF stage").
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime as dt
import functools
import gc
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit
from urllib.request import url2pathname

from engine.model import Summary
from engine.pdf.drawing_set import build_html
from engine.pdf.page import PAGES, page_css
from engine.spec import JobSpec

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AssetFetcher(URLFetcher):
        """Serves `data:` URLs and files under engine/assets; refuses the network and the rest of the disk."""

        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:  # type: ignore[override]
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                mime, data = _decode_data_url(url)
                return URLFetcherResponse(url, body=data, headers={"Content-Type": mime})
            if scheme == "file":
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if path.is_relative_to(ASSETS) and path.is_file():
                    return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": _mime(path)})
            raise ValueError(f"refused to fetch {url[:80]!r}: only data: URLs and engine/assets are allowed")

    return AssetFetcher


def _decode_data_url(url: str) -> tuple[str, bytes]:
    head, sep, payload = url[5:].partition(",")
    if not sep:
        raise ValueError("malformed data: URL")
    params = head.split(";")
    mime = params[0] or "text/plain"
    if "base64" in (param.strip().lower() for param in params[1:]):
        return mime, base64.b64decode(payload)
    return mime, unquote_to_bytes(payload)


def _mime(path: Path) -> str:
    return {".ttf": "font/ttf", ".css": "text/css", ".svg": "image/svg+xml"}.get(path.suffix, "application/octet-stream")


def _html_class(ua_stylesheet: object) -> type:
    from weasyprint import HTML

    class SheetHTML(HTML):
        """WeasyPrint's HTML with the user-agent stylesheet below (WeasyPrint's own tests swap it the same way)."""

        def _ua_stylesheets(self, forms: bool = False) -> list[object]:
            return [ua_stylesheet]

    return SheetHTML


# WeasyPrint's user-agent rules for pseudo-elements without a type selector (`::marker`, `::footnote-call`, ...)
# match every element, and it computes each one's style for every element of the set: six styles per element,
# half the cascade's time, for boxes a drawing set never makes (no lists, footnotes or notes).
_UNIVERSAL_PSEUDO_RULE = re.compile(r"^::[-a-z]+ \{[^\n]*\}\n", re.MULTILINE)


def _ua_stylesheet() -> object:
    from weasyprint import CSS
    from weasyprint.html import UA, UA_COUNTER_STYLE

    return CSS(string=_UNIVERSAL_PSEUDO_RULE.sub("", UA), counter_style=UA_COUNTER_STYLE)


@contextlib.contextmanager
def _gc_after() -> Iterator[None]:
    """Collect once after the render instead of during it.

    A render makes about a million short-lived objects in reference cycles (WeasyPrint's boxes); with the
    collector on, each full collection during the render walks the whole growing heap, which costs more the
    larger the set. One young-generation collection at the end frees the same garbage.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)


class _Resources:
    """A FontConfiguration, the URL fetcher and the stylesheets compiled against them."""

    def __init__(self) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self.font_config = FontConfiguration()
        self.fetcher = _fetcher_class()()
        self.html = _html_class(_ua_stylesheet())
        base = ASSETS.as_uri() + "/"
        self.css = CSS(filename=str(ASSETS / "shop.css"), base_url=base, url_fetcher=self.fetcher,
                       font_config=self.font_config)
        self.page_css = {
            name: CSS(string=page_css(geom), base_url=base, url_fetcher=self.fetcher, font_config=self.font_config)
            for name, geom in PAGES.items()
        }

    def close(self) -> None:
        """Remove the font configuration's temporary folder while the interpreter is still whole.

        WeasyPrint does it in FontConfiguration.__del__, which at exit runs after `shutil` is torn down and
        prints a TypeError; emptying `_folder` first makes that __del__ a no-op.
        """
        folder, self.font_config._folder = self.font_config._folder, None
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


@functools.cache
def _shared() -> _Resources:
    resources = _Resources()
    atexit.register(resources.close)
    return resources


def warm() -> None:
    """Build the shared font configuration and stylesheets now, so a fresh process's first render is not slower."""
    _shared()


def url_fetcher(url: str) -> object:
    """The fetcher every render uses: `data:` URLs and files under engine/assets, nothing else (raises ValueError)."""
    return _shared().fetcher(url)



def render_pdf(job: JobSpec, summary: Summary, svgs: dict[str, bytes], *, issued: dt.date | None = None) -> bytes:
    """The shop drawing set as PDF bytes; `issued` defaults to today (pass it for byte-identical output)."""
    return _render(job, summary, svgs, issued=issued)


def _render(job: JobSpec, summary: Summary, svgs: dict[str, bytes], *, issued: dt.date | None = None,
            resources: _Resources | None = None) -> bytes:
    """render_pdf with the WeasyPrint resources made explicit (the soak benchmark passes fresh ones)."""
    res = resources or _shared()
    quote = summary.quote
    if quote is None and job.pricing is not None:
        from engine.pricing import quote as make_quote

        quote = make_quote(job, summary)
    day = issued or dt.date.today()
    html_text = build_html(job, summary, svgs, day, quote)
    page = job.options.outputs.pdf.page if job.options.outputs.pdf else "A3"
    # Byte-identical for the same job and day: no clock in the file. WeasyPrint subsets fonts with HarfBuzz
    # (libharfbuzz-subset), which keeps each font's head.modified; only its deprecated fontTools fallback
    # stamps the clock there (tests/unit/test_pdf.py renders in two processes a second apart to catch that).
    with _gc_after():
        doc = res.html(string=html_text, base_url=ASSETS.as_uri() + "/", url_fetcher=res.fetcher)
        return doc.write_pdf(stylesheets=[res.css, res.page_css[page]], font_config=res.font_config,
                             pdf_identifier=f"studio-{job.job.id}".encode()[:64])
