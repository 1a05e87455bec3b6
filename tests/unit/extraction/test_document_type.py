"""The document's title says what it is: invoice, credit note, quote, receipt or purchase
order, in the languages invoices are written in."""

import pytest

from workers.extraction.pdf_text import extract_pdf_text


def _titled(pdf, title: str, number_label: str = "No.") -> bytes:
    return pdf(
        [
            [
                (50, 60, "Example Trading Ltd"),
                (350, 60, title),
                (350, 80, f"{number_label} 2024-117"),
                (50, 200, "Description"),
                (300, 200, "Qty"),
                (360, 200, "Price"),
                (480, 200, "Amount"),
                (50, 216, "Service"),
                (305, 216, "1"),
                (365, 216, "50.00"),
                (480, 216, "50.00"),
                (380, 260, "Total"),
                (480, 260, "50.00"),
            ]
        ]
    )


@pytest.mark.parametrize(
    "title",
    ["Credit Note", "Gutschrift", "Avoir", "Nota de crédito", "Nota di credito", "Creditnota"],
)
def test_a_credit_note_title_makes_a_credit_note(pdf, title):
    assert extract_pdf_text(_titled(pdf, title))["document_type"] == "credit_note"


@pytest.mark.parametrize(
    "title", ["Purchase Order", "Bon de commande", "Orden de compra", "Bestellschein"]
)
def test_a_purchase_order_title_makes_a_purchase_order(pdf, title):
    assert extract_pdf_text(_titled(pdf, title))["document_type"] == "purchase_order"


def test_an_invoice_naming_its_purchase_order_stays_an_invoice(pdf):
    document = pdf(
        [
            [
                (50, 60, "Purchase Order No.: PO-4471"),
                (350, 60, "INVOICE"),
                (350, 80, "Invoice No. 2024-117"),
                (380, 260, "Total"),
                (480, 260, "50.00"),
            ]
        ]
    )

    assert extract_pdf_text(document)["document_type"] == "invoice"


@pytest.mark.parametrize(
    ("title", "expected"),
    [("Quotation", "quote"), ("Angebot", "quote"), ("Devis", "quote"), ("Rechnung", "invoice")],
)
def test_quote_and_invoice_titles(pdf, title, expected):
    assert extract_pdf_text(_titled(pdf, title))["document_type"] == expected
