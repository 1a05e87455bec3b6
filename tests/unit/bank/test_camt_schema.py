"""The camt.053 documents the tests build are valid ISO 20022 messages: checked against the
message's own XSD (versions .02 and .08), so the parser tests read what banks send."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from common.bank.statements.formats import parse_statement
from tests.unit.bank.documents import CAMT053_NS, CAMT053_V02_NS, Payment, camt053

SCHEMAS = Path(__file__).parent / "schemas"
# the XSDs are trusted files of ours, but nothing at test time may reach the network
_OFFLINE = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)

PAYMENTS = [
    Payment(-11900, remittance="Rechnung INV-1001", end_to_end="E2E-1"),
    Payment(-500, structured="RF18539007547034", remittance=None),
    Payment(25000, name="Customer AG", iban="FR1420041010050500013M02606", remittance="Thanks"),
    Payment(-1999, name=None, iban=None, remittance=None),
    Payment(-4200, name="Müller & Söhne <Büro>", remittance="R-77 & R-78"),
]


@cache
def schema(version: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / f"camt.053.001.{version}.xsd"), _OFFLINE))


def errors(document: bytes, version: str) -> list[str]:
    xsd = schema(version)
    xsd.validate(etree.fromstring(document, _OFFLINE))
    return [f"line {e.line}: {e.message}" for e in xsd.error_log]


@pytest.mark.parametrize(("version", "namespace"), [("02", CAMT053_V02_NS), ("08", CAMT053_NS)])
def test_generated_camt053_is_valid_against_its_xsd(version, namespace):
    assert errors(camt053(PAYMENTS, namespace=namespace), version) == []


@pytest.mark.parametrize(("version", "namespace"), [("02", CAMT053_V02_NS), ("08", CAMT053_NS)])
def test_an_empty_statement_is_valid_too(version, namespace):
    assert errors(camt053([], namespace=namespace), version) == []


def test_the_schema_refuses_an_entry_without_its_status():
    broken = camt053(PAYMENTS).replace(b"<Sts><Cd>BOOK</Cd></Sts>", b"", 1)
    assert any("Sts" in error or "BookgDt" in error for error in errors(broken, "08"))


def test_a_v02_statement_reads_as_the_v08_one_does():
    older = parse_statement(camt053(PAYMENTS, namespace=CAMT053_V02_NS))
    newer = parse_statement(camt053(PAYMENTS))
    assert older.transactions == newer.transactions
    assert older.closing_balance == newer.closing_balance
