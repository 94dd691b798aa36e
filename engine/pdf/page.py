"""Page geometry: the sheet inside the page margins, the title block, the panels and rows that fit (mm)."""

from __future__ import annotations

from dataclasses import dataclass

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
HEAD_H = 9.0  # the sheet heading line above drawings and tables


def page_css(page: PageGeometry) -> str:
    return (f"@page {{ size: {page.name} landscape; margin: {page.margin}mm; }}\n"
            f"html {{ font-size: {page.font_pt}pt; }}\n"
            f".sheet {{ width: {page.width}mm; height: {page.height}mm; }}\n"
            f"div.tb {{ height: {page.title_h}mm; }}\n"

            f".list td, .list th, .panel td, .panel th {{ height: {page.row_mm - 1.2:.2f}mm; }}\n")

