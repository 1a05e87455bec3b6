"""A line item has one shape whatever the document was: the keys of an item read from a
text PDF's table are those of an item read from UBL or CII XML, and those of the API's
line item schema; columns for unit, VAT rate and discount fill their keys."""

from api.schemas import LineItemSchema
from tests.unit.extraction.einvoice_documents import cii_invoice, ubl_invoice
from workers.extraction import extract_document
from workers.extraction.pdf_text import extract_pdf_text

SIMPLE_TABLE = [
    [
        (50, 100, "Description"),
        (300, 100, "Qty"),
        (360, 100, "Unit Price"),
        (480, 100, "Amount"),
        (50, 116, "Widget"),
        (305, 116, "3"),
        (365, 116, "12.50"),
        (480, 116, "37.50"),
        (380, 160, "Total"),
        (480, 160, "37.50"),
    ]
]


def _text_pdf_item(pdf, pages):
    items = extract_pdf_text(pdf(pages))["line_items"]
    assert items, "the table gave no line item"
    return items[0]


def test_a_text_pdf_line_item_has_the_keys_of_a_ubl_line_item(pdf):
    xml_item = extract_document(ubl_invoice()).fields["line_items"][0]

    assert set(_text_pdf_item(pdf, SIMPLE_TABLE)) == set(xml_item)


def test_a_text_pdf_line_item_has_the_keys_of_a_cii_line_item(pdf):
    xml_item = extract_document(cii_invoice()).fields["line_items"][0]

    assert set(_text_pdf_item(pdf, SIMPLE_TABLE)) == set(xml_item)


def test_a_text_pdf_line_item_has_every_key_of_the_api_line_item(pdf):
    assert set(LineItemSchema().fields) <= set(_text_pdf_item(pdf, SIMPLE_TABLE))


def test_keys_without_a_column_are_null(pdf):
    item = _text_pdf_item(pdf, SIMPLE_TABLE)

    assert (item["tax_amount"], item["discount_percent"], item["discount_amount"]) == (
        None,
        None,
        None,
    )


def test_a_vat_rate_column_fills_the_tax_rate(pdf):
    item = _text_pdf_item(
        pdf,
        [
            [
                (50, 100, "Description"),
                (250, 100, "Qty"),
                (310, 100, "Unit price"),
                (400, 100, "VAT %"),
                (480, 100, "Amount"),
                (50, 116, "Consulting"),
                (255, 116, "4"),
                (315, 116, "90.00"),
                (405, 116, "20"),
                (480, 116, "360.00"),
                (380, 160, "Total"),
                (480, 160, "432.00"),
            ]
        ],
    )

    assert (item["tax_rate"], item["quantity"], item["unit_price"], item["total_price"]) == (
        "20.00",
        "4",
        9000,
        36000,
    )


def test_a_german_unit_and_mwst_column_fill_unit_and_tax_rate(pdf):
    item = _text_pdf_item(
        pdf,
        [
            [
                (50, 100, "Bezeichnung"),
                (230, 100, "Menge"),
                (280, 100, "Einheit"),
                (340, 100, "Einzelpreis"),
                (420, 100, "MwSt"),
                (480, 100, "Gesamt"),
                (50, 116, "Montagearbeiten"),
                (235, 116, "3"),
                (285, 116, "Std"),
                (345, 116, "65,00"),
                (425, 116, "19 %"),
                (480, 116, "195,00"),
                (380, 160, "Summe"),
                (480, 160, "232,05"),
            ]
        ],
    )

    assert (item["unit"], item["tax_rate"], item["description"]) == (
        "Std",
        "19.00",
        "Montagearbeiten",
    )


def test_a_french_discount_percent_column_fills_the_discount_percent(pdf):
    item = _text_pdf_item(
        pdf,
        [
            [
                (50, 100, "Désignation"),
                (230, 100, "Qté"),
                (280, 100, "P.U. HT"),
                (350, 100, "Remise %"),
                (420, 100, "TVA"),
                (480, 100, "Montant HT"),
                (50, 116, "Chaise de bureau"),
                (235, 116, "2"),
                (285, 116, "100,00"),
                (355, 116, "10"),
                (425, 116, "20 %"),
                (480, 116, "180,00"),
                (380, 160, "Total TTC"),
                (480, 160, "216,00"),
            ]
        ],
    )

    assert (item["discount_percent"], item["tax_rate"], item["total_price"]) == (
        "10.00",
        "20.00",
        18000,
    )
