"""UBL and CII e-invoices come out exactly as the XML states them; unsafe XML is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common.money import to_minor_units
from tests.unit.extraction.einvoice_documents import (
    cii_invoice,
    ubl_credit_note,
    ubl_invoice,
    zugferd_1_invoice,
)
from workers.extraction import UnprocessableInvoice, extract_document
from workers.extraction.einvoice import parse_einvoice

# --- UBL ---------------------------------------------------------------------------------


def test_ubl_invoice_header_fields_come_out_exactly():
    fields = extract_document(ubl_invoice()).fields

    assert fields["source"] == "ubl"
    assert fields["document_type"] == "invoice"
    assert fields["invoice_number"] == "INV-2024-001"
    assert fields["invoice_date"] == "2024-03-01"
    assert fields["due_date"] == "2024-03-31"
    assert fields["currency"] == "EUR"
    assert fields["purchase_order"] == "PO-77"
    assert fields["notes"] == "Thank you for your order."
    assert fields["payment_terms"] == "30 days net"
    assert fields["payment_method"] == "sepa_credit_transfer"
    assert fields["payment_reference"] == "RF18539007547034"
    assert fields["vendor_iban"] == "DE89370400440532013000"


def test_ubl_amounts_are_integer_minor_units():
    fields = parse_einvoice(ubl_invoice())

    assert fields["subtotal_amount"] == 101500
    assert fields["tax_amount"] == 19285
    assert fields["total_amount"] == 120785
    assert fields["amount_due"] == 120000
    assert fields["tax_rate"] == "19.00"
    assert fields["tax_breakdown"] == [
        {"rate": "19.00", "taxable_amount": 101500, "tax_amount": 19285, "category": "S"}
    ]


def test_ubl_vendor_is_the_legal_name_with_the_vat_number_before_other_tax_ids():
    fields = parse_einvoice(ubl_invoice())

    assert fields["vendor_name"] == "Werkzeug Legal GmbH"
    assert fields["vendor_tax_id"] == "DE136695976"
    assert fields["vendor_email"] == "billing@werkzeug.example"
    assert fields["vendor_phone"] == "+49 30 123456"
    assert fields["vendor_address"] == "Hauptstrasse 1\n10115 Berlin\nDE"
    assert fields["customer_name"] == "Buyer Legal SA"


def test_ubl_tax_is_taken_from_the_tax_total_in_the_document_currency():
    fields = parse_einvoice(ubl_invoice())

    assert fields["tax_amount"] == 19285  # not the 999.99 stated in another currency


def test_ubl_line_items_keep_prices_finer_than_a_cent():
    lines = parse_einvoice(ubl_invoice())["line_items"]

    assert [line["description"] for line in lines] == ["Hammer", "Nails"]
    assert lines[0]["quantity"] == "3"
    assert lines[0]["unit"] == "C62"
    assert lines[0]["unit_price"] == 33333
    assert lines[0]["unit_price_decimal"] == "333.3333"
    assert lines[0]["total_price"] == 100000
    assert lines[0]["tax_rate"] == "19.00"


def test_ubl_line_price_per_base_quantity_is_stated():
    nails = parse_einvoice(ubl_invoice())["line_items"][1]

    assert nails["unit_price"] == 15000
    assert nails["unit_price_base_quantity"] == "100"
    assert nails["total_price"] == 1500


def test_ubl_credit_note_takes_its_due_date_from_the_payment_means():
    fields = parse_einvoice(ubl_credit_note())

    assert fields["document_type"] == "credit_note"
    assert fields["due_date"] == "2024-05-02"
    assert fields["vendor_name"] == "Only A Trading Name AB"
    assert fields["total_amount"] == 12500
    assert fields["line_items"][0]["quantity"] == "2"
    assert fields["line_items"][0]["description"] == "Returned chair"


@pytest.mark.parametrize(
    ("type_code", "document_type"),
    [
        ("380", "invoice"),
        ("381", "credit_note"),
        ("384", "invoice"),
        ("389", "invoice"),
        ("751", "invoice"),
        ("310", "quote"),
        ("999", "unknown"),
    ],
)
def test_document_type_follows_the_type_code(type_code, document_type):
    assert parse_einvoice(ubl_invoice(type_code=type_code))["document_type"] == document_type


def test_amounts_use_the_currency_exponent():
    yen = parse_einvoice(
        ubl_invoice(
            currency="JPY",
            subtotal="1015",
            tax="193",
            total="1208",
            prepaid="8",
            due="1200",
            line_1="1000",
            price_1="333",
            line_2="15",
            price_2="150",
        )
    )
    dinar = parse_einvoice(ubl_invoice(currency="KWD", total="1207.850"))

    assert yen["total_amount"] == 1208
    assert dinar["total_amount"] == 1207850


def test_an_amount_finer_than_the_currency_is_rounded_with_a_warning():
    fields = parse_einvoice(ubl_invoice(total="1207.855"))

    assert fields["total_amount"] == 120786
    assert [(w["code"], w["field"]) for w in fields["warnings"]] == [
        ("amount_rounded", "total_amount")
    ]


def test_money_converts_to_minor_units_half_away_from_zero():
    assert to_minor_units(Decimal("12.50"), "EUR") == 1250
    assert to_minor_units(Decimal("-0.005"), "EUR") == -1
    assert to_minor_units(Decimal(1250), "JPY") == 1250
    assert to_minor_units(Decimal("1.250"), "KWD") == 1250
    assert to_minor_units(Decimal(7), None) == 700


# --- CII ---------------------------------------------------------------------------------


def test_cii_invoice_fields_come_out_exactly():
    fields = extract_document(cii_invoice()).fields

    assert fields["source"] == "cii"
    assert fields["invoice_number"] == "RE-2024-17"
    assert fields["invoice_date"] == "2024-02-15"
    assert fields["due_date"] == "2024-02-29"
    assert fields["currency"] == "EUR"
    assert fields["purchase_order"] == "ORD-5"
    assert fields["vendor_name"] == "Lieferant Zwei GmbH"
    assert fields["vendor_email"] == "sales@seller.example"
    assert fields["vendor_phone"] == "+49 89 555"
    assert fields["vendor_address"] == "Lieferweg 20\n80333 Munich\nDE"
    assert fields["customer_name"] == "Kunde AG"
    assert fields["vendor_iban"] == "DE89370400440532013000"
    assert fields["payment_terms"] == "Net 14 days"
    assert fields["payment_reference"] == "RE-2024-17"
    assert fields["notes"] == "Delivered in two parts."


def test_cii_prefers_the_vat_number_over_the_local_tax_number():
    assert parse_einvoice(cii_invoice())["vendor_tax_id"] == "DE136695976"


def test_cii_totals_use_the_invoice_currency_tax_total():
    fields = parse_einvoice(cii_invoice())

    assert fields["subtotal_amount"] == 1000
    assert fields["tax_amount"] == 70  # not the 0.77 USD tax accounting amount
    assert fields["total_amount"] == 1070
    assert fields["amount_due"] == 1000
    assert fields["tax_breakdown"] == [
        {"rate": "7.00", "taxable_amount": 1000, "tax_amount": 70, "category": "S"}
    ]


def test_cii_line_item_collapses_whitespace_in_the_product_name():
    (line,) = parse_einvoice(cii_invoice())["line_items"]

    assert line["description"] == "Artificial turf 3m wide"
    assert line["quantity"] == "3"
    assert line["unit"] == "MTK"
    assert line["unit_price_decimal"] == "3.3333"
    assert line["total_price"] == 1000
    assert line["tax_rate"] == "7.00"


def test_zugferd_1_document_is_read_with_its_older_element_names():
    fields = extract_document(zugferd_1_invoice()).fields

    assert fields["source"] == "cii"
    assert fields["invoice_number"] == "ZF1-0815"
    assert fields["invoice_date"] == "2013-06-05"
    assert fields["due_date"] == "2013-07-04"
    assert fields["vendor_name"] == "Lieferant Eins GmbH"
    assert fields["vendor_tax_id"] == "201/113/40209"  # no VAT number: the local one
    assert (fields["subtotal_amount"], fields["tax_amount"], fields["total_amount"]) == (
        2000,
        380,
        2380,
    )
    assert fields["tax_rate"] == "19.00"


def test_zugferd_1_note_only_lines_are_not_line_items():
    lines = parse_einvoice(zugferd_1_invoice())["line_items"]

    assert [(line["description"], line["quantity"], line["total_price"]) for line in lines] == [
        ("Pork steak", "4", 2000)
    ]


def test_structured_fields_are_fully_confident():
    fields = extract_document(cii_invoice()).fields

    assert fields["extraction_confidence"] == 1.0
    assert fields["field_confidence"]["total_amount"] == 1.0
    assert "due_date" in fields["field_confidence"]


# --- unsafe or foreign XML -----------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>&secret;</cbc:ID>
</Invoice>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>&lol9;</cbc:ID>
</Invoice>"""


def test_external_entity_xml_is_refused_as_unprocessable():
    with pytest.raises(UnprocessableInvoice) as raised:
        extract_document(XXE)

    assert raised.value.code == "unprocessable_invoice"
    assert "root:" not in raised.value.message


def test_entity_expansion_bomb_is_refused_as_unprocessable():
    with pytest.raises(UnprocessableInvoice) as raised:
        extract_document(BILLION_LAUGHS)

    assert raised.value.code == "unprocessable_invoice"


def test_a_doctype_in_utf16_is_refused_too():
    with pytest.raises(UnprocessableInvoice):
        parse_einvoice(XXE.replace(b'<?xml version="1.0"?>', b"").decode().encode("utf-16"))


def test_malformed_xml_is_unprocessable():
    with pytest.raises(UnprocessableInvoice):
        extract_document(ubl_invoice()[:-40])


def test_xml_that_is_not_an_einvoice_is_unprocessable():
    order = (
        b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"><ID>1</ID></Order>'
    )
    with pytest.raises(UnprocessableInvoice):
        parse_einvoice(order)
