"""SWIFT MT940 customer statements, read by the `mt-940` package: its tag parsers give the
statement fields (:20:, :25:, :28C:, :60F:/:62F: balances) and each :61: booking with its
:86: details, German banks' ?20..?33 subfields and SEPA keywords (EREF+, SVWZ+) already
split. The /EREF/ /REMI/ /NAME/ /IBAN/ form of Dutch and other SEPA banks it leaves as text;
that is read here.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from typing import Any

import mt940

from common.bank.statements.model import (
    ParsedStatement,
    ParsedTransaction,
    UnprocessableStatement,
    clean,
    clean_iban,
    decimal_minor_units,
)

# mt-940 logs a line it cannot match at ERROR with the customer's data in it; the refusal
# reaches the uploader as UnprocessableStatement instead.
logging.getLogger("mt940").setLevel(logging.CRITICAL)

# Every fix mt-940 5.x keeps behind a switch: ?31 is the counterparty IBAN (not part of
# the name), RC is a debit, a BOM is dropped, :86: is not cut after 585 characters.
_OPTIONS = mt940.Options.all()
_SEPA_TAGS = (
    "EREF",
    "REMI",
    "NAME",
    "IBAN",
    "BIC",
    "ORDP",
    "BENM",
    "CSID",
    "MARF",
    "RTRN",
    "PURP",
    "ULTC",
    "ULTD",
    "CDTRREFTP",
    "CDTRREF",
    "TRCD",
    "SVWZ",
    "ABWA",
    "KREF",
)
# a balance or booking whose amount is commas only: mt-940's patterns take it, Decimal not
_NO_DIGIT_AMOUNT = re.compile(
    r"^:(?:6[02][FM]:[CD]\d{6}[A-Z]{3}|61:\d{6}(?:\d{4})?R?[CD][A-Z]?),+(?!\d)", re.MULTILINE
)
_SEPA_TAG = re.compile(r"/(" + "|".join(_SEPA_TAGS) + r")/")


def _sepa_details(text: str | None) -> dict[str, str | None]:
    """Counterparty, account and remittance from a :86: in /TAG/ form; its whole text as
    the remittance otherwise."""
    flat = (text or "").replace("\n", "")
    if not (flat.startswith("/") and _SEPA_TAG.search(flat)):
        return {"remittance": clean(text)}
    tags: dict[str, str] = {}
    pieces = _SEPA_TAG.split(flat)
    for code, value in zip(pieces[1::2], pieces[2::2], strict=False):
        tags[code] = value.strip("/")
    eref = clean(tags.get("EREF"))
    party = tags.get("BENM") or tags.get("ORDP") or ""
    name = tags.get("NAME") or (party.split("/NAME/")[-1] if party else None)
    return {
        "name": clean(name),
        "iban": clean_iban(tags.get("IBAN")),
        "remittance": clean(tags.get("REMI") or tags.get("SVWZ")),
        "end_to_end": None if eref in (None, "NOTPROVIDED") else eref,
        "structured": clean(tags.get("CDTRREF")),
    }


def _line_of(text: str, value: str) -> int:
    """The line on which mt-940's refused field value starts (it names the value, not the
    place)."""
    probe = value.split("\n", 1)[0][:40]
    at = text.find(probe) if probe else -1
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _minor(amount: Any, currency: str) -> int:
    return decimal_minor_units(Decimal(str(amount.amount)), currency)


def _day(value: Any) -> date | None:
    return date(value.year, value.month, value.day) if value else None


def parse_mt940(data: bytes) -> ParsedStatement:
    text = data.decode("utf-8", "replace") if _is_utf8(data) else data.decode("latin-1")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not re.search(r"^:(61|60[FM]):", text, re.MULTILINE):
        raise UnprocessableStatement("No :60F: or :61: field: not an MT940 statement.")
    transactions = mt940.models.Transactions(options=_OPTIONS)
    try:
        transactions.parse(text)
    except RuntimeError as exc:
        tag, value = (exc.args[1], exc.args[2]) if len(exc.args) >= 3 else (None, "")
        where = f":{tag.id}: " if tag is not None else ""
        raise UnprocessableStatement(
            f"Line {_line_of(text, value)}: {where}{value[:80]!r} is not valid MT940."
        ) from None
    except ArithmeticError:
        # mt-940 converts an amount after its pattern matched: ",,," matches "[\d,]{1,15}"
        found = _NO_DIGIT_AMOUNT.search(text)
        line = text.count("\n", 0, found.start()) + 1 if found else 1
        raise UnprocessableStatement(f"Line {line}: the amount is not a number.") from None
    except ValueError as exc:
        raise UnprocessableStatement(f"Not a valid MT940 statement: {exc}.") from None
    return _statement(transactions)


def _statement(transactions: mt940.models.Transactions) -> ParsedStatement:
    head = transactions.data
    currency = transactions.currency or "EUR"
    statement = ParsedStatement(format="mt940", currency=currency)
    reference = clean(head.get("transaction_reference"))
    number = clean(head.get("statement_number"))
    sequence = clean(head.get("sequence_number"))
    if reference and number:
        number = f"{number}/{sequence}" if sequence else number
        statement.statement_reference = f"{reference}/{number}"
    else:
        statement.statement_reference = reference
    account = clean(head.get("account_identification")) or ""
    statement.account_iban = clean_iban(account.split("/")[-1])
    opening = head.get("final_opening_balance") or head.get("intermediate_opening_balance")
    closing = head.get("final_closing_balance") or head.get("intermediate_closing_balance")
    if opening is not None:
        statement.opening_balance = _minor(opening.amount, currency)
        statement.period_start = _day(opening.date)
    if closing is not None:
        statement.closing_balance = _minor(closing.amount, currency)
        statement.period_end = _day(closing.date)
    for booking in transactions:
        statement.transactions.append(_transaction(booking.data, currency))
    return statement


def _transaction(fields: dict[str, Any], currency: str) -> ParsedTransaction:
    own_currency = fields.get("currency") or currency
    value_date = _day(fields.get("date"))
    booking_date = _day(fields.get("entry_date")) or value_date
    assert booking_date is not None  # the :61: pattern requires a value date
    customer = clean(fields.get("customer_reference"))
    bank = clean(fields.get("bank_reference"))
    if fields.get("purpose") is not None or fields.get("applicant_name"):
        # German ?-subfields: mt-940 split them and the SEPA keywords in ?20..?29
        details: dict[str, str | None] = {
            "name": clean(fields.get("applicant_name")),
            "iban": clean_iban(fields.get("applicant_iban") or fields.get("gvc_applicant_iban")),
            "remittance": clean(fields.get("purpose")),
            "end_to_end": clean(fields.get("end_to_end_reference")),
        }
    else:
        details = _sepa_details(fields.get("transaction_details"))
    return ParsedTransaction(
        booking_date=booking_date,
        value_date=value_date,
        amount=_minor(fields["amount"], own_currency),
        currency=own_currency,
        bank_reference=bank if bank and bank != "NONREF" else None,
        end_to_end_id=details.get("end_to_end")
        or (customer if customer and customer != "NONREF" else None),
        counterparty_name=details.get("name"),
        counterparty_iban=details.get("iban"),
        remittance_text=details.get("remittance") or clean(fields.get("extra_details")),
        structured_reference=details.get("structured"),
    )


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
