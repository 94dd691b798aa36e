"""Today's renderer against the baseline (bench/pdf/baseline.py): the same jobs, page counts,
extracted text and pixels (pdftoppm at 50 dpi), for the PDF benchmark and the visual regression test."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

ISSUED = dt.date(2025, 1, 15)
DPI = 50
INK_STEP = 48  # grey levels (of 255) a pixel must move to count as changed: anti-aliasing moves less


class PageDiff(NamedTuple):
    page: int
    changed: float  # fraction of pixels that moved more than INK_STEP
    mean: float  # mean absolute difference, grey levels


def jobs() -> dict[str, tuple[Any, Any, dict[str, bytes]]]:
    """l-kitchen and the 60-piece priced job, with the summary and SVGs the CAD stage gives the PDF stage."""
    from bench.pdf_soak import cad, example, sixty_piece_job

    out = {}
    for name, job in (("l-kitchen", example("l-kitchen")), ("60 pieces", sixty_piece_job())):
        summary, svgs = cad(job)
        out[name] = (job, summary, svgs)
    return out


def renderers() -> dict[str, Any]:
    from bench.pdf.baseline import baseline
    from engine import pdf

    return {"baseline": baseline().render_pdf, "today": pdf.render_pdf}


_WHOLE_CM_THICKNESS = re.compile(r"(?<=Thickness )(\d+)0 mm\b|(?<![\d,.])\b(\d+)0 mm(?= / )")


def as_intended(text: str) -> str:
    """A baseline page's text with the one intended difference from it: a 20 or 30 mm slab is written "2 cm",
    "3 cm" (issue 17), in the job box, the title block and each piece sheet's data."""
    return _WHOLE_CM_THICKNESS.sub(lambda m: f"{m.group(1) or m.group(2)} cm", text)


def page_texts(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def rasterise(data: bytes, dpi: int = DPI) -> list[np.ndarray]:
    """Each page as a greyscale array (pdftoppm, poppler-utils)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(data)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", str(src), str(Path(tmp) / "p")], check=True, timeout=300)
        return [_read_pgm(path) for path in sorted(Path(tmp).glob("p-*.pgm"), key=lambda p: int(p.stem.split("-")[1]))]


def _read_pgm(path: Path) -> np.ndarray:
    raw = path.read_bytes()
    fields = raw.split(maxsplit=4)  # P5, width, height, maxval, pixels
    width, height = int(fields[1]), int(fields[2])
    return np.frombuffer(fields[4][: width * height], dtype=np.uint8).reshape(height, width)


def pixel_diffs(first: bytes, second: bytes) -> list[PageDiff]:
    """Page by page; raises if the page counts or sizes differ."""
    pages_a, pages_b = rasterise(first), rasterise(second)
    if len(pages_a) != len(pages_b):
        raise AssertionError(f"{len(pages_a)} pages against {len(pages_b)}")
    out = []
    for number, (page_a, page_b) in enumerate(zip(pages_a, pages_b, strict=True), start=1):
        if page_a.shape != page_b.shape:
            raise AssertionError(f"page {number}: {page_a.shape} against {page_b.shape}")
        delta = np.abs(page_a.astype(np.int16) - page_b.astype(np.int16))
        out.append(PageDiff(number, float((delta > INK_STEP).mean()), float(delta.mean())))
    return out
