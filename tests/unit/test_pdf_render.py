"""The PDF rendered from invoice fields is readable text, paginated, Unicode-safe."""

from __future__ import annotations

import pymupdf

from common.invoices.pdf_render import format_money, render_invoice_pdf

FIELDS = {
    "document_type": "invoice",
    "invoice_number": "RE-2026-0042",
    "invoice_date": "2026-03-01",
    "due_date": "2026-03-31",
    "currency": "EUR",
    "vendor_name": "Müller & Søn GmbH",
    "vendor_address": "Hauptstraße 5\n10115 Berlin",
    "vendor_iban": "DE89 3704 0044 0532 0130 00",
    "customer_name": "Café Éclair, Łódź",
    "customer_address": "Rue de la Paix 1\n75002 Paris",
    "subtotal_amount": 15000,
    "tax_amount": 2250,
    "total_amount": 123417250,
    "tax_breakdown": [
        {"rate": "19.00", "taxable_amount": 10000, "tax_amount": 1900},
        {"rate": "7.00", "taxable_amount": 5000, "tax_amount": 350},
    ],
    "line_items": [
        {
            "description": "Consulting hours",
            "quantity": "10",
            "unit": "h",
            "unit_price": 1000,
            "total_price": 10000,
            "tax_rate": "19.00",
        },
        {
            "description": "Reference books",
            "quantity": "2",
            "unit": "pcs",
            "unit_price": 2500,
            "total_price": 5000,
            "tax_rate": "7.00",
        },
    ],
}


def _text(pdf: bytes) -> tuple[int, str]:
    with pymupdf.open("pdf", pdf) as doc:
        return len(doc), "\n".join(page.get_text() for page in doc)


def test_pdf_text_layer_has_number_total_lines_and_unicode_names() -> None:
    pages, text = _text(render_invoice_pdf(FIELDS))
    assert pages == 1
    assert "RE-2026-0042" in text
    assert "1,234,172.50 EUR" in text
    assert "Consulting hours" in text
    assert "Reference books" in text
    assert "Müller & Søn GmbH" in text
    assert "Café Éclair, Łódź" in text


def test_credit_note_is_titled_credit_note() -> None:
    _, text = _text(render_invoice_pdf(FIELDS | {"document_type": "credit_note"}))
    assert "Credit note" in text


def test_long_invoice_spans_several_pages_with_every_line() -> None:
    items = [
        {
            "description": f"Position {n} Ærø",
            "quantity": "1",
            "unit_price": 100,
            "total_price": 100,
            "tax_rate": "19.00",
        }
        for n in range(1, 121)
    ]
    pages, text = _text(render_invoice_pdf(FIELDS | {"line_items": items}))
    assert pages >= 3
    assert all(f"Position {n} Ærø" in text for n in range(1, 121))
    assert f"page {pages} of {pages}" in text


def test_fields_that_are_missing_do_not_break_rendering() -> None:
    pages, text = _text(render_invoice_pdf({"invoice_number": "X-1"}))
    assert pages == 1
    assert "X-1" in text


def test_money_uses_the_currency_exponent() -> None:
    assert format_money(1250, "JPY") == "1,250 JPY"
    assert format_money(1250, "KWD") == "1.250 KWD"
    assert format_money(123456, "EUR") == "1,234.56 EUR"
