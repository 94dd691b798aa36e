"""What every sheet is built from: the render's context, the sheet itself, tables, boxes, warning lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.drawing.svgpath import number
from engine.drawing.units import Lengths, Numbers
from engine.model import Finding, Summary
from engine.pdf.marks import escape, image
from engine.pdf.page import INSET, PAGES
from engine.pdf.slab_view import fit_foreign_svg
from engine.spec import JobSpec, to_mm


@dataclass
class DrawingSheet:
    title: str
    body: str


class Places:
    """A CSS class per position of the absolute boxes (bands, panels, title-block cells), in the set's <style>.

    WeasyPrint shares one computed style among elements with the same parent style, the same matched rules and
    no style attribute. A position as a class makes every sheet's boxes (and everything inside them) share the
    styles of the first sheet's; as style attributes, each sheet's were computed again.
    """

    def __init__(self) -> None:
        self._names: dict[str, str] = {}

    def __call__(self, left: float, top: float, width: float, height: float) -> str:
        rule = f"left:{number(left)}mm;top:{number(top)}mm;width:{number(width)}mm;height:{number(height)}mm"
        return self._names.setdefault(rule, f"at{len(self._names)}")

    def css(self) -> str:
        return "".join(f".{name}{{{rule}}}" for rule, name in self._names.items())


class SheetContext:
    """Everything one render needs: the job in mm, formatters, page geometry, the boxes' positions."""

    def __init__(self, job: JobSpec, summary: Summary, issued: dt.date) -> None:
        self.job = job
        self.mm = to_mm(job)
        self.summary = summary
        self.issued = issued
        self.page = PAGES[job.options.outputs.pdf.page if job.options.outputs.pdf else "A3"]
        self.numbers = Numbers(job.job.locale)
        self.lengths = Lengths(job.units, self.numbers)
        self.pieces_mm = {piece.id: piece for piece in self.mm.pieces}
        self.places = Places()


def rows_table(headers: list[tuple[str, str]], rows: list[list[str]], cls: str = "list", widths: list[str] | None = None,
                total: list[str] | None = None) -> str:
    """A table; headers are (label, css class) and every cell is already escaped."""
    cols = "".join(f'<col style="width:{width}">' for width in widths) if widths else ""
    head = "".join(f'<th class="{css}">{label}</th>' for label, css in headers)
    body = "".join("<tr>" + "".join(f'<td class="{headers[i][1]}">{cell}</td>' for i, cell in enumerate(row)) + "</tr>"
                   for row in rows)
    foot = ("<tr class=\"total\">" + "".join(f'<td class="{headers[i][1]}">{cell}</td>' for i, cell in enumerate(total))
            + "</tr>") if total else ""
    return f'<table class="{cls}"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}{foot}</tbody></table>'


def kv(rows: list[tuple[str, str]]) -> str:
    return ('<table class="kv">' + "".join(f"<tr><td>{escape(key)}</td><td>{value}</td></tr>" for key, value in rows)
            + "</table>")


def warnings_box(findings: list[Finding], limit: int) -> str:
    if not findings:
        return '<p class="ok">No warnings.</p>'
    items = "".join(f"<p><b>{escape(finding.code)}</b> {escape(finding.path)}: {escape(finding.message)}</p>"
                    for finding in findings[:limit])
    more = f'<p class="more">… and {len(findings) - limit} more (see the piece sheets)</p>' if len(findings) > limit else ""
    return f'<div class="warn">{items}{more}</div>'


def edge_text(by_profile_m: dict[str, float], doc: SheetContext, by_profile_ft: dict[str, float] | None = None) -> str:
    """Finished edge by profile in the job's units ('eased 4.69 m', 'eased 15.38 ft'), from the summary's twins."""
    feet = by_profile_ft or {}
    return ", ".join(f"{profile} {doc.lengths.run(metres, feet.get(profile))}"
                     for profile, metres in by_profile_m.items() if metres > 0) or "—"


def cutout_text(by_type: dict[str, int]) -> str:
    return ", ".join(f"{count}× {kind.replace('_', ' ')}" for kind, count in by_type.items()) or "—"



def content(doc: SheetContext, inner: str) -> str:
    return box(doc, INSET, INSET, doc.page.inner_w, doc.page.content_h, inner, "content")


def box(doc: SheetContext, left: float, top: float, width: float, height: float, inner: str, cls: str = "band") -> str:
    return f'<div class="{cls} {doc.places(left, top, width, height)}">{inner}</div>'



def drawing_div(svg: str, width: float, height: float, left: float, top: float, room_w: float, room_h: float) -> str:
    """The drawing centred in its room (a position of its own: a style attribute, not a class)."""
    return (f'<div class="drawing" style="left:{number(left + (room_w - width) / 2)}mm;top:{number(top + (room_h - height) / 2)}mm;'
            f'width:{number(width)}mm;height:{number(height)}mm">{image(svg, width, height)}</div>')



def foreign_or_missing(data: bytes | None, left: float, top: float, room_w: float, room_h: float) -> str:
    if data:
        try:
            fixed, width, height = fit_foreign_svg(data, room_w, room_h)
            return (f'<div class="drawing" style="left:{number(left + (room_w - width) / 2)}mm;'
                    f'top:{number(top + (room_h - height) / 2)}mm">{image(fixed, width, height)}</div>')
        except Exception:
            pass
    return (f'<div class="na" style="left:{number(left)}mm;top:{number(top)}mm;width:{number(room_w)}mm;height:{number(room_h)}mm;'
            f'line-height:{number(room_h)}mm">drawing not available</div>')

