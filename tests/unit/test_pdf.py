"""The PDF shop drawing: pages, page size, text layer, vectors only, fetcher, determinism, big jobs."""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from pypdf import PdfReader

from engine import pdf
from engine.model import Quote, QuoteLine
from engine.spec import PdfOutput, Pricing, decode_job

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ISSUED = dt.date(2025, 1, 15)
A3 = (1190.55, 841.89)
A4 = (841.89, 595.28)


@functools.cache
def cad(name: str):
    """Job, summary and SVGs as the CAD stage hands them to the PDF stage."""
    job = decode_job((EXAMPLES / f"{name}.json").read_bytes())
    try:
        from engine.cad import run_cad
    except ImportError:  # no CAD stage yet: a summary without slabs or SVGs
        from engine.summary import summarize

        return job, summarize(job, None), {}
    result = run_cad(job)
    return job, result.summary, {a.name: a.data for a in result.artifacts if a.name.endswith(".svg")}


def read(data: bytes) -> PdfReader:
    assert data.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(data))


def expected_pages(job, summary, priced: bool) -> int:
    slabs = len(summary.slabs.layouts) if summary.slabs else 0
    cover = len(pdf.piece_list_chunks(len(job.pieces), pdf.PAGES[job.options.outputs.pdf.page]))
    return cover + len(job.pieces) + slabs + (1 if priced else 0)


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def no_raster_images(reader: PdfReader) -> None:
    seen = set()

    def walk(resources) -> None:
        for xobj in (resources or {}).get("/XObject", {}).values():
            obj = xobj.get_object()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            assert obj.get("/Subtype") != "/Image", "drawings must be vectors, not raster images"
            walk(obj.get("/Resources"))

    for page in reader.pages:
        walk(page.get("/Resources"))


@pytest.mark.parametrize("name", ["l-kitchen", "island"])
def test_examples_render_a_full_drawing_set(name):
    job, summary, svgs = cad(name)
    reader = read(pdf.render_pdf(job, summary, svgs, issued=ISSUED))
    assert len(reader.pages) == expected_pages(job, summary, priced=False) == 1 + len(job.pieces) + summary.slabs.used
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A3, abs=1)
    text = text_of(reader)
    assert job.job.id in text
    for piece in job.pieces:
        assert f"Piece {piece.id}" in text
    assert pdf.Numbers(job.job.locale).number(summary.area_gross_m2, 3) + " m²" in text
    assert f"1 of {len(reader.pages)}" in text and f"{len(reader.pages)} of {len(reader.pages)}" in text
    assert "2025-01-15" in text
    no_raster_images(reader)


def test_cutout_positions_in_the_text_layer():
    job, summary, svgs = cad("l-kitchen")
    piece_a = read(pdf.render_pdf(job, summary, svgs, issued=ISSUED)).pages[1].extract_text()
    # SINK1: centre 1900 from the left end; front at 290 - 430/2 = 75 from the front edge. FH1: 565 - 17.5.
    assert "SINK1" in piece_a and "1900" in piece_a and "75" in piece_a and "547,5" in piece_a


def test_a4_and_a_priced_job_add_the_quote_page():
    job, summary, svgs = cad("l-kitchen")
    prices = Pricing(material_per_m2=Decimal(200), fabrication_per_m2=Decimal(50),
                     edge_per_m={"eased": Decimal(15)}, cutout_each={"undermount_sink": Decimal(120),
                     "cooktop": Decimal(80), "faucet_hole": Decimal(10)}, vat_rate=Decimal("0.25"))
    options = msgspec.structs.replace(job.options, outputs=msgspec.structs.replace(job.options.outputs,
                                                                                  pdf=PdfOutput(page="A4")))
    priced = msgspec.structs.replace(job, pricing=prices, options=options)
    assert summary.quote is None  # render_pdf prices the job itself
    reader = read(pdf.render_pdf(priced, summary, svgs, issued=ISSUED))
    assert len(reader.pages) == expected_pages(priced, summary, priced=True)
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=1)
    quote_page = reader.pages[-1].extract_text()
    assert "1.226,13 EUR" in quote_page  # hr-HR; 980.90 net + 25 % VAT, see test_pricing
    assert "245,23 EUR" in quote_page


_RENDER_ISLAND = """
import datetime as dt, hashlib, sys
from engine.cad import run_cad
from engine.pdf import render_pdf
from engine.spec import decode_job
job = decode_job(open(sys.argv[1], "rb").read())
result = run_cad(job)
svgs = {a.name: a.data for a in result.artifacts if a.name.endswith(".svg")}
print(hashlib.sha256(render_pdf(job, result.summary, svgs, issued=dt.date(2025, 1, 15))).hexdigest())
"""


def test_same_input_same_bytes_across_processes_and_seconds():
    """Two processes, more than a second apart: a clock anywhere in the file (a font's head.modified, which
    fontTools' subsetter stamps and HarfBuzz's does not; a creation date) would make the digests differ."""
    root = Path(__file__).resolve().parents[2]

    def digest() -> str:
        done = subprocess.run([sys.executable, "-c", _RENDER_ISLAND, str(root / "examples" / "island.json")],
                              cwd=root, capture_output=True, text=True, check=True, timeout=120)
        return done.stdout.strip()

    first = digest()
    time.sleep(1.1)
    assert digest() == first


def test_missing_svgs_and_unbuildable_geometry_never_crash():
    job, summary, _ = cad("l-kitchen")
    # A corner that cannot fit: engine.geometry raises, the sheet says "drawing not available".
    from engine.spec import Corner

    broken = msgspec.structs.replace(job.pieces[1], corners=[Corner(at=1, type="radius", size=5000)])
    bad = msgspec.structs.replace(job, pieces=[job.pieces[0], broken])
    reader = read(pdf.render_pdf(bad, summary, {}, issued=ISSUED))
    assert len(reader.pages) == expected_pages(bad, summary, priced=False)
    assert "drawing not available" in reader.pages[2].extract_text()


def test_url_fetcher_serves_assets_and_data_only():
    with pytest.raises(ValueError):
        pdf.url_fetcher("http://example.com/logo.png")
    with pytest.raises(ValueError):
        pdf.url_fetcher("https://example.com/font.ttf")
    with pytest.raises(ValueError):
        pdf.url_fetcher("file:///etc/passwd")
    with pytest.raises(ValueError):
        pdf.url_fetcher((pdf.ASSETS / "fonts" / ".." / ".." / "pdf" / "render.py").resolve().as_uri())
    font = pdf.url_fetcher((pdf.ASSETS / "fonts" / "DejaVuSans.ttf").as_uri())
    assert font.read(4) == b"\x00\x01\x00\x00"
    data = pdf.url_fetcher("data:image/svg+xml;base64,PHN2Zy8+")
    assert data.read() == b"<svg/>"


@pytest.mark.parametrize("locale, currency, text", [
    ("hr-HR", "EUR", "1.234,56 EUR"), ("en-US", "USD", "$1,234.56"), ("en-GB", "GBP", "£1,234.56"),
    ("de-DE", "EUR", "1.234,56 €"), ("fr-FR", "EUR", "1\u00a0234,56\u00a0€"), (None, "EUR", "1,234.56 EUR"),
    ("en-US", "CHF", "CHF 1,234.56"),
])
def test_money_in_the_jobs_locale(locale, currency, text):
    assert pdf.Numbers(locale).money(Decimal("1234.555"), currency) == text


@pytest.mark.parametrize(("locale", "expected"), [
    ("en-US", ["Gross area 28.28 ft²", "Weight 325.9 lb", "yield 48.2 %", "96.19 × 25.62", "$1,696.80",
               "Kerf / margin 0.12\" / 0.5\"", "yield 48.2%"]),
    ("de-DE", ["Gross area 28,28 ft²", "Weight 325,9 lb", "yield 48,2 %", "96,19 × 25,62", "1.696,80 $",
               "Kerf / margin 0,12\" / 0,5\"", "yield 48,2%"]),
])
def test_an_inches_job_in_its_locale_with_the_thickness_as_the_trade_writes_it(locale: str, expected: list[str]):
    """Areas, weights, money, percentages and lengths in the job's locale (the slab figure too); the 1.25 in slab
    is 1-1/4 in on the cover, the piece sheets and every title block."""
    from engine.cad import run_cad

    job = decode_job((EXAMPLES / "us-kitchen-inches.json").read_bytes())
    job = msgspec.structs.replace(job, job=msgspec.structs.replace(job.job, locale=locale),
                                  pricing=Pricing(material_per_ft2=Decimal(60)))
    result = run_cad(job)
    svgs = {a.name: a.data for a in result.artifacts if a.name.endswith(".svg")}
    reader = read(pdf.render_pdf(job, result.summary, svgs, issued=ISSUED))
    pages = [page.extract_text() for page in reader.pages]
    text = "\n".join(pages)
    for figure in expected:
        assert figure in text, figure
    assert "Thickness / finish 1-1/4 in / polished" in pages[0]
    assert all("Thickness 1-1/4 in" in page for page in pages[1:3])  # the two piece sheets
    assert all("1-1/4 in / polished" in page for page in pages)  # the title block
    assert "1.25" not in text.replace("Quartz (engineered), 1.25 in", "")  # only the quote line's own name keeps it
    mark = "." if locale == "en-US" else ","
    cover, piece_a, piece_b, slab, quote = pages
    for page in pages:  # an inches job is answered in ft², linear ft and lb on every sheet, never in m², m or kg
        assert "inches, areas ft²" in page
        assert "m²" not in page and "kg" not in page and not re.search(r"\d m\b", page), page
    assert f"Net area 20{mark}88 ft²" in cover and f"Finished edge 15{mark}38 ft" in cover
    assert f"By profile eased 15{mark}38 ft" in cover and f"Area ft² each" in cover
    assert f"17{mark}12 17{mark}12 eased 8{mark}02 ft" in cover  # piece A's row: ft² each, ft² total, its edge
    assert f"Gross / net area 17{mark}12 ft² / 13{mark}78" in piece_a and f"eased 8{mark}02 ft" in piece_a
    assert f"Gross / net area 11{mark}17 ft² / 7{mark}10" in piece_b
    assert f"Used area 28{mark}28 ft²" in slab
    # the quote: ft² to 2 decimals, and a job whose prices carry no tax says so, never "VAT 0 %"
    assert f"28{mark}28 ft²" in quote and f"28{mark}280" not in quote
    assert "No tax" in quote and "VAT" not in text and "carry no tax" in quote


def test_sixty_pieces_render_with_continued_piece_list():
    from bench.pdf_soak import sixty_piece_job
    from engine.summary import summarize

    job = sixty_piece_job()
    summary = summarize(job, None)  # no nesting: this is about the PDF's size, not the layout
    reader = read(pdf.render_pdf(job, summary, {}, issued=ISSUED))
    assert len(reader.pages) == expected_pages(job, summary, priced=True) == 3 + 60 + 1
    assert "continued" in reader.pages[1].extract_text()
    assert "P60" in reader.pages[2].extract_text() and "Total" in reader.pages[2].extract_text()


def test_soak_smoke_keeps_memory_bounded():
    from bench.pdf_soak import growth, soak

    samples = soak(6, 3, fresh=False, log=lambda _: None)
    assert [n for n, _ in samples] == [0, 3, 6]
    start, end, _ = growth(samples)
    assert end < start * 1.5


def test_a_sales_tax_quote_prints_its_tax_not_a_zero_vat() -> None:
    from engine.cad import run_cad

    job = decode_job((EXAMPLES / "us-kitchen-inches.json").read_bytes())
    prices = Pricing(currency="USD", material_per_ft2=Decimal(45), fabrication_per_ft2=Decimal(12),
                     sales_tax_rate=Decimal("0.0725"))
    job = msgspec.structs.replace(job, pricing=prices)
    result = run_cad(job)
    quote = result.summary.quote
    assert quote is not None and quote.tax_kind == "sales_tax" and quote.currency == "USD"
    svgs = {a.name: a.data for a in result.artifacts if a.name.endswith(".svg")}
    text = text_of(read(pdf.render_pdf(job, result.summary, svgs, issued=ISSUED)))
    assert "Sales tax 7.25 %" in text and "VAT" not in text.split("QUOTE LINES", 1)[-1]
    assert "before sales tax" in text
    assert "28.28 ft² $45.00" in text and "28.280" not in text  # ft² to 2 decimals, as the line's detail writes it
    assert [line.detail.split(" x ")[0] for line in quote.lines] == ["28.28 ft²", "28.28 ft²"]


def test_a_stored_quote_from_before_price_lists_without_vat_says_no_tax() -> None:
    """A summary stored before price lists has only the VAT fields; a zero rate there was no tax, not "VAT 0 %"."""
    job, summary, svgs = cad("l-kitchen")
    line = QuoteLine(description="Material", quantity="2.7776", unit="m²", unit_price="200.00", amount="555.52")
    legacy = Quote(currency="EUR", lines=[line], net="555.52", vat_rate="0", vat="0.00", total="555.52")
    pages = [page.extract_text() for page in read(pdf.render_pdf(
        job, msgspec.structs.replace(summary, quote=legacy), svgs, issued=ISSUED)).pages]
    assert "No tax" in pages[-1] and "VAT" not in pages[-1] and "2,778 m²" in pages[-1]  # l-kitchen is hr-HR


def test_boxes_placed_by_class_so_sheets_share_styles() -> None:
    """WeasyPrint shares a computed style only among elements without a style attribute (and with a shared parent
    style): the bands, panels and title-block cells carry their position as a class, the same on every sheet."""
    import re

    job, summary, svgs = cad("l-kitchen")
    html = pdf.build_html(job, summary, svgs, ISSUED, None)
    assert not re.search(r'<div class="(content|band|panel|tb|tbc)\b[^"]*" style=', html)
    sheets = html.split('<section class="sheet">')[1:]
    cells = [re.findall(r'<div class="tbc[^"]*\b(at\d+)"', sheet) for sheet in sheets]
    assert len(sheets) == 4 and len(cells[0]) >= 10 and all(c == cells[0] for c in cells)
    style = re.search(r"<style>(.*?)</style>", html).group(1)
    assert all(f".{name}{{left:" in style for name in cells[0])


def test_render_leaves_the_garbage_collector_as_it_was() -> None:
    import gc

    job, summary, svgs = cad("island")
    assert gc.isenabled()
    pdf.render_pdf(job, summary, svgs, issued=ISSUED)
    assert gc.isenabled()
    gc.disable()
    try:
        pdf.render_pdf(job, summary, svgs, issued=ISSUED)
        assert not gc.isenabled()
    finally:
        gc.enable()
