"""A readable A4 PDF of an invoice's contract fields, for `GET /v1/invoices/{id}/pdf` when the
upload was an XML e-invoice and there is no original PDF to return.

Laid out by hand with PyMuPDF's TextWriter (MuPDF's HTML tables do not honour column widths).
The text uses MuPDF's built-in fonts, embedded as Unicode (Identity-H) fonts, so nothing
depends on fonts installed on the host: Nimbus Sans ("helv"/"hebo") covers Latin-1, Latin
Extended (ü, é, ø, ł, ő, č), Greek and Cyrillic; characters it lacks (CJK) switch to the
built-in Droid Sans Fallback, which is embedded only when such a character occurs.

The line-item table is paginated: a row never splits, and every page that continues the
table repeats its header. Every page has a footer "Invoice <number> · page i of n".

What the fields say is shown as stated; nothing is recomputed or reconciled (unlike the UBL
export, which must be internally consistent). A missing field leaves its row out; a missing
party name shows "—".
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import pymupdf

from common.money import currency_exponent

PAGE = pymupdf.paper_rect("a4")
LEFT, RIGHT, TOP, BOTTOM = 48.0, PAGE.width - 48.0, 48.0, PAGE.height - 60.0
WIDTH = RIGHT - LEFT
SIZE = 9.0
LEADING = 1.3
DARK = (0.13, 0.13, 0.13)
GREY = (0.42, 0.42, 0.42)
RULE = (0.8, 0.8, 0.8)
SHADE = (0.93, 0.93, 0.93)

TITLES = {
    "credit_note": "Credit note",
    "receipt": "Receipt",
    "quote": "Quote",
    "purchase_order": "Purchase order",
}
# The line-item table: heading, width in points, right-aligned.
_COLUMNS = (
    ("#", 22.0, False),
    ("Description", 200.0, False),
    ("Qty", 42.0, True),
    ("Unit", 40.0, False),
    ("Unit price", 70.0, True),
    ("VAT", 45.0, True),
    ("Amount", WIDTH - 419.0, True),
)
_PAD = 3.0


def render_invoice_pdf(fields: dict[str, Any]) -> bytes:
    """The invoice as PDF bytes: one or more A4 pages (see the module docstring)."""
    currency = str(fields.get("currency") or "").strip().upper() or None
    title = TITLES.get(str(fields.get("document_type") or ""), "Invoice")
    canvas = _Canvas()
    canvas.text(LEFT, canvas.y + 20, title, size=20, bold=True)
    canvas.y += 32
    canvas.pairs(
        [
            ("Number", fields.get("invoice_number")),
            ("Date", fields.get("invoice_date")),
            ("Due date", fields.get("due_date")),
            ("Purchase order", fields.get("purchase_order")),
            ("Currency", currency),
        ],
        label_width=90,
    )
    canvas.y += 10
    _parties(canvas, fields)
    _items(canvas, fields, currency)
    _totals(canvas, fields, currency)
    payment = [
        ("IBAN", fields.get("vendor_iban")),
        ("Payment reference", fields.get("payment_reference")),
        ("Payment terms", fields.get("payment_terms")),
        ("Payment method", fields.get("payment_method")),
    ]
    if any(value not in (None, "") for _, value in payment):
        canvas.heading("Payment")
        canvas.pairs(payment, label_width=110)
    notes = str(fields.get("notes") or "").strip()
    if notes:
        canvas.heading("Notes")
        for line in notes.splitlines():
            canvas.paragraph(line)
    footer = f"{title} {fields.get('invoice_number') or ''}".strip()
    return canvas.finish(footer)


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
        return str(exact)
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
        return str(value)


class _Canvas:
    """Pages, a cursor `y`, and text runs that switch font where Nimbus Sans has no glyph."""

    def __init__(self) -> None:
        self.doc = pymupdf.open()
        self.regular = pymupdf.Font("helv")
        self.bold = pymupdf.Font("hebo")
        self._fallback: pymupdf.Font | None = None
        # One TextWriter per colour per page, written onto the page in `finish`.
        self.writers: list[dict[tuple[float, float, float], pymupdf.TextWriter]] = []
        self._current: dict[tuple[float, float, float], pymupdf.TextWriter] = {}
        self.page: pymupdf.Page
        self.y = TOP
        self.new_page()

    @property
    def fallback(self) -> pymupdf.Font:
        if self._fallback is None:
            self._fallback = pymupdf.Font("cjk")
        return self._fallback

    def new_page(self) -> None:
        self.page = self.doc.new_page(width=PAGE.width, height=PAGE.height)
        self._current = {}
        self.writers.append(self._current)
        self.y = TOP

    def ensure(self, height: float) -> bool:
        """Start a new page unless `height` still fits; True when a page was started."""
        if self.y + height <= BOTTOM:
            return False
        self.new_page()
        return True

    def _runs(self, text: str, bold: bool) -> list[tuple[pymupdf.Font, str]]:
        main = self.bold if bold else self.regular
        runs: list[tuple[pymupdf.Font, str]] = []
        for char in text:
            font = main if (char.isspace() or main.has_glyph(ord(char))) else self.fallback
            if runs and runs[-1][0] is font:
                runs[-1] = (font, runs[-1][1] + char)
            else:
                runs.append((font, char))
        return runs

    def width_of(self, text: str, size: float = SIZE, bold: bool = False) -> float:
        return sum(font.text_length(run, fontsize=size) for font, run in self._runs(text, bold))

    def text(
        self,
        x: float,
        baseline: float,
        text: str,
        *,
        size: float = SIZE,
        bold: bool = False,
        color: tuple[float, float, float] = DARK,
        right: bool = False,
    ) -> None:
        if not text:
            return
        if right:
            x -= self.width_of(text, size, bold)
        writer = self._current.get(color)
        if writer is None:
            writer = self._current[color] = pymupdf.TextWriter(self.page.rect)
        for font, run in self._runs(text, bold):
            writer.append((x, baseline), run, font=font, fontsize=size)
            x += font.text_length(run, fontsize=size)

    def wrap(self, text: str, width: float, size: float = SIZE, bold: bool = False) -> list[str]:
        lines: list[str] = []
        for paragraph in str(text).splitlines() or [""]:
            line = ""
            for word in paragraph.split(" "):
                candidate = f"{line} {word}" if line else word
                if self.width_of(candidate, size, bold) <= width or not line:
                    line = candidate
                else:
                    lines.append(line)
                    line = word
                while self.width_of(line, size, bold) > width and len(line) > 1:
                    # A single word wider than the column: break it where it overflows.
                    cut = len(line) - 1
                    while cut > 1 and self.width_of(line[:cut], size, bold) > width:
                        cut -= 1
                    lines.append(line[:cut])
                    line = line[cut:]
            lines.append(line)
        return lines

    def heading(self, text: str) -> None:
        self.ensure(3 * SIZE * LEADING)
        self.y += 8
        self.text(LEFT, self.y + SIZE, text, size=10, bold=True, color=GREY)
        self.y += 10 * LEADING + 2

    def paragraph(self, text: str) -> None:
        for line in self.wrap(text, WIDTH):
            self.ensure(SIZE * LEADING)
            self.text(LEFT, self.y + SIZE, line)
            self.y += SIZE * LEADING

    def pairs(
        self,
        pairs: list[tuple[str, Any]],
        *,
        label_width: float,
        x: float = LEFT,
        right_edge: float = RIGHT,
        bold: bool = False,
        right_values: bool = False,
    ) -> None:
        for label, value in pairs:
            if value in (None, ""):
                continue
            lines = self.wrap(str(value), right_edge - x - label_width, bold=bold)
            self.ensure(len(lines) * SIZE * LEADING)
            self.text(x, self.y + SIZE, label, color=GREY, bold=bold)
            for line in lines:
                if right_values:
                    self.text(right_edge, self.y + SIZE, line, bold=bold, right=True)
                else:
                    self.text(x + label_width, self.y + SIZE, line, bold=bold)
                self.y += SIZE * LEADING
            self.y += 1

    def finish(self, footer: str) -> bytes:
        count = len(self.doc)
        for index, writers in enumerate(self.writers):
            page = self.doc[index]
            self.page, self._current = page, writers
            label = f"{footer} · page {index + 1} of {count}"
            x = (PAGE.width - self.width_of(label, 7.5)) / 2
            self.text(x, PAGE.height - 32, label, size=7.5, color=GREY)
            for color, writer in writers.items():
                writer.write_text(page, color=color)
        data = self.doc.tobytes(garbage=3, deflate=True)
        self.doc.close()
        return data


def _line_items(fields: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in fields.get("line_items") or [] if isinstance(item, dict)]


def _parties(canvas: _Canvas, fields: dict[str, Any]) -> None:
    column = (WIDTH - 16) / 2
    blocks = []
    for prefix, heading in (("vendor", "From"), ("customer", "To")):
        lines: list[tuple[str, bool]] = [
            (line, index == 0)
            for index, line in enumerate(
                canvas.wrap(str(fields.get(f"{prefix}_name") or "—"), column, bold=True)
            )
        ]
        for raw in str(fields.get(f"{prefix}_address") or "").splitlines():
            if raw.strip():
                lines += [(line, False) for line in canvas.wrap(raw.strip(), column)]
        for label, key in (("VAT / tax id", "tax_id"), ("Email", "email"), ("Phone", "phone")):
            if fields.get(f"{prefix}_{key}"):
                text = f"{label}: {fields[f'{prefix}_{key}']}"
                lines += [(line, False) for line in canvas.wrap(text, column)]
        blocks.append((heading, lines))
    height = (max(len(lines) for _, lines in blocks) + 1) * SIZE * LEADING + 12
    canvas.ensure(height)
    top = canvas.y
    for offset, (heading, lines) in zip((0.0, column + 16), blocks, strict=True):
        y = top
        canvas.text(LEFT + offset, y + SIZE, heading, size=10, bold=True, color=GREY)
        y += 10 * LEADING + 2
        for line, bold in lines:
            canvas.text(LEFT + offset, y + SIZE, line, bold=bold)
            y += SIZE * LEADING
    canvas.y = top + height


def _table_header(canvas: _Canvas) -> None:
    height = SIZE * LEADING + 2 * _PAD
    canvas.page.draw_rect(
        pymupdf.Rect(LEFT, canvas.y, RIGHT, canvas.y + height), color=None, fill=SHADE
    )
    x = LEFT
    for heading, width, right in _COLUMNS:
        anchor = x + width - _PAD if right else x + _PAD
        canvas.text(anchor, canvas.y + _PAD + SIZE, heading, bold=True, right=right)
        x += width
    canvas.y += height


def _items(canvas: _Canvas, fields: dict[str, Any], currency: str | None) -> None:
    items = _line_items(fields)
    if not items:
        return
    canvas.y += 8
    header_height = SIZE * LEADING + 2 * _PAD
    canvas.ensure(header_height + SIZE * LEADING + 2 * _PAD)
    _table_header(canvas)
    for number, item in enumerate(items, start=1):
        cells = (
            str(number),
            str(item.get("description") or ""),
            str(item.get("quantity") or ""),
            str(item.get("unit") or ""),
            _format_price(item, currency),
            _rate(item.get("tax_rate")),
            _plain_amount(item.get("total_price"), currency),
        )
        wrapped = [
            canvas.wrap(cell, width - 2 * _PAD)
            for cell, (_, width, _) in zip(cells, _COLUMNS, strict=True)
        ]
        height = max(len(lines) for lines in wrapped) * SIZE * LEADING + 2 * _PAD
        if canvas.ensure(height):
            _table_header(canvas)
        x = LEFT
        for lines, (_, width, right) in zip(wrapped, _COLUMNS, strict=True):
            y = canvas.y + _PAD
            for line in lines:
                anchor = x + width - _PAD if right else x + _PAD
                canvas.text(anchor, y + SIZE, line, right=right)
                y += SIZE * LEADING
            x += width
        canvas.y += height
        canvas.page.draw_line((LEFT, canvas.y), (RIGHT, canvas.y), color=RULE, width=0.5)


def _totals(canvas: _Canvas, fields: dict[str, Any], currency: str | None) -> None:
    pairs: list[tuple[str, Any]] = [
        ("Subtotal", format_money(fields.get("subtotal_amount"), currency))
    ]
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
    tax_label = (
        "VAT total"
        if breakdown
        else (f"VAT {_rate(fields.get('tax_rate'))}" if fields.get("tax_rate") else "VAT")
    )
    pairs.append((tax_label, format_money(fields.get("tax_amount"), currency)))
    grand = [("Total", format_money(fields.get("total_amount"), currency))]
    if fields.get("amount_due") not in (None, fields.get("total_amount")):
        grand.append(("Amount due", format_money(fields.get("amount_due"), currency)))
    shown = [p for p in pairs + grand if p[1]]
    if not shown:
        return
    canvas.y += 10
    canvas.ensure((len(shown) + 1) * (SIZE * LEADING + 1) + 8)
    left = LEFT + WIDTH / 2
    canvas.pairs(pairs, label_width=WIDTH / 4, x=left, right_values=True)
    canvas.page.draw_line((left, canvas.y + 1), (RIGHT, canvas.y + 1), color=DARK, width=0.8)
    canvas.y += 4
    canvas.pairs(grand, label_width=WIDTH / 4, x=left, bold=True, right_values=True)
