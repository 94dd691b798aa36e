"""Frozen copy of engine/pdf.py at 4dc515e (before the split and the issue-18 speed work), kept so the PDF
benchmark and the visual regression test can render today's and the baseline side by side. Only ASSETS changed.

The PDF shop drawing set: cover with piece list, a sheet per piece, a sheet per slab, and the quote.

Sheets are fixed-size HTML blocks, one per page, so page n of m is known before WeasyPrint lays anything out.
Piece sheets are drawn here from `engine.geometry`, at a standard scale (1:10, 1:20, ...) true to the printed
page, with dimension lines in the job's units; slab sheets embed the CAD stage's `slab-<n>.svg` and fall back
to a drawing of their own. Everything is vector SVG; fonts come from `engine/assets/fonts`, and the URL
fetcher reads nothing but those assets and `data:` URLs.

WeasyPrint keeps part of every FontConfiguration alive (about 0.2 MB per render), so one configuration and
the compiled stylesheets are shared by every render in the process (see docs/BENCHMARKS.md, "PDF stage").
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime as dt
import functools
import html
import math
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit
from urllib.request import url2pathname

from engine import geometry as g
from engine.model import Finding, PieceSummary, Quote, SlabLayout, Summary
from engine.spec import MM_PER_INCH, JobSpec, Piece, to_mm

ASSETS = Path(__file__).resolve().parents[2] / "engine" / "assets"
REVISION = "A"
FONT = "Studio Sans"  # the @font-face family in assets/shop.css (DejaVu Sans, shipped with the project)


# ---- page geometry (mm) ---------------------------------------------------------------------


@dataclass(frozen=True)
class PageGeometry:
    name: str
    width: float  # the sheet inside the page margins
    height: float
    margin: float
    title_h: float  # title block
    panel_w: float  # the table column beside a drawing
    font_pt: float
    row_mm: float  # one table row
    first_rows: int  # piece-list rows on the cover
    more_rows: int  # piece-list rows on a continuation sheet
    panel_rows: int  # table rows that fit in a side panel

    @property
    def inner_w(self) -> float:
        return self.width - 2 * INSET

    @property
    def content_h(self) -> float:
        return self.height - self.title_h - 2 * INSET - 1.0


PAGES: dict[str, PageGeometry] = {
    # A3 landscape 420 x 297, A4 landscape 297 x 210; the sheet is a hair smaller than the page box so
    # rounding never pushes a sheet onto a second page.
    "A3": PageGeometry("A3", 420 - 16, 297 - 16 - 0.6, 8, 24, 128, 8.0, 5.6, 22, 36, 34),
    "A4": PageGeometry("A4", 297 - 14, 210 - 14 - 0.6, 7, 20, 100, 6.3, 4.5, 16, 28, 29),
}
INSET = 3.5  # mm between the frame and the sheet's content
BOTTOM_PANEL_H = {"A3": 80.0, "A4": 62.0}  # the table strip under a wide drawing
SCALES = (1, 2, 5, 10, 15, 20, 25, 50, 100, 200, 500, 1000)


# ---- resources shared by every render in the process -----------------------------------------


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
    if "base64" in (p.strip().lower() for p in params[1:]):
        return mime, base64.b64decode(payload)
    return mime, unquote_to_bytes(payload)


def _mime(path: Path) -> str:
    return {".ttf": "font/ttf", ".css": "text/css", ".svg": "image/svg+xml"}.get(path.suffix, "application/octet-stream")


class _Resources:
    """A FontConfiguration, the URL fetcher and the stylesheets compiled against them."""

    def __init__(self) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self.font_config = FontConfiguration()
        self.fetcher = _fetcher_class()()
        base = ASSETS.as_uri() + "/"
        self.css = CSS(filename=str(ASSETS / "shop.css"), base_url=base, url_fetcher=self.fetcher,
                       font_config=self.font_config)
        self.page_css = {
            name: CSS(string=_page_css(geom), base_url=base, url_fetcher=self.fetcher, font_config=self.font_config)
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


def _page_css(p: PageGeometry) -> str:
    return (f"@page {{ size: {p.name} landscape; margin: {p.margin}mm; }}\n"
            f"html {{ font-size: {p.font_pt}pt; }}\n"
            f".sheet {{ width: {p.width}mm; height: {p.height}mm; }}\n"

            f".list td, .list th, .panel td, .panel th {{ height: {p.row_mm - 1.2:.2f}mm; }}\n")


# ---- numbers in the job's locale ---------------------------------------------------------------

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
# decimal mark, thousands separator, money pattern ({sym} falls back to the ISO code when unknown)
LOCALES: dict[str, tuple[str, str, str]] = {
    "en-US": (".", ",", "{sym}{num}"),
    "en-GB": (".", ",", "{sym}{num}"),
    "de": (",", ".", "{num} {sym}"),
    "fr": (",", "\u00a0", "{num}\u00a0{sym}"),
    "hr": (",", ".", "{num} {code}"),
}
DEFAULT_LOCALE = (".", ",", "{num} {code}")


class Numbers:
    """Numbers and money as the job's locale writes them: hr-HR '1.234,56 EUR', en-US '$1,234.56'."""

    def __init__(self, locale: str | None) -> None:
        key = locale or ""
        spec = LOCALES.get(key) or LOCALES.get(key.split("-")[0]) or (
            LOCALES["en-GB"] if key.startswith("en") else DEFAULT_LOCALE)
        self.decimal, self.group, self.money_pattern = spec

    def number(self, x: float | Decimal | str, places: int, group: bool = True) -> str:
        d = Decimal(str(x)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        sign = "-" if d < 0 else ""
        whole, _, frac = f"{abs(d):f}".partition(".")
        if group and len(whole) > 3:
            parts = []
            while len(whole) > 3:
                parts.insert(0, whole[-3:])
                whole = whole[:-3]
            whole = self.group.join([whole, *parts])
        return sign + whole + (self.decimal + frac if frac else "")

    def money(self, amount: Decimal | str, currency: str) -> str:
        sym = SYMBOLS.get(currency)
        pattern = self.money_pattern
        if sym is None and "{sym}" in pattern:  # no symbol known: the ISO code, spaced, on the same side
            pattern = "{code} {num}" if pattern.startswith("{sym}") else pattern.replace("{sym}", "{code}")
        return pattern.format(num=self.number(amount, 2), sym=sym, code=currency)

    def trim(self, x: float, places: int) -> str:
        """A figure with at most `places` decimals and no trailing zeros, never grouped (drawing dimensions)."""
        s = self.number(round(x, places), places, group=False)
        if self.decimal in s:
            s = s.rstrip("0").rstrip(self.decimal)
        return s


class Lengths:
    """Millimetres shown in the job's units: '2900' or '114.17' (the title block states the unit)."""

    def __init__(self, units: str, numbers: Numbers) -> None:
        self.units = units
        self.n = numbers

    def __call__(self, mm: float) -> str:
        if self.units == "in":
            return self.n.trim(mm / MM_PER_INCH, 2)
        return self.n.trim(mm, 1)

    def with_unit(self, mm: float) -> str:
        return self(mm) + ('"' if self.units == "in" else " mm")


# ---- small SVG toolkit (print millimetres, y down) -----------------------------------------------

INK = "#111111"
DIM = "#374151"
STONE = "#eeeae3"
EDGE_STYLES: dict[str, tuple[str, float, str, str]] = {
    # kind: (colour, width mm, dash, legend label)
    "finished": ("#111111", 0.7, "", "Finished"),
    "wall": ("#8a6d5a", 0.45, "2.4 1.2", "Wall"),
    "seam": ("#d81b60", 0.6, "5 1.2 0.8 1.2", "Seam"),
    "splash_base": ("#7b1fa2", 0.6, "1 0.8", "Splash"),
    "appliance": ("#ef6c00", 0.5, "2 1", "Appliance"),
    "miter": ("#2e7d32", 0.6, "4 1 1 1", "Miter"),
    "sawn": ("#9e9e9e", 0.35, "", "Sawn"),
}
GROOVE = "#00838f"


def _e(s: object) -> str:
    return html.escape(str(s), quote=True)


def _f(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) >= 0.005 else "0"


def _svg(w: float, h: float, body: Iterable[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(w)}mm" height="{_f(h)}mm" '
            f'viewBox="0 0 {_f(w)} {_f(h)}" font-family="{FONT}">' + "".join(body) + "</svg>")


def _text(x: float, y: float, s: str, size: float = 2.6, anchor: str = "middle", weight: str = "normal",
          fill: str = INK, rotate: float = 0.0) -> str:
    tf = f' transform="rotate({_f(rotate)} {_f(x)} {_f(y)})"' if rotate else ""
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{_f(x)}" y="{_f(y)}" font-size="{_f(size)}" text-anchor="{anchor}" fill="{fill}"{bold}{tf}>'
            f"{_e(s)}</text>")


def _line(x0: float, y0: float, x1: float, y1: float, stroke: str = DIM, width: float = 0.18, dash: str = "") -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{_f(x0)}" y1="{_f(y0)}" x2="{_f(x1)}" y2="{_f(y1)}" stroke="{stroke}" '
            f'stroke-width="{_f(width)}"{d}/>')


def _arrow(x: float, y: float, dx: float, dy: float) -> str:
    """A filled arrowhead with its tip at (x, y), pointing along (dx, dy)."""
    n = math.hypot(dx, dy) or 1.0
    ux, uy = dx / n, dy / n
    length, half = 1.8, 0.45
    bx, by = x - ux * length, y - uy * length
    pts = [(x, y), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]
    return f'<path d="M{" L".join(f"{_f(a)} {_f(b)}" for a, b in pts)} Z" fill="{DIM}"/>'


def _hdim(x0: float, x1: float, y_from0: float, y_from1: float, y: float, label: str) -> list[str]:
    """Horizontal dimension at height y between x0 and x1, extension lines from the features."""
    out = [_line(x0, y_from0 + (0.8 if y > y_from0 else -0.8), x0, y + (1.0 if y > y_from0 else -1.0)),
           _line(x1, y_from1 + (0.8 if y > y_from1 else -0.8), x1, y + (1.0 if y > y_from1 else -1.0)),
           _line(x0, y, x1, y)]
    if abs(x1 - x0) > 4:
        out += [_arrow(x0, y, -1, 0), _arrow(x1, y, 1, 0)]
    if abs(x1 - x0) >= 3 + 1.7 * len(label):
        out.append(_text((x0 + x1) / 2, y - 0.8, label, 2.6))
    else:  # too short for the figure between the arrows: beside the end
        out.append(_text(max(x0, x1) + 1.0, y - 0.8, label, 2.6, "start"))
    return out


def _vdim(y0: float, y1: float, x_from0: float, x_from1: float, x: float, label: str) -> list[str]:
    """Vertical dimension at abscissa x between y0 and y1 (print coordinates)."""
    sign = 1.0 if x > x_from0 else -1.0
    out = [_line(x_from0 + 0.8 * sign, y0, x + 1.0 * sign, y0), _line(x_from1 + 0.8 * sign, y1, x + 1.0 * sign, y1),
           _line(x, y0, x, y1)]
    if abs(y1 - y0) > 4:
        out += [_arrow(x, min(y0, y1), 0, -1), _arrow(x, max(y0, y1), 0, 1)]
    if abs(y1 - y0) >= 3 + 1.7 * len(label):
        out.append(_text(x - 0.8, (y0 + y1) / 2, label, 2.6, rotate=-90))
    else:
        out.append(_text(x + 1.0, (y0 + y1) / 2 + 0.9, label, 2.6, "start"))
    return out


def _path_d(segs: list[g.Seg], tf: Callable[[g.Pt], g.Pt], k: float, closed: bool = True) -> str:
    """SVG path data for a chain of lines and arcs; `k` is the drawing scale (print mm per model mm)."""
    if not segs:
        return ""
    x, y = tf(segs[0].start)
    out = [f"M{_f(x)} {_f(y)}"]
    for s in segs:
        ex, ey = tf(s.end)
        if abs(s.bulge) < g.EPS or s.chord < g.EPS:
            out.append(f"L{_f(ex)} {_f(ey)}")
        else:
            _, r = s.center_radius()
            large = 1 if abs(s.angle) > math.pi else 0
            sweep = 0 if s.bulge > 0 else 1  # y is flipped on paper, so a CCW arc sweeps the negative way
            out.append(f"A{_f(r * k)} {_f(r * k)} 0 {large} {sweep} {_f(ex)} {_f(ey)}")
    if closed:
        out.append("Z")
    return " ".join(out)


def _img(svg: str | bytes, w: float, h: float, extra: str = "") -> str:
    data = svg.encode("utf-8") if isinstance(svg, str) else svg
    return (f'<img src="data:image/svg+xml;base64,{base64.b64encode(data).decode("ascii")}" '
            f'style="width:{_f(w)}mm;height:{_f(h)}mm;{extra}" alt="">')


def _pick_scale(length_mm: float, depth_mm: float, room_w: float, room_h: float) -> int:
    """The largest standard scale 1:N at which the part fits the room (print mm)."""
    for n in SCALES:
        if length_mm / n <= room_w and depth_mm / n <= room_h:
            return n
    return math.ceil(max(length_mm / max(room_w, 1.0), depth_mm / max(room_h, 1.0)))


# ---- the piece drawing ---------------------------------------------------------------------------


@dataclass
class CutoutPos:
    id: str
    type: str
    size: str
    centre_from_left: str
    setback_front: str
    note: str


def cutout_positions(piece_mm: Piece, lengths: Lengths) -> list[CutoutPos]:
    """Each cutout's centre from the left end (x = 0) and setback from the front edge (y = 0) to its front."""
    out = []
    for c in piece_mm.cutouts:
        if c.shape == "circle":
            size = f"Ø {lengths(c.diameter or 0)}"
        else:
            size = f"{lengths(c.length or 0)} × {lengths(c.width or 0)}"
            if c.shape == "rect" and c.corner_radius:
                size += f" R{lengths(c.corner_radius)}"
            elif c.shape == "oval":
                size += " oval"
        setback = "—"
        if not g.cutout_missing(c):
            setback = lengths(g.bbox(g.cutout_segs(c))[1])
        note = f"rot. {c.rotation:g}°" if c.rotation else ""
        out.append(CutoutPos(c.id, c.type.replace("_", " "), size, lengths(c.center[0]), setback, note))
    return out


def piece_drawing(piece: Piece, lengths: Lengths, room_w: float, room_h: float) -> tuple[str, float, float, int]:
    """A dimensioned plan view of one piece (mm job), fitted to room_w x room_h print mm: (svg, w, h, scale N)."""
    ol = g.outline(piece)
    minx, miny, maxx, maxy = g.bbox(ol.segs)
    L, D = maxx - minx, maxy - miny
    cuts = [(c, g.cutout_segs(c)) for c in piece.cutouts if not g.cutout_missing(c)]
    centre_xs: list[float] = []
    for c, _ in cuts:
        if all(abs(c.center[0] - x) > 0.5 for x in centre_xs):
            centre_xs.append(c.center[0])
    centre_xs.sort()
    tiers = min(len(centre_xs), 6)
    m_left, m_right, m_top = 20.0, 10.0, 10.0
    m_bottom = 16.0 + 6.5 * tiers
    n = _pick_scale(L, D, room_w - m_left - m_right, room_h - m_top - m_bottom)
    k = 1.0 / n
    w, h = L * k + m_left + m_right, D * k + m_top + m_bottom

    def tf(p: g.Pt) -> g.Pt:
        return (m_left + (p[0] - minx) * k, m_top + (maxy - p[1]) * k)

    body: list[str] = []
    holes = "".join(" " + _path_d(segs, tf, k) for _, segs in cuts)
    body.append(f'<path d="{_path_d(ol.segs, tf, k)}{holes}" fill="{STONE}" fill-rule="evenodd" stroke="none"/>')
    # Edges by kind: one stroke per span, so a seam segment on a finished edge shows as a seam.
    for span in ol.spans:
        colour, width, dash, _ = EDGE_STYLES.get(span.kind, (INK, 0.4, "", span.kind))
        d = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(f'<path d="{_path_d([span.seg], tf, k, closed=False)}" fill="none" stroke="{colour}" '
                    f'stroke-width="{_f(width)}" stroke-linecap="butt"{d}/>')
    # Drip grooves: a dashed line `offset` inside the edge.
    try:
        from engine.dxf import drip_groove_lines

        grooves = drip_groove_lines(ol)
    except Exception:  # an odd offset must never cost the whole drawing
        grooves = []
    for pts in grooves:
        moved = [tf(p) for p in pts]
        body.append(f'<path d="M{" L".join(f"{_f(x)} {_f(y)}" for x, y in moved)}" fill="none" stroke="{GROOVE}" '
                    f'stroke-width="0.3" stroke-dasharray="1.6 0.8"/>')
    # Cutouts: outline, centre lines, name.
    for c, segs in cuts:
        body.append(f'<path d="{_path_d(segs, tf, k)}" fill="#ffffff" stroke="{INK}" stroke-width="0.35"/>')
        cx, cy = tf((c.center[0], c.center[1]))
        bx0, by0, bx1, by1 = g.bbox(segs)
        half_w, half_h = (bx1 - bx0) * k / 2 + 1.5, (by1 - by0) * k / 2 + 1.5
        body.append(_line(cx - half_w, cy, cx + half_w, cy, "#6b7280", 0.13, "3 0.8 0.6 0.8"))
        body.append(_line(cx, cy - half_h, cx, cy + half_h, "#6b7280", 0.13, "3 0.8 0.6 0.8"))
        if (bx1 - bx0) * k > 14:
            body.append(_text(cx + 1.2, cy - 1.2, c.id, 2.6, "start", "bold"))
        else:
            body.append(_text(cx + half_w + 0.6, cy - 0.8, c.id, 2.4, "start", "bold"))
    # Edge names, just outside each original edge.
    sign = 1.0 if g.signed_area_vertices(ol.vertices) >= 0 else -1.0
    for i, name in enumerate(ol.edge_names):
        spans = [s for s in ol.spans if s.edge == i]
        if not spans:
            continue
        mid = spans[len(spans) // 2].seg
        px, py = mid.point_at(0.5)
        tx, ty = mid.tangent(0.5)
        ox, oy = ty * sign, -tx * sign  # outward: right of travel on a CCW outline
        x, y = tf((px, py))
        x += ox * 3.2
        y -= oy * 3.2
        anchor = "middle" if abs(ox) < 0.5 else ("start" if ox > 0 else "end")
        body.append(_text(x, y + 0.9, name, 2.2, anchor, fill="#6b7280"))
    # Corner radii and clips.
    corners = {c.at: c for c in piece.corners}
    for span in ol.spans:
        if span.corner is None or span.corner not in corners:
            continue
        c = corners[span.corner]
        px, py = span.seg.point_at(0.5)
        tx, ty = span.seg.tangent(0.5)
        ox, oy = ty * sign, -tx * sign
        x0, y0 = tf((px, py))
        x1, y1 = x0 + ox * 5, y0 - oy * 5
        body.append(_line(x0, y0, x1, y1, DIM, 0.15))
        label = f"R{lengths(c.size)}" if c.type == "radius" else f"C{lengths(c.size)}"
        body.append(_text(x1 + (0.5 if ox >= 0 else -0.5), y1 - 0.5, label, 2.5, "start" if ox >= 0 else "end"))
    # Overall dimensions.
    left, right, top, bottom = m_left, m_left + L * k, m_top, m_top + D * k
    y_total = bottom + 10.0 + 6.5 * tiers
    body += _hdim(left, right, bottom, bottom, y_total, lengths(L))
    body += _vdim(top, bottom, left, left, left - 12.0, lengths(D))
    # Cutout centres from the left end, one tier each, nearest first.
    for t, cx_mm in enumerate(centre_xs[:tiers]):
        y = bottom + 10.0 + 6.5 * t
        x = tf((cx_mm, 0))[0]
        body += _hdim(left, x, bottom, bottom, y, lengths(cx_mm - minx))
    # Setback of each cutout's front from the front edge, where the line does not cross another cutout.
    polys = [(c.id, g.to_polygon(segs)) for c, segs in cuts]
    from shapely.geometry import LineString

    for c, segs in cuts:
        bx0, by0, bx1, _ = g.bbox(segs)
        xm = c.center[0] if c.shape == "circle" else bx0 + (bx1 - bx0) * 0.22
        probe = LineString([(xm, miny + 0.1), (xm, by0 - 0.1)])
        if by0 - miny < 1 or any(cid != c.id and probe.intersects(p) for cid, p in polys):
            continue
        xp = tf((xm, 0))[0]
        body += _vdim(tf((0, by0))[1], bottom, xp, xp, xp, lengths(by0 - miny))
    svg = _svg(w, h, body)
    return svg, w, h, n


def legend_sample(kind: str) -> str:
    """A short sample of an edge or groove line for the legend (a CSS border: far cheaper than an image)."""
    if kind == "drip_groove":
        colour, width, dash = GROOVE, 0.35, "x"
    else:
        colour, width, dash, _ = EDGE_STYLES.get(kind, (INK, 0.4, "", kind))
    style = "dashed" if dash else "solid"
    return f'<span class="sample" style="border-top:{_f(max(width, 0.3))}mm {style} {colour}"></span>'


# ---- the slab drawing (when the CAD stage's SVG is missing) ------------------------------------------


def slab_drawing(layout: SlabLayout, pieces: dict[str, Piece], lengths: Lengths, margin_mm: float,
                 room_w: float, room_h: float) -> tuple[str, float, float, int]:
    """The slab with every placed piece outlined and labelled, remnants dashed: (svg, w, h, scale N)."""
    L, W = layout.length_mm, layout.width_mm
    m_left, m_right, m_top, m_bottom = 16.0, 6.0, 6.0, 14.0
    n = _pick_scale(L, W, room_w - m_left - m_right, room_h - m_top - m_bottom)
    k = 1.0 / n
    w, h = L * k + m_left + m_right, W * k + m_top + m_bottom

    def to_paper(p: g.Pt) -> g.Pt:
        return (m_left + p[0] * k, m_top + (W - p[1]) * k)

    body = [f'<rect x="{_f(m_left)}" y="{_f(m_top)}" width="{_f(L * k)}" height="{_f(W * k)}" fill="#fafafa" '
            f'stroke="{INK}" stroke-width="0.5"/>']
    if margin_mm > 0:
        body.append(f'<rect x="{_f(m_left + margin_mm * k)}" y="{_f(m_top + margin_mm * k)}" '
                    f'width="{_f((L - 2 * margin_mm) * k)}" height="{_f((W - 2 * margin_mm) * k)}" fill="none" '
                    f'stroke="#9ca3af" stroke-width="0.15" stroke-dasharray="1.5 1"/>')
    for i, r in enumerate(layout.remnants, start=1):
        x, y = to_paper((r.x_mm, r.y_mm + r.width_mm))
        body.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(r.length_mm * k)}" height="{_f(r.width_mm * k)}" '
                    f'fill="none" stroke="#2e7d32" stroke-width="0.3" stroke-dasharray="2 1"/>')
        body.append(_text(x + r.length_mm * k / 2, y + r.width_mm * k / 2 + 1, f"RM{i}", 2.6, fill="#2e7d32"))
    for p in layout.placements:
        piece = pieces.get(p.piece)
        if piece is None:
            continue
        a = math.radians(p.rotation_deg)
        ca, sa = math.cos(a), math.sin(a)

        def tf(q: g.Pt, ca: float = ca, sa: float = sa, p=p) -> g.Pt:
            return to_paper((q[0] * ca - q[1] * sa + p.x_mm, q[0] * sa + q[1] * ca + p.y_mm))

        try:
            ol = g.outline(piece)
        except g.GeometryError:
            continue
        holes = "".join(" " + _path_d(g.cutout_segs(c), tf, k) for c in piece.cutouts if not g.cutout_missing(c))
        body.append(f'<path d="{_path_d(ol.segs, tf, k)}{holes}" fill="{STONE}" fill-rule="evenodd" '
                    f'stroke="{INK}" stroke-width="0.3"/>')
        cx, cy = tf(g.label_point(ol.segs))
        label = piece.id + (f" #{p.copy}" if piece.qty > 1 else "")
        body.append(_text(cx, cy + 1.2, label, 3.2, weight="bold"))
    body += _hdim(m_left, m_left + L * k, m_top + W * k, m_top + W * k, m_top + W * k + 8, lengths(L))
    body += _vdim(m_top, m_top + W * k, m_left, m_left, m_left - 8, lengths(W))
    return _svg(w, h, body), w, h, n


_FONT_ATTR = re.compile(rb'font-family="[^"]*"')
_VIEWBOX = re.compile(rb'viewBox="\s*([-\d.eE+]+)[\s,]+([-\d.eE+]+)[\s,]+([-\d.eE+]+)[\s,]+([-\d.eE+]+)\s*"')


def _fit_foreign_svg(data: bytes, room_w: float, room_h: float) -> tuple[bytes, float, float]:
    """A CAD-stage SVG with its fonts pinned to ours, and the largest size that fits the room keeping its ratio."""
    data = _FONT_ATTR.sub(f'font-family="{FONT}"'.encode(), data)
    m = _VIEWBOX.search(data)
    ratio = float(m.group(3)) / float(m.group(4)) if m and float(m.group(4)) > 0 else room_w / room_h
    w = min(room_w, room_h * ratio)
    return data, w, w / ratio


# ---- sheets -------------------------------------------------------------------------------------------


@dataclass
class Sheet:
    title: str
    body: str


class _Doc:
    """Everything one render needs: the job in mm, formatters, page geometry."""

    def __init__(self, job: JobSpec, summary: Summary, issued: dt.date) -> None:
        self.job = job
        self.mm = to_mm(job)
        self.summary = summary
        self.issued = issued
        self.page = PAGES[job.options.outputs.pdf.page if job.options.outputs.pdf else "A3"]
        self.n = Numbers(job.job.locale)
        self.len = Lengths(job.units, self.n)
        self.pieces_mm = {p.id: p for p in self.mm.pieces}

    def area(self, m2: float) -> str:
        return self.n.number(m2, 3) + " m²"

    def metres(self, m: float) -> str:
        return self.n.number(m, 2) + " m"


def _rows_table(headers: list[tuple[str, str]], rows: list[list[str]], cls: str = "list", widths: list[str] | None = None,
                total: list[str] | None = None) -> str:
    """A table; headers are (label, css class) and every cell is already escaped."""
    cols = "".join(f'<col style="width:{w}">' for w in widths) if widths else ""
    head = "".join(f'<th class="{c}">{h}</th>' for h, c in headers)
    body = "".join("<tr>" + "".join(f'<td class="{headers[i][1]}">{v}</td>' for i, v in enumerate(r)) + "</tr>"
                   for r in rows)
    foot = ("<tr class=\"total\">" + "".join(f'<td class="{headers[i][1]}">{v}</td>' for i, v in enumerate(total))
            + "</tr>") if total else ""
    return f'<table class="{cls}"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}{foot}</tbody></table>'


def _kv(rows: list[tuple[str, str]]) -> str:
    return '<table class="kv">' + "".join(f"<tr><td>{_e(k)}</td><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _warnings_box(findings: list[Finding], limit: int) -> str:
    if not findings:
        return '<p class="ok">No warnings.</p>'
    items = "".join(f"<p><b>{_e(f.code)}</b> {_e(f.path)}: {_e(f.message)}</p>" for f in findings[:limit])
    more = f'<p class="more">… and {len(findings) - limit} more (see the piece sheets)</p>' if len(findings) > limit else ""
    return f'<div class="warn">{items}{more}</div>'


def _edge_text(by_profile: dict[str, float], doc: _Doc) -> str:
    return ", ".join(f"{p} {doc.metres(v)}" for p, v in by_profile.items() if v > 0) or "—"


def _cutout_text(by_type: dict[str, int]) -> str:
    return ", ".join(f"{n}× {t.replace('_', ' ')}" for t, n in by_type.items()) or "—"


def _piece_row(ps: PieceSummary, doc: _Doc) -> list[str]:
    size = f"{doc.len(ps.length_mm)} × {doc.len(ps.depth_mm)}"
    return [f"<b>{_e(ps.id)}</b>", _e(ps.label or ""), _e(ps.type.replace("_", " ")), size, str(ps.qty),
            doc.n.number(ps.area_gross_m2, 3), doc.n.number(ps.area_gross_m2 * ps.qty, 3),
            _e(_edge_text(ps.finished_edge_by_profile_m, doc)), _e(_cutout_text(ps.cutouts.by_type))]


PIECE_LIST_HEAD = [("Piece", ""), ("Label", ""), ("Type", ""), ("Size L × D", "num"), ("Qty", "num"),
                   ("Area m² each", "num"), ("Area m² total", "num"), ("Finished edge (per piece)", ""),
                   ("Cutouts (per piece)", "")]
PIECE_LIST_WIDTHS = ["6%", "17%", "9%", "10%", "4%", "8%", "8%", "19%", "19%"]


def piece_list_chunks(n_pieces: int, page: PageGeometry) -> list[tuple[int, int]]:
    """Row ranges of the piece list: the cover takes `first_rows`, each continuation sheet `more_rows`."""
    chunks = [(0, min(n_pieces, page.first_rows))]
    start = chunks[0][1]
    while start < n_pieces:
        chunks.append((start, min(n_pieces, start + page.more_rows)))
        start = chunks[-1][1]
    return chunks


def expected_pages(job: JobSpec, summary: Summary, priced: bool) -> int:
    """How many pages render_pdf makes: piece-list sheets, one per piece, one per slab, the quote."""
    page = PAGES[job.options.outputs.pdf.page if job.options.outputs.pdf else "A3"]
    slabs = len(summary.slabs.layouts) if summary.slabs else 0
    return len(piece_list_chunks(len(job.pieces), page)) + len(job.pieces) + slabs + (1 if priced else 0)


def _content(p: PageGeometry, inner: str) -> str:
    return (f'<div class="content" style="left:{_f(INSET)}mm;top:{_f(INSET)}mm;width:{_f(p.inner_w)}mm;'
            f'height:{_f(p.content_h)}mm">{inner}</div>')


def _box(left: float, top: float, w: float, h: float, inner: str, cls: str = "band") -> str:
    return f'<div class="{cls}" style="left:{_f(left)}mm;top:{_f(top)}mm;width:{_f(w)}mm;height:{_f(h)}mm">{inner}</div>'


HEAD_H = 9.0  # the sheet heading line above drawings and tables


def _cover_sheets(doc: _Doc, contents: list[str]) -> list[Sheet]:
    s, job, p = doc.summary, doc.job, doc.page
    slabs = s.slabs
    totals = [
        ("Pieces", f"{len(s.pieces)} ({sum(x.qty for x in s.pieces)} with copies)"),
        ("Gross area", f"<b>{doc.area(s.area_gross_m2)}</b> ({doc.n.number(s.area_gross_sqft, 2)} ft²)"),
        ("Net area", f"{doc.area(s.area_net_m2)} ({doc.n.number(s.area_net_sqft, 2)} ft²)"),
        ("Finished edge", f"{doc.metres(s.finished_edge_m)} ({doc.n.number(s.finished_edge_ft, 2)} ft)"),
        ("By profile", _e(_edge_text(s.finished_edge_by_profile_m, doc))),
        ("Cutouts", f"{s.cutouts.total}: {_e(_cutout_text(s.cutouts.by_type))}"),
        ("Weight", f"{doc.n.number(s.weight_kg, 1)} kg"),
        ("Slabs", (f"{slabs.used} used (area bound {slabs.area_bound}), yield {doc.n.number(slabs.yield_pct, 1)} %"
                   if slabs else "not nested")),
    ]
    o = job.options
    info = [
        ("Job", f"<b>{_e(job.job.id)}</b>"), ("Name", _e(job.job.name)),
        ("Customer", _e(job.job.customer or "—")), ("Site", _e(job.job.site or "—")),
        ("Material", _e(f"{job.material.name} ({job.material.type})")),
        ("Thickness / finish", _e(f"{doc.len.with_unit(doc.mm.material.thickness)} / {job.material.finish or '—'}")),
        ("Process", _e(f"{o.cutting_process.replace('_', ' ')}, kerf {doc.len.with_unit(doc.mm.options.kerf)}")),
        ("Stock", _e(", ".join(f"{x.id} {doc.len(x.length)}×{doc.len(x.width)}" for x in doc.mm.slab_stock[:4]))),
    ]
    findings = [*s.errors, *s.warnings]
    band_h = 60.0 if p.name == "A3" else 52.0
    col_w = (p.inner_w - 10) / 3
    sheet_list = '<p class="note">' + " · ".join(_e(c) for c in contents[:40]) + (" …" if len(contents) > 40 else "") + "</p>"
    band = (_box(0, HEAD_H, col_w, band_h, f"<h2>Job</h2>{_kv(info)}")
            + _box(col_w + 5, HEAD_H, col_w, band_h, f"<h2>Totals</h2>{_kv(totals)}")
            + _box(2 * col_w + 10, HEAD_H, col_w, band_h,
                   f"<h2>Warnings</h2>{_warnings_box(findings, 5 if p.name == 'A3' else 3)}"
                   f"<h2>Sheets</h2>{sheet_list}"))
    chunks = piece_list_chunks(len(s.pieces), p)
    sheets = []
    for i, (a, b) in enumerate(chunks):
        rows = [_piece_row(ps, doc) for ps in s.pieces[a:b]]
        last = b == len(s.pieces)
        total = (["<b>Total</b>", "", "", "", str(sum(x.qty for x in s.pieces)), "", doc.n.number(s.area_gross_m2, 3),
                  _e(_edge_text(s.finished_edge_by_profile_m, doc)), _e(_cutout_text(s.cutouts.by_type))]
                 if last else None)
        table = _rows_table(PIECE_LIST_HEAD, rows, widths=PIECE_LIST_WIDTHS, total=total)
        heading = f"Piece list ({a + 1}–{b} of {len(s.pieces)})" if len(chunks) > 1 else "Piece list"
        top = HEAD_H + band_h + 4 if i == 0 else HEAD_H
        title = (f"<h1>{_e(job.job.name)}<span class=\"sub\">Shop drawing set, job {_e(job.job.id)}</span></h1>"
                 if i == 0 else "<h1>Piece list<span class=\"sub\">continued</span></h1>")
        inner = title + (band if i == 0 else "") + _box(0, top, p.inner_w, p.content_h - top, f"<h2>{heading}</h2>{table}")
        sheets.append(Sheet("Job summary and piece list" if i == 0 else "Piece list, continued", _content(p, inner)))
    return sheets


def _piece_blocks(doc: _Doc, index: int, budget: int) -> tuple[str, str, str]:
    """The piece sheet's tables in three groups (data + legend, cutouts + corners, edges + warnings),
    each kept within about `budget` table rows."""
    piece, job = doc.mm.pieces[index], doc.job
    ps = next((x for x in doc.summary.pieces if x.id == piece.id), None)
    data = [("Type", _e(piece.type.replace("_", " "))), ("Quantity", str(piece.qty))]
    if ps:
        data += [("Size L × D", f"{doc.len(ps.length_mm)} × {doc.len(ps.depth_mm)} {job.units}"),
                 ("Gross / net area", f"{doc.area(ps.area_gross_m2)} / {doc.n.number(ps.area_net_m2, 3)}"),
                 ("Finished edge", _e(_edge_text(ps.finished_edge_by_profile_m, doc)))]
    data.append(("Thickness", doc.len.with_unit(doc.mm.material.thickness)))
    kinds: list[str] = []
    try:
        ol = g.outline(piece)
        kinds = sorted({s.kind for s in ol.spans}, key=lambda k: list(EDGE_STYLES).index(k) if k in EDGE_STYLES else 99)
        if any(s.groove is not None for s in ol.spans):
            kinds.append("drip_groove")
    except g.GeometryError:
        pass
    legend = "".join(
        f"<tr><td style=\"width:13mm\">{legend_sample(k)}</td><td>"
        f"{'Drip groove' if k == 'drip_groove' else EDGE_STYLES.get(k, ('', 0, '', k))[3]}"
        f"{_e(_profiles_for(piece, k))}</td></tr>" for k in kinds)
    block1 = f"<h2>Piece {_e(piece.id)}</h2>{_kv(data)}<h2>Legend</h2><table class=\"legend\">{legend}</table>"

    block2 = ""
    positions = cutout_positions(piece, doc.len)
    corners_rows = 2 if piece.corners else 0
    if positions:
        shown = positions[: max(1, budget - 2 - corners_rows)]
        rows = [[f"<b>{_e(c.id)}</b>", _e(c.type), _e(c.size), c.centre_from_left, c.setback_front] for c in shown]
        block2 += "<h2>Cutouts</h2>" + _rows_table(
            [("Id", ""), ("Type", ""), ("Size", ""), ("Centre from left", "num"), ("Front setback", "num")], rows,
            widths=["13%", "24%", "23%", "20%", "20%"])
        if len(shown) < len(positions):
            block2 += f'<p class="more">+ {len(positions) - len(shown)} more cutouts</p>'
        block2 += ('<p class="note">Centre: from the left end (x = 0). Setback: from the front edge (y = 0) to the '
                   "cutout's front.</p>")
    else:
        block2 += '<h2>Cutouts</h2><p class="muted">None.</p>'
    if piece.corners:
        block2 += "<h2>Corners</h2><p class=\"note\">" + _e(", ".join(
            f"vertex {c.at}: {'R' if c.type == 'radius' else 'clip '}{doc.len(c.size)}" for c in piece.corners[:12])) + "</p>"

    path = f"pieces[{index}]"
    own = [f for f in [*doc.summary.errors, *doc.summary.warnings]
           if f.path == path or f.path.startswith(path + ".") or f.path.startswith(path + "[")]
    edge_rows = _edge_rows(piece, doc)
    block3 = ""
    if edge_rows:
        shown_e = edge_rows[: max(1, budget - 2 - (4 if own else 0))]
        block3 += "<h2>Edges</h2>" + _rows_table(
            [("Edge", ""), ("Length", "num"), ("Kind", ""), ("Profile", ""), ("Drip groove", "")], shown_e,
            widths=["14%", "14%", "32%", "18%", "22%"])
        if len(shown_e) < len(edge_rows):
            block3 += f'<p class="more">+ {len(edge_rows) - len(shown_e)} more edges</p>'
    if own:
        block3 += "<h2>Warnings</h2>" + _warnings_box(own, 2)
    return block1, block2, block3


def _drawing_div(svg: str, w: float, h: float, left: float, top: float, room_w: float, room_h: float) -> str:
    return _box(left + (room_w - w) / 2, top + (room_h - h) / 2, w, h, _img(svg, w, h), cls="drawing")


def _piece_sheet(doc: _Doc, index: int, svgs: dict[str, bytes]) -> Sheet:
    """Drawing plus tables; the tables go beside the drawing or under it, whichever leaves the larger scale."""
    p, piece = doc.page, doc.mm.pieces[index]
    side_w = p.panel_w
    bottom_h = BOTTOM_PANEL_H[p.name]
    side_room = (p.inner_w - side_w - 6, p.content_h - HEAD_H)
    bottom_room = (p.inner_w, p.content_h - HEAD_H - bottom_h - 3)
    best = None
    for layout, (rw, rh) in (("side", side_room), ("bottom", bottom_room)):
        try:
            svg, w, h, n = piece_drawing(piece, doc.len, rw, rh)
        except Exception:  # a piece the geometry cannot build: the CAD preview if there is one, else say so
            best = None
            break
        if best is None or n < best[4]:
            best = (layout, svg, w, h, n)
    layout = best[0] if best else "side"
    rw, rh = side_room if layout == "side" else bottom_room
    if best:
        _, svg, w, h, n = best
        drawing = _drawing_div(svg, w, h, 0, HEAD_H, rw, rh)
        scale_note = f"Scale 1:{n} on {p.name}"
    else:
        drawing = _foreign_or_missing(svgs.get(f"piece-{_file_stem(piece.id)}.svg"), 0, HEAD_H, rw, rh)
        scale_note = "Not to scale"
    if layout == "side":
        b1, b2, b3 = _piece_blocks(doc, index, max(4, (p.panel_rows - 14) // 2))
        panel = _box(p.inner_w - side_w, HEAD_H, side_w, p.content_h - HEAD_H, b1 + b2 + b3, cls="panel")
    else:
        col_w = (p.inner_w - 10) / 3
        budget = int((bottom_h - 8) / p.row_mm) - 1
        b1, b2, b3 = _piece_blocks(doc, index, budget)
        top = p.content_h - bottom_h
        panel = "".join(_box(i * (col_w + 5), top, col_w, bottom_h, b, cls="panel") for i, b in enumerate((b1, b2, b3)))
    label = f"<span class=\"sub\">{_e(piece.label)}</span>" if piece.label else ""
    qty = f"<span class=\"sub\">× {piece.qty}</span>" if piece.qty > 1 else ""
    head = f"<h1>Piece {_e(piece.id)}{label}{qty}<span class=\"scale\">{_e(scale_note)}</span></h1>"
    return Sheet(f"Piece {piece.id}", _content(p, head + drawing + panel))


def _profiles_for(piece: Piece, kind: str) -> str:
    if kind != "finished":
        return ""
    try:
        profiles = sorted({s.profile or "unspecified" for s in g.outline(piece).spans if s.kind == "finished"})
    except g.GeometryError:
        return ""
    return f" ({', '.join(profiles)})" if profiles else ""


def _edge_rows(piece: Piece, doc: _Doc) -> list[list[str]]:
    try:
        ol = g.outline(piece)
        edges = g.piece_edges(piece)
    except g.GeometryError:
        return []
    rows = []
    for i, name in enumerate(ol.edge_names):
        spans = [s for s in ol.spans if s.edge == i]
        kinds = []
        for s in spans:
            word = EDGE_STYLES.get(s.kind, ("", 0, "", s.kind))[3].lower()
            if not kinds or kinds[-1][0] != word:
                kinds.append([word, s.seg.length(), s.profile])
            else:
                kinds[-1][1] += s.seg.length()
        kind_text = kinds[0][0] if len(kinds) == 1 else " + ".join(f"{k} {doc.len(v)}" for k, v, _ in kinds)
        profiles = sorted({s.profile for s in spans if s.kind == "finished" and s.profile})
        groove = edges[i].drip_groove if edges[i] else None
        groove_text = (f"{doc.len(groove.width)}×{doc.len(groove.depth)} at {doc.len(groove.offset)}" if groove else "")
        rows.append([_e(name), doc.len(ol.edge_lengths[i]), _e(kind_text), _e(", ".join(profiles)), _e(groove_text)])
    return rows


def _file_stem(piece_id: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", piece_id).strip("._") or "piece"
    return stem[:64]


def _foreign_or_missing(data: bytes | None, left: float, top: float, room_w: float, room_h: float) -> str:
    if data:
        try:
            fixed, w, h = _fit_foreign_svg(data, room_w, room_h)
            return (f'<div class="drawing" style="left:{_f(left + (room_w - w) / 2)}mm;'
                    f'top:{_f(top + (room_h - h) / 2)}mm">{_img(fixed, w, h)}</div>')
        except Exception:
            pass
    return (f'<div class="na" style="left:{_f(left)}mm;top:{_f(top)}mm;width:{_f(room_w)}mm;height:{_f(room_h)}mm;'
            f'line-height:{_f(room_h)}mm">drawing not available</div>')


def _slab_sheet(doc: _Doc, layout: SlabLayout, svgs: dict[str, bytes]) -> Sheet:
    """The slab drawing (the CAD stage's SVG, or drawn here), with placements and remnants beside or under it."""
    p = doc.page
    side_w, bottom_h = p.panel_w, BOTTOM_PANEL_H[p.name]
    rooms = {"side": (p.inner_w - side_w - 6, p.content_h - HEAD_H),
             "bottom": (p.inner_w, p.content_h - HEAD_H - bottom_h - 3)}
    foreign = svgs.get(f"slab-{layout.index}.svg")
    options: list[tuple[float, str, str, str]] = []  # (drawing area, layout, html, scale note)
    for name, (rw, rh) in rooms.items():
        if foreign:
            try:
                fixed, w, h = _fit_foreign_svg(foreign, rw, rh)
                options.append((w * h, name, _drawing_div(fixed.decode("utf-8"), w, h, 0, HEAD_H, rw, rh), ""))
                continue
            except Exception:
                pass
        try:
            svg, w, h, n = slab_drawing(layout, doc.pieces_mm, doc.len, doc.mm.options.slab_margin, rw, rh)
            options.append((1.0 / n, name, _drawing_div(svg, w, h, 0, HEAD_H, rw, rh), f"Scale 1:{n} on {p.name}"))
        except Exception:
            options.append((0.0, name, _foreign_or_missing(None, 0, HEAD_H, rw, rh), ""))
    _, which, drawing, scale_note = max(options, key=lambda o: (o[0], o[1] == "side"))
    o = doc.mm.options
    data = [
        ("Stock", _e(f"{layout.slab_id} ({layout.kind})")),
        ("Size", f"{doc.len(layout.length_mm)} × {doc.len(layout.width_mm)} {doc.job.units}"),
        ("Kerf / margin", f"{doc.len.with_unit(o.kerf)} / {doc.len.with_unit(o.slab_margin)}"),
        ("Pieces", str(len(layout.placements))),
        ("Used area", doc.area(layout.used_area_m2)),
        ("Yield", f"<b>{doc.n.number(layout.yield_pct, 1)} %</b>"),
    ]
    budget = (p.panel_rows - len(data) - 10) if which == "side" else int((bottom_h - 8) / p.row_mm) - 1
    rows = [[f"<b>{_e(pl.piece)}</b>", str(pl.copy), doc.len(pl.x_mm), doc.len(pl.y_mm), f"{pl.rotation_deg:g}°"]
            for pl in layout.placements]
    shown = rows[: max(1, budget - (len(layout.remnants) + 3 if which == "side" else 0))]
    placements = "<h2>Placements</h2>" + _rows_table(
        [("Piece", ""), ("Copy", "num"), ("x", "num"), ("y", "num"), ("Rotation", "num")], shown,
        widths=["26%", "14%", "20%", "20%", "20%"])
    if len(shown) < len(rows):
        placements += f'<p class="more">+ {len(rows) - len(shown)} more placements</p>'
    if layout.remnants:
        rem = [[f"RM{i}", f"{doc.len(r.length_mm)} × {doc.len(r.width_mm)}", doc.len(r.x_mm), doc.len(r.y_mm)]
               for i, r in enumerate(layout.remnants, start=1)]
        remnants = "<h2>Remnants</h2>" + _rows_table(
            [("Id", ""), ("Size L × W", "num"), ("at x", "num"), ("at y", "num")], rem, widths=["16%", "36%", "24%", "24%"])
    else:
        remnants = '<h2>Remnants</h2><p class="muted">No usable remnant.</p>'
    remnants += ('<p class="note">Positions are slab coordinates from the lower-left corner of the slab to each '
                 "piece's own origin (its front-left corner); rotation is counter-clockwise. Cuts are one kerf "
                 "wide; the margin is trimmed off every edge.</p>")
    first = f"<h2>Slab {layout.index}</h2>{_kv(data)}"
    if which == "side":
        panel = _box(p.inner_w - side_w, HEAD_H, side_w, p.content_h - HEAD_H, first + placements + remnants, "panel")
    else:
        col_w = (p.inner_w - 10) / 3
        top = p.content_h - bottom_h
        panel = "".join(_box(i * (col_w + 5), top, col_w, bottom_h, b, "panel")
                        for i, b in enumerate((first, placements, remnants)))
    head = (f"<h1>Slab {layout.index}<span class=\"sub\">{_e(layout.slab_id)}, {len(layout.placements)} piece{'s' if len(layout.placements) != 1 else ''}, "
            f"yield {doc.n.number(layout.yield_pct, 1)} %</span><span class=\"scale\">{_e(scale_note)}</span></h1>")
    return Sheet(f"Slab {layout.index} layout", _content(p, head + drawing + panel))


def _quote_sheet(doc: _Doc, q: Quote) -> Sheet:
    p, n = doc.page, doc.n
    rows = []
    for line in q.lines:
        qty = Decimal(line.quantity)
        places = 0 if qty == qty.to_integral_value() else (2 if line.unit == "m" else 3)
        rows.append([_e(line.description), n.number(qty, places), _e(line.unit), n.money(line.unit_price, q.currency),
                     n.money(line.amount, q.currency)])
    rate_text = n.trim(float(Decimal(q.vat_rate) * 100), 2)
    head = [("Item", ""), ("Quantity", "num"), ("Unit", ""), ("Unit price", "num"), ("Amount", "num")]
    foot = ("<tr class=\"sub\"><td></td><td></td><td></td><td class=\"num\">Net</td>"
            f"<td class=\"num\">{n.money(q.net, q.currency)}</td></tr>"
            f"<tr class=\"sub\"><td></td><td></td><td></td><td class=\"num\">VAT {rate_text} %</td>"
            f"<td class=\"num\">{n.money(q.vat, q.currency)}</td></tr>"
            f"<tr class=\"total\"><td>Total</td><td></td><td></td><td class=\"num\">{_e(q.currency)}</td>"
            f"<td class=\"num\">{n.money(q.total, q.currency)}</td></tr>")
    table = _rows_table(head, rows, widths=["46%", "13%", "8%", "16%", "17%"]).replace("</tbody>", foot + "</tbody>")
    included = doc.job.pricing is not None and doc.job.pricing.prices_include_vat
    note = ("Unit prices include VAT; net and VAT are worked back from the total. " if included else
            "Unit prices are net of VAT. ") + ("Areas are gross (cutouts included), over all pieces and copies; "
                                              "edges are measured along arcs.")
    width = min(p.inner_w, 250.0)
    sign = '<table class="sign"><tr><td>Customer signature</td><td class="gap"></td><td>Date</td></tr></table>'
    inner = (f"<h1>Quote<span class=\"sub\">{_e(doc.job.job.id)} — {_e(doc.job.job.name)}</span></h1>"
             + _box(0, HEAD_H, width, p.content_h - HEAD_H,
                    f'<h2>Quote lines ({_e(q.currency)})</h2>{table}<p class="note">{_e(note)}</p>'
                    f'<p class="note">I accept the drawings and the quote above.</p>{sign}'))
    return Sheet("Quote", _content(p, inner))


def _title_block(doc: _Doc, sheet: Sheet, number: int, count: int) -> str:
    job, s = doc.job, doc.summary
    if s.slabs and s.slabs.layouts:
        used: dict[str, int] = {}
        for lay in s.slabs.layouts:
            used[lay.slab_id] = used.get(lay.slab_id, 0) + 1
        slab_text = ", ".join(f"{k} ×{v}" for k, v in used.items())
    else:
        slab_text = ", ".join(x.id for x in job.slab_stock)
    units = "mm" if job.units == "mm" else "inches"

    # Absolutely placed cells, not a table: WeasyPrint's table layout costs ~0.1 s a page, blocks a few ms.
    p = doc.page
    w, row_h = p.width, p.title_h / 2
    cols = [0.19, 0.11, 0.24, 0.14, 0.14, 0.09, 0.09]
    xs = [sum(cols[:i]) * w for i in range(len(cols) + 1)]

    def cell(c0: int, c1: int, row: int, label: str, value: str, cls: str = "") -> str:
        return (f'<div class="tbc {cls}" style="left:{_f(xs[c0])}mm;top:{_f(row * row_h)}mm;'
                f'width:{_f(xs[c1] - xs[c0])}mm;height:{_f(row_h)}mm"><span class="lbl">{_e(label)}</span>'
                f'<span class="val">{_e(value)}</span></div>')

    brand = (f'<div class="tbc brand" style="left:0;top:0;width:{_f(xs[1])}mm;height:{_f(p.title_h)}mm">'
             f'<span class="studio">Studio — shop drawing</span><span class="what">{_e(sheet.title)}</span></div>')
    cells = (brand + cell(1, 2, 0, "Job", job.job.id) + cell(2, 3, 0, "Name", job.job.name)
             + cell(3, 4, 0, "Customer", job.job.customer or "—") + cell(4, 5, 0, "Site", job.job.site or "—")
             + cell(5, 6, 0, "Date", doc.issued.isoformat()) + cell(6, 7, 0, "Revision", REVISION)
             + cell(1, 3, 1, "Material", f"{job.material.name} ({job.material.type})")
             + cell(3, 4, 1, "Thickness / finish",
                    f"{doc.len.with_unit(doc.mm.material.thickness)} / {job.material.finish or '—'}")
             + cell(4, 5, 1, "Slabs", slab_text) + cell(5, 6, 1, "Units", f"{units}, areas m²")
             + cell(6, 7, 1, "Page", f"{number} of {count}", "pageno"))
    return f'<div class="tb" style="height:{_f(p.title_h)}mm">{cells}</div>'


def build_html(job: JobSpec, summary: Summary, svgs: dict[str, bytes], issued: dt.date, quote: Quote | None) -> str:
    """The HTML of the whole drawing set (one .sheet per page)."""
    doc = _Doc(job, summary, issued)
    n_cover = len(piece_list_chunks(len(summary.pieces), doc.page))
    slabs = summary.slabs.layouts if summary.slabs else []
    contents = ([f"{n_cover + i + 1} Piece {pc.id}" for i, pc in enumerate(doc.mm.pieces)]
                + [f"{n_cover + len(doc.mm.pieces) + i + 1} Slab {lay.index}" for i, lay in enumerate(slabs)]
                + ([f"{n_cover + len(doc.mm.pieces) + len(slabs) + 1} Quote"] if quote is not None else []))
    sheets = _cover_sheets(doc, contents)
    sheets += [_piece_sheet(doc, i, svgs) for i in range(len(doc.mm.pieces))]
    sheets += [_slab_sheet(doc, lay, svgs) for lay in slabs]
    if quote is not None:
        sheets.append(_quote_sheet(doc, quote))
    count = len(sheets)
    pages = "".join(f'<section class="sheet">{sh.body}{_title_block(doc, sh, i, count)}<div class="frame"></div></section>'
                    for i, sh in enumerate(sheets, start=1))
    lang = _e(job.job.locale or "en")
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{_e(job.job.id)} shop drawing</title></head><body>{pages}</body></html>")


# ---- the stage entry point -------------------------------------------------------------------------


def render_pdf(job: JobSpec, summary: Summary, svgs: dict[str, bytes], *, issued: dt.date | None = None) -> bytes:
    """The shop drawing set as PDF bytes; `issued` defaults to today (pass it for byte-identical output)."""
    return _render(job, summary, svgs, issued=issued)


def _render(job: JobSpec, summary: Summary, svgs: dict[str, bytes], *, issued: dt.date | None = None,
            resources: _Resources | None = None) -> bytes:
    """render_pdf with the WeasyPrint resources made explicit (the soak benchmark passes fresh ones)."""
    from weasyprint import HTML

    res = resources or _shared()
    q = summary.quote
    if q is None and job.pricing is not None:
        from engine.pricing import quote as make_quote

        q = make_quote(job, summary)
    day = issued or dt.date.today()
    html_text = build_html(job, summary, svgs, day, q)
    page = job.options.outputs.pdf.page if job.options.outputs.pdf else "A3"
    doc = HTML(string=html_text, base_url=ASSETS.as_uri() + "/", url_fetcher=res.fetcher)
    with _font_timestamp(day):
        return doc.write_pdf(stylesheets=[res.css, res.page_css[page]], font_config=res.font_config,
                             pdf_identifier=f"studio-{job.job.id}".encode()[:64])


@contextlib.contextmanager
def _font_timestamp(day: dt.date) -> Iterator[None]:
    """Stamp subsetted fonts with the issue date instead of the clock.

    fontTools rewrites a font's `head.modified` with the current time when WeasyPrint saves a subset (unless
    SOURCE_DATE_EPOCH is set, and the engine reads no environment), which alone makes two renders of the
    same job differ. The stage runs one render at a time per process, so swapping the function is safe.
    """
    from fontTools.misc.timeTools import epoch_diff
    from fontTools.ttLib.tables import _h_e_a_d

    stamp = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()) - epoch_diff
    saved = _h_e_a_d.timestampNow
    _h_e_a_d.timestampNow = lambda: stamp
    try:
        yield
    finally:
        _h_e_a_d.timestampNow = saved
