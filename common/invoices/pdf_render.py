"""A readable A4 PDF of an invoice's contract fields, for `GET /v1/invoices/{id}/pdf` when the
upload was an XML e-invoice and there is no original PDF to return.

The text goes through PyMuPDF's Story (HTML and CSS) because its built-in fonts fall back per
character: Latin-1 and Latin Extended (ü, é, ø, ł, č) come out in Nimbus Sans, Greek, Cyrillic
and CJK in the bundled fallback fonts, so nothing depends on fonts installed on the host.

Pagination is done here rather than by the Story, so that every page that continues the line
items repeats the table header: each block (heading, parties, one table row, totals, payment
details, notes) is measured once, and pages are filled with whole blocks. A block taller than
a page (a very long note) still flows over as many pages as it needs.

What the fields say is shown as stated; nothing is recomputed or reconciled (unlike the UBL
export, which must be internally consistent). A missing field leaves its row out.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any

import pymupdf

from common.invoices.ubl_export import currency_exponent

PAGE = pymupdf.paper_rect("a4")
BODY = pymupdf.Rect(PAGE.x0 + 48, PAGE.y0 + 48, PAGE.x1 - 48, PAGE.y1 - 64)
FOOTER = pymupdf.Rect(PAGE.x0 + 48, PAGE.y1 - 48, PAGE.x1 - 48, PAGE.y1 - 24)
# Heights measured block by block come out slightly smaller than the same blocks laid out
# together (margins between blocks), so each page keeps this much in reserve.
_SLACK = 6.0

CSS = """
* { font-family: sans-serif; font-size: 9pt; color: #222; }
h1 { font-size: 20pt; margin: 0 0 4pt 0; }
h2 { font-size: 10pt; margin: 10pt 0 3pt 0; color: #555; }
table { width: 100%; border-collapse: collapse; }
td, th { padding: 2pt 3pt; vertical-align: top; text-align: left; }
th { font-weight: bold; background-color: #eeeeee; }
.items td { border-bottom: 0.5pt solid #cccccc; }
.num { text-align: right; }
.label { color: #666; width: 28%; }
.party { width: 50%; padding-right: 12pt; }
.grand td { font-weight: bold; font-size: 10.5pt; border-top: 1pt solid #222; }
.footer { font-size: 7.5pt; color: #777; text-align: center; }
"""

TITLES = {"credit_note": "Credit note", "receipt": "Receipt", "quote": "Quote"}
# Column widths of the line-item table, in percent: #, description, qty, unit, price, VAT, amount.
_COLUMNS = (5, 41, 9, 8, 14, 8, 15)
_HEADINGS = ("#", "Description", "Qty", "Unit", "Unit price", "VAT", "Amount")


def render_invoice_pdf(fields: dict[str, Any]) -> bytes:
    """The invoice as PDF bytes: one or more A4 pages (see the module docstring)."""
    currency = (str(fields.get("currency") or "")).strip().upper() or None
    title = TITLES.get(str(fields.get("document_type") or ""), "Invoice")
    blocks = [
        _Block(_heading_html(fields, title)),
        _Block(_parties_html(fields)),
        *[_Block(_row_html(number, item, currency), row=True)
          for number, item in enumerate(_line_items(fields), start=1)],
        _Block(_totals_html(fields, currency)),
        _Block(_payment_html(fields)),
        _Block(_notes_html(fields)),
    ]
    pages = _paginate([b for b in blocks if b.html])
    number = str(fields.get("invoice_number") or "")
    buffer = io.BytesIO()
    writer = pymupdf.DocumentWriter(buffer)
    page_count = len(pages)
    page_index = 0
    for page_blocks in pages:
        story = pymupdf.Story(html=_page_html(page_blocks), user_css=CSS)
        more = True
        while more:  # more than one round only for a block taller than a page
            page_index += 1
            device = writer.begin_page(PAGE)
            more, _ = story.place(BODY)
            story.draw(device)
            if more:
                page_count += 1
            footer = f"{title} {number} · page {page_index} of {page_count}".replace("  ", " ")
            footer_story = pymupdf.Story(html=f'<p class="footer">{escape(footer)}</p>',
                                         user_css=CSS)
            footer_story.place(FOOTER)
            footer_story.draw(device)
            writer.end_page()
    writer.close()
    return buffer.getvalue()


def format_money(units: Any, currency: str | None) -> str:
    """Minor units as the PDF prints them: 123456 EUR -> "1,234.56 EUR", 1250 JPY -> "1,250 JPY"."""
    if units is None or isinstance(units, bool):
        return ""
    try:
        value = Decimal(str(units)).scaleb(-currency_exponent(currency))
    except InvalidOperation:
        return str(units)
    text = f"{value:,.{currency_exponent(currency)}f}"
    return f"{text} {currency}" if currency else text


def _format_price(item: dict[str, Any], currency: str | None) -> str:
    """The unit price, from `unit_price_decimal` when present (it keeps sub-cent prices)."""
    exact = item.get("unit_price_decimal")
    if exact in (None, ""):
        return _plain_amount(item.get("unit_price"), currency)
    try:
        value = Decimal(str(exact))
    except InvalidOperation:
        return escape(str(exact))
    decimals = -int(value.normalize().as_tuple().exponent)
    return f"{value:,.{max(currency_exponent(currency), decimals)}f}"


def _plain_amount(units: Any, currency: str | None) -> str:
    """An amount without the currency code, for table cells."""
    text = format_money(units, currency)
    return text.removesuffix(f" {currency}") if currency else text


def _rate(value: Any) -> str:
    if value in (None, ""):
        return ""
    try:
        return f"{Decimal(str(value)).normalize():f}%"
    except InvalidOperation:
        return escape(str(value))


@dataclass
class _Block:
    html: str
    row: bool = False
    height: float = 0.0


def _measure(html: str) -> float:
    story = pymupdf.Story(html=html, user_css=CSS)
    _, filled = story.place(pymupdf.Rect(0, 0, BODY.width, 100_000))
    return pymupdf.Rect(filled).height


def _paginate(blocks: list[_Block]) -> list[list[_Block]]:
    header_height = _measure(_table_html([]))
    for block in blocks:
        block.height = _measure(_table_html([block]) if block.row else block.html)
    pages: list[list[_Block]] = [[]]
    used = 0.0
    for block in blocks:
        opens_table = block.row and not (pages[-1] and pages[-1][-1].row)
        needed = block.height + (header_height if opens_table else 0.0)
        if pages[-1] and used + needed > BODY.height - _SLACK:
            pages.append([])
            used = 0.0
            needed = block.height + (header_height if block.row else 0.0)
        pages[-1].append(block)
        used += needed
    return pages


def _page_html(blocks: list[_Block]) -> str:
    parts: list[str] = []
    rows: list[_Block] = []
    for block in blocks:
        if block.row:
            rows.append(block)
            continue
        if rows:
            parts.append(_table_html(rows))
            rows = []
        parts.append(block.html)
    if rows:
        parts.append(_table_html(rows))
    return "".join(parts)


def _table_html(rows: list[_Block]) -> str:
    head = "".join(
        f'<th width="{w}%"{" class=num" if i >= 2 and i != 3 else ""}>{h}</th>'
        for i, (w, h) in enumerate(zip(_COLUMNS, _HEADINGS, strict=True)))
    return f'<table class="items"><tr>{head}</tr>{"".join(r.html for r in rows)}</table>'


def _line_items(fields: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in fields.get("line_items") or [] if isinstance(item, dict)]


def _row_html(number: int, item: dict[str, Any], currency: str | None) -> str:
    cells = (
        str(number),
        escape(str(item.get("description") or "")),
        escape(str(item.get("quantity") or "")),
        escape(str(item.get("unit") or "")),
        _format_price(item, currency),
        _rate(item.get("tax_rate")),
        _plain_amount(item.get("total_price"), currency),
    )
    return "<tr>" + "".join(
        f'<td width="{w}%"{" class=num" if i >= 2 and i != 3 else ""}>{c}</td>'
        for i, (w, c) in enumerate(zip(_COLUMNS, cells, strict=True))) + "</tr>"


def _rows(pairs: list[tuple[str, Any]], css_class: str = "") -> str:
    body = "".join(
        f'<tr class="{css_class}"><td class="label">{escape(label)}</td>'
        f"<td>{escape(str(value))}</td></tr>"
        for label, value in pairs if value not in (None, ""))
    return f"<table>{body}</table>" if body else ""


def _heading_html(fields: dict[str, Any], title: str) -> str:
    return f"<h1>{escape(title)}</h1>" + _rows([
        ("Number", fields.get("invoice_number")),
        ("Date", fields.get("invoice_date")),
        ("Due date", fields.get("due_date")),
        ("Purchase order", fields.get("purchase_order")),
        ("Currency", fields.get("currency")),
    ])


def _party_html(fields: dict[str, Any], prefix: str, heading: str) -> str:
    lines = [f"<b>{escape(str(fields.get(f'{prefix}_name') or '—'))}</b>"]
    lines += [escape(line) for line in str(fields.get(f"{prefix}_address") or "").splitlines()
              if line.strip()]
    for label, key in (("VAT / tax id", "tax_id"), ("Email", "email"), ("Phone", "phone")):
        if fields.get(f"{prefix}_{key}"):
            lines.append(f"{label}: {escape(str(fields[f'{prefix}_{key}']))}")
    return f"<h2>{heading}</h2>" + "<br/>".join(lines)


def _parties_html(fields: dict[str, Any]) -> str:
    return ('<table><tr>'
            f'<td class="party">{_party_html(fields, "vendor", "From")}</td>'
            f'<td class="party">{_party_html(fields, "customer", "To")}</td>'
            "</tr></table>")


def _totals_html(fields: dict[str, Any], currency: str | None) -> str:
    pairs: list[tuple[str, Any]] = [("Subtotal", format_money(fields.get("subtotal_amount"),
                                                              currency))]
    if fields.get("discount_amount"):
        discount = f"-{format_money(fields.get('discount_amount'), currency)}"
        if fields.get("discount_percent"):
            discount += f" ({_rate(fields['discount_percent'])})"
        pairs.append(("Discount", discount))
    breakdown = [b for b in fields.get("tax_breakdown") or [] if isinstance(b, dict)]
    for entry in breakdown:
        on = format_money(entry.get("taxable_amount"), currency)
        label = f"VAT {_rate(entry.get('rate'))}" + (f" on {on}" if on else "")
        pairs.append((label, format_money(entry.get("tax_amount"), currency)))
    tax_label = "VAT total" if breakdown else (
        f"VAT {_rate(fields.get('tax_rate'))}" if fields.get("tax_rate") else "VAT")
    pairs.append((tax_label, format_money(fields.get("tax_amount"), currency)))
    html = _rows(pairs)
    grand = [("Total", format_money(fields.get("total_amount"), currency))]
    if fields.get("amount_due") is not None and fields.get("amount_due") != fields.get(
            "total_amount"):
        grand.append(("Amount due", format_money(fields.get("amount_due"), currency)))
    html += _rows(grand, "grand")
    return f"<h2>Totals</h2>{html}" if html else ""


def _payment_html(fields: dict[str, Any]) -> str:
    html = _rows([
        ("IBAN", fields.get("vendor_iban")),
        ("Payment reference", fields.get("payment_reference")),
        ("Payment terms", fields.get("payment_terms")),
        ("Payment method", fields.get("payment_method")),
    ])
    return f"<h2>Payment</h2>{html}" if html else ""


def _notes_html(fields: dict[str, Any]) -> str:
    notes = str(fields.get("notes") or "").strip()
    if not notes:
        return ""
    return "<h2>Notes</h2><p>" + "<br/>".join(escape(n) for n in notes.splitlines()) + "</p>"
