"""Visual regression: today's PDF against the baseline renderer (bench/pdf/baseline.py: engine/pdf.py at 4dc515e),
page by page at 50 dpi (pdftoppm, poppler-utils), with the same page count and the same extracted text."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from bench.pdf.baseline import baseline
from bench.pdf.compare import ISSUED, as_intended, page_texts, pixel_diffs
from engine.cad import run_cad
from engine.pdf import render_pdf
from engine.spec import PdfOutput, Pricing, decode_job

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MAX_CHANGED = 0.002  # of a page's pixels may move more than compare.INK_STEP grey levels
MAX_MEAN = 0.5  # grey levels, mean over the page


def _job(name: str, priced_a4: bool = False):
    job = decode_job((EXAMPLES / f"{name}.json").read_bytes())
    if priced_a4:
        prices = Pricing(material_per_m2=Decimal(200), fabrication_per_m2=Decimal(50), edge_per_m={"eased": Decimal(15)},
                         cutout_each={"undermount_sink": Decimal(120), "cooktop": Decimal(80), "faucet_hole": Decimal(25)},
                         vat_rate=Decimal("0.25"))
        outputs = msgspec.structs.replace(job.options.outputs, pdf=PdfOutput(page="A4"))
        job = msgspec.structs.replace(job, pricing=prices, options=msgspec.structs.replace(job.options, outputs=outputs))
    result = run_cad(job)
    return job, result.summary, {a.name: a.data for a in result.artifacts if a.name.endswith(".svg")}


@pytest.mark.parametrize(("name", "priced_a4"), [("l-kitchen", False), ("island", False), ("l-kitchen", True)])
def test_pages_look_like_the_baseline(name: str, priced_a4: bool):
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: install poppler-utils (.ci/run does)")
    job, summary, svgs = _job(name, priced_a4)
    today = render_pdf(job, summary, svgs, issued=ISSUED)
    baseline_pdf = baseline().render_pdf(job, summary, svgs, issued=ISSUED)
    assert page_texts(today) == [as_intended(text) for text in page_texts(baseline_pdf)]
    for diff in pixel_diffs(baseline_pdf, today):  # raises on a different page count or size
        assert diff.changed <= MAX_CHANGED and diff.mean <= MAX_MEAN, diff


def test_the_comparison_sees_a_changed_page():
    """The tolerance is tight enough to catch a real change: another job name (title block, cover) fails it."""
    job, summary, svgs = _job("island")
    other = msgspec.structs.replace(job, job=msgspec.structs.replace(job.job, name="Another name entirely, much longer"))
    diffs = pixel_diffs(render_pdf(job, summary, svgs, issued=ISSUED), render_pdf(other, summary, svgs, issued=ISSUED))
    assert any(d.changed > MAX_CHANGED or d.mean > MAX_MEAN for d in diffs)
