"""The cover (job, totals, warnings, the piece list continued on more sheets), the quote, the title block."""

from __future__ import annotations

from decimal import Decimal

from engine.model import PieceSummary, Quote, Slabs, Summary
from engine.pdf.blocks import DrawingSheet, SheetContext, box, content, cutout_text, edge_text, kv, rows_table, warnings_box
from engine.pdf.marks import escape
from engine.pdf.page import HEAD_H, PAGES, PageGeometry
from engine.spec import JobSpec

REVISION = "A"
# Decimals of a quote line's quantity by unit of sale: ft² and linear ft to 2, as a US fabricator writes them (and
# as the line's `detail` does); m² to 3 and m to 2, as the metric sheets always have.
QUOTE_PLACES = {"m²": 3, "m": 2, "ft²": 2, "ft": 2}


def piece_row(piece: PieceSummary, doc: SheetContext) -> list[str]:
    size = f"{doc.lengths(piece.length_mm)} × {doc.lengths(piece.depth_mm)}"
    sqft = piece.area_gross_sqft
    return [f"<b>{escape(piece.id)}</b>", escape(piece.label or ""), escape(piece.type.replace("_", " ")), size, str(piece.qty),
            doc.lengths.area_figure(piece.area_gross_m2, sqft),
            doc.lengths.area_figure(piece.area_gross_m2 * piece.qty, None if sqft is None else sqft * piece.qty),
            escape(edge_text(piece.finished_edge_by_profile_m, doc, piece.finished_edge_by_profile_ft)),
            escape(cutout_text(piece.cutouts.by_type))]


def piece_list_head(area_unit: str) -> list[tuple[str, str]]:
    return [("Piece", ""), ("Label", ""), ("Type", ""), ("Size L × D", "num"), ("Qty", "num"),
            (f"Area {area_unit} each", "num"), (f"Area {area_unit} total", "num"), ("Finished edge (per piece)", ""),
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
    """How many pages render_pdf makes: piece-list sheets, one per piece (a seamed piece: one for its seams and
    one per part), one per slab, the quote."""
    page = PAGES[job.options.outputs.pdf.page if job.options.outputs.pdf else "A3"]
    slabs = len(summary.slabs.layouts) if summary.slabs else 0
    listed = len(job.pieces) + len(summary.seams)  # each seam adds a part to the piece list
    seamed = len({seam.piece for seam in summary.seams})
    return len(piece_list_chunks(listed, page)) + listed + seamed + slabs + (1 if priced else 0)



def stock_text(doc: SheetContext, slabs: Slabs | None) -> str:
    """The stock line: the job's slabs, or for a job nested on the yard the yard's slabs it uses."""
    if isinstance(doc.mm.slab_stock, str):
        used = slabs.layouts[:4] if slabs else []
        return "the yard: " + ", ".join(f"{x.slab_id} {doc.lengths(x.length_mm)}×{doc.lengths(x.width_mm)}" for x in used)
    return ", ".join(f"{slab.id} {doc.lengths(slab.length)}×{doc.lengths(slab.width)}" for slab in doc.mm.slab_stock[:4])


def cover_sheets(doc: SheetContext, contents: list[str]) -> list[DrawingSheet]:
    summary, job, page = doc.summary, doc.job, doc.page
    slabs = summary.slabs
    lengths, numbers = doc.lengths, doc.numbers

    def feet(value: float, unit: str) -> str:  # a metric job's figure in US units too, labelled as such
        return f" ({numbers.number(value, 2)} {unit})" if job.units == "mm" else ""

    totals = [
        ("Pieces", f"{len(summary.pieces)} ({sum(x.qty for x in summary.pieces)} with copies)"),
        ("Gross area", f"<b>{lengths.area(summary.area_gross_m2, summary.area_gross_sqft)}</b>"
                       + feet(summary.area_gross_sqft, "ft²")),
        ("Net area", lengths.area(summary.area_net_m2, summary.area_net_sqft) + feet(summary.area_net_sqft, "ft²")),
        ("Finished edge", lengths.run(summary.finished_edge_m, summary.finished_edge_ft)
                          + feet(summary.finished_edge_ft, "ft")),
        ("By profile", escape(edge_text(summary.finished_edge_by_profile_m, doc, summary.finished_edge_by_profile_ft))),
        ("Cutouts", f"{summary.cutouts.total}: {escape(cutout_text(summary.cutouts.by_type))}"),
        ("Weight", lengths.weight(summary.weight_kg, summary.weight_lb)),
        ("Slabs", (f"{slabs.used} used (area bound {slabs.area_bound}), yield {doc.numbers.number(slabs.yield_pct, 1)} %"
                   if slabs else "not nested")),
    ]
    options = job.options
    info = [
        ("Job", f"<b>{escape(job.job.id)}</b>"), ("Name", escape(job.job.name)),
        ("Customer", escape(job.job.customer or "—")), ("Site", escape(job.job.site or "—")),
        ("Material", escape(f"{job.material.name} ({job.material.type})")),
        ("Thickness / finish", escape(f"{doc.lengths.thickness(doc.mm.material.thickness)} / {job.material.finish or '—'}")),
        ("Process", escape(f"{options.cutting_process.replace('_', ' ')}, kerf {doc.lengths.with_unit(doc.mm.options.kerf)}")),
        ("Stock", escape(stock_text(doc, slabs))),
    ]
    findings = [*summary.errors, *summary.warnings]
    band_h = 60.0 if page.name == "A3" else 52.0
    col_w = (page.inner_w - 10) / 3
    sheet_list = ('<p class="note">' + " · ".join(escape(title) for title in contents[:40])
                  + (" …" if len(contents) > 40 else "") + "</p>")
    band = (box(doc, 0, HEAD_H, col_w, band_h, f"<h2>Job</h2>{kv(info)}")
            + box(doc, col_w + 5, HEAD_H, col_w, band_h, f"<h2>Totals</h2>{kv(totals)}")
            + box(doc, 2 * col_w + 10, HEAD_H, col_w, band_h,
                   f"<h2>Warnings</h2>{warnings_box(findings, 5 if page.name == 'A3' else 3)}"
                   f"<h2>Sheets</h2>{sheet_list}"))
    chunks = piece_list_chunks(len(summary.pieces), page)
    sheets = []
    for i, (first, stop) in enumerate(chunks):
        rows = [piece_row(piece, doc) for piece in summary.pieces[first:stop]]
        last = stop == len(summary.pieces)
        total = (["<b>Total</b>", "", "", "", str(sum(piece.qty for piece in summary.pieces)), "",
                  lengths.area_figure(summary.area_gross_m2, summary.area_gross_sqft),
                  escape(edge_text(summary.finished_edge_by_profile_m, doc, summary.finished_edge_by_profile_ft)),
                  escape(cutout_text(summary.cutouts.by_type))]
                 if last else None)
        table = rows_table(piece_list_head(lengths.area_unit), rows, widths=PIECE_LIST_WIDTHS, total=total)
        heading = f"Piece list ({first + 1}–{stop} of {len(summary.pieces)})" if len(chunks) > 1 else "Piece list"
        top = HEAD_H + band_h + 4 if i == 0 else HEAD_H
        title = (f"<h1>{escape(job.job.name)}<span class=\"sub\">Shop drawing set, job {escape(job.job.id)}</span></h1>"
                 if i == 0 else "<h1>Piece list<span class=\"sub\">continued</span></h1>")
        inner = title + (band if i == 0 else "") + box(doc, 0, top, page.inner_w, page.content_h - top, f"<h2>{heading}</h2>{table}")
        sheets.append(DrawingSheet("Job summary and piece list" if i == 0 else "Piece list, continued", content(doc, inner)))
    return sheets



def quote_sheet(doc: SheetContext, quote: Quote) -> DrawingSheet:
    page, numbers = doc.page, doc.numbers
    rows = []
    for line in quote.lines:
        qty = Decimal(line.quantity)
        places = 0 if qty == qty.to_integral_value() else QUOTE_PLACES.get(line.unit, 2)
        rows.append([escape(line.description), numbers.number(qty, places), escape(line.unit), numbers.money(line.unit_price, quote.currency),
                     numbers.money(line.amount, quote.currency)])
    # A quote from before price lists carries only the VAT fields (tax_label empty), and a zero rate there was no tax.
    rate, tax = (quote.tax_rate, quote.tax) if quote.tax_label else (quote.vat_rate, quote.vat)
    kind = quote.tax_kind if quote.tax_label else ("vat" if Decimal(rate) else "none")
    rate_text = numbers.trim(float(Decimal(rate) * 100), 2)
    tax_label = {"sales_tax": f"Sales tax {rate_text} %", "none": "No tax"}.get(kind, f"VAT {rate_text} %")
    head = [("Item", ""), ("Quantity", "num"), ("Unit", ""), ("Unit price", "num"), ("Amount", "num")]
    foot = ("<tr class=\"sub\"><td></td><td></td><td></td><td class=\"num\">Net</td>"
            f"<td class=\"num\">{numbers.money(quote.net, quote.currency)}</td></tr>"
            f"<tr class=\"sub\"><td></td><td></td><td></td><td class=\"num\">{tax_label}</td>"
            f"<td class=\"num\">{numbers.money(tax, quote.currency)}</td></tr>"
            f"<tr class=\"total\"><td>Total</td><td></td><td></td><td class=\"num\">{escape(quote.currency)}</td>"
            f"<td class=\"num\">{numbers.money(quote.total, quote.currency)}</td></tr>")
    table = rows_table(head, rows, widths=["46%", "13%", "8%", "16%", "17%"]).replace("</tbody>", foot + "</tbody>")
    included = quote.prices_include_tax if quote.tax_label else (
        doc.job.pricing is not None and doc.job.pricing.prices_include_vat)
    if kind == "none":
        tax_note = "The prices carry no tax and none is added. "
    elif kind == "sales_tax":
        tax_note = "Unit prices are before sales tax, which is added to the net. "
    else:
        tax_note = ("Unit prices include VAT; net and VAT are worked back from the total. " if included else
                    "Unit prices are net of VAT. ")
    note = tax_note + ("Areas are gross (cutouts included), over all pieces and copies; edges are measured along "
                       "arcs.")
    notes = "".join(f'<p class="note">{escape(text)}</p>' for text in quote.notes)
    width = min(page.inner_w, 250.0)
    sign = '<table class="sign"><tr><td>Customer signature</td><td class="gap"></td><td>Date</td></tr></table>'
    inner = (f"<h1>Quote<span class=\"sub\">{escape(doc.job.job.id)} — {escape(doc.job.job.name)}</span></h1>"
             + box(doc, 0, HEAD_H, width, page.content_h - HEAD_H,
                    f'<h2>Quote lines ({escape(quote.currency)})</h2>{table}<p class="note">{escape(note)}</p>{notes}'
                    f'<p class="note">I accept the drawings and the quote above.</p>{sign}'))
    return DrawingSheet("Quote", content(doc, inner))


def title_block(doc: SheetContext, sheet: DrawingSheet, page_number: int, count: int) -> str:
    job, summary = doc.job, doc.summary
    if summary.slabs and summary.slabs.layouts:
        used: dict[str, int] = {}
        for lay in summary.slabs.layouts:
            used[lay.slab_id] = used.get(lay.slab_id, 0) + 1
        slab_text = ", ".join(f"{slab_id} ×{count}" for slab_id, count in used.items())
    else:
        slab_text = "the yard" if isinstance(job.slab_stock, str) else ", ".join(slab.id for slab in job.slab_stock)
    units = "mm, areas m²" if job.units == "mm" else "inches, areas ft²"

    # Absolutely placed cells, not a table: WeasyPrint's table layout costs ~0.1 s a page, blocks a few ms.
    page = doc.page
    width, row_h = page.width, page.title_h / 2
    cols = [0.19, 0.11, 0.24, 0.14, 0.14, 0.09, 0.09]
    xs = [sum(cols[:i]) * width for i in range(len(cols) + 1)]

    def cell(c0: int, c1: int, row: int, label: str, value: str, cls: str = "") -> str:
        return box(doc, xs[c0], row * row_h, xs[c1] - xs[c0], row_h,
                   f'<span class="lbl">{escape(label)}</span><span class="val">{escape(value)}</span>', f"tbc {cls}".strip())

    brand = box(doc, 0, 0, xs[1], page.title_h,
                f'<span class="studio">Studio — shop drawing</span><span class="what">{escape(sheet.title)}</span>', "tbc brand")
    cells = (brand + cell(1, 2, 0, "Job", job.job.id) + cell(2, 3, 0, "Name", job.job.name)
             + cell(3, 4, 0, "Customer", job.job.customer or "—") + cell(4, 5, 0, "Site", job.job.site or "—")
             + cell(5, 6, 0, "Date", doc.issued.isoformat()) + cell(6, 7, 0, "Revision", REVISION)
             + cell(1, 3, 1, "Material", f"{job.material.name} ({job.material.type})")
             + cell(3, 4, 1, "Thickness / finish",
                    f"{doc.lengths.thickness(doc.mm.material.thickness)} / {job.material.finish or '—'}")
             + cell(4, 5, 1, "Slabs", slab_text) + cell(5, 6, 1, "Units", units)
             + cell(6, 7, 1, "Page", f"{page_number} of {count}", "pageno"))
    return f'<div class="tb">{cells}</div>'

