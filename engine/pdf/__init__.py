"""The PDF shop drawing set: cover with piece list, a sheet per piece, a sheet per slab, and the quote.

Sheets are fixed-size HTML blocks, one per page, so page n of m is known before WeasyPrint lays anything out.
Piece sheets are drawn from `engine.geometry` at a standard scale (1:10, 1:20, ...) true to the printed page,
with dimension lines in the job's units; slab sheets embed the CAD stage's `slab-<n>.svg` and fall back to a
drawing of their own. Everything is vector SVG; fonts come from `engine/assets/fonts`, and the URL fetcher
reads nothing but those assets and `data:` URLs.

What is drawn is apart from how it is drawn, as in ezdxf's drawing add-on:
- `drawing_set` picks the sheets and joins their HTML; `cover`, `piece_sheet`, `seam_sheet` (a piece split by
  `options.auto_seams`, its seams dimensioned), `slab_sheet` build each sheet from the `blocks` (context, tables,
  boxes) on the `page` geometry;
- `piece_view`, `slab_view` draw the SVG figures with `marks` (text, lines, dimensions) and the shared
  `engine.drawing` path writer, palette and length formatter;
- `render` is the WeasyPrint set-up and the stage entry point.
"""

from engine.drawing.units import Lengths, Numbers
from engine.pdf.cover import expected_pages, piece_list_chunks
from engine.pdf.drawing_set import build_html
from engine.pdf.page import PAGES, PageGeometry
from engine.pdf.piece_view import cutout_positions, piece_drawing
from engine.pdf.render import ASSETS, _render, _Resources, _shared, render_pdf, url_fetcher, warm
from engine.pdf.slab_view import slab_drawing

__all__ = ["ASSETS", "PAGES", "Lengths", "Numbers", "PageGeometry", "_Resources", "_render", "_shared", "build_html",
           "cutout_positions", "expected_pages", "piece_drawing", "piece_list_chunks", "render_pdf", "slab_drawing",
           "url_fetcher", "warm"]
