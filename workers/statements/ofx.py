"""OFX bank statements (STMTRS, and CCSTMTRS for cards) in both forms, OFX 1.x SGML and
OFX 2.x XML, read by `ofxtools`: its header parser, its tag tokenizer (a regular expression
over the tags, no XML parser: no DTD, no entities, nothing fetched) and its models, which
check each element against the OFX specification. The XML form first passes the project's
hardened XML parser too, so a DOCTYPE or entity declaration is refused as for any XML this
service reads, not silently passed over as ofxtools would.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from typing import Any

from ofxtools.header import OFXHeaderError
from ofxtools.models.base import Aggregate, OFXAggregateError
from ofxtools.Parser import OFXTree, ParseError
from ofxtools.Types import OFXTypeError

from workers.extraction.errors import UnprocessableInvoice
from workers.extraction.xmltree import parse_untrusted_xml
from workers.statements.model import (
    ParsedStatement,
    ParsedTransaction,
    UnprocessableStatement,
    clean,
    clean_iban,
    decimal_minor_units,
)

# Some banks export the body alone; ofxtools needs a header to read it by.
_SGML_HEADER = (
    b"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
    b"CHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
)
_POSITION = re.compile(r"position=\[(\d+):")
_RAW_DATE = re.compile(r"\d{8}")


def parse_ofx(data: bytes) -> ParsedStatement:
    if data.find(b"<") < 0:
        raise UnprocessableStatement("No OFX element: not an OFX file.")
    body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body[:5].lower() == b"<?xml":
        try:
            parse_untrusted_xml(body.strip())
        except UnprocessableInvoice as exc:
            raise UnprocessableStatement(exc.message) from None
    if body[:5].upper() == b"<OFX>":
        body = _SGML_HEADER + body
    _refuse_open_cdata(body)
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(body))
    except ParseError as exc:
        raise UnprocessableStatement(_parse_error(str(exc), body)) from None
    except (OFXHeaderError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).split("\n", 1)[0][:120]
        raise UnprocessableStatement(f"OFX header: {first}") from None
    except IndexError:
        # ofxtools' tree builder closing an element that was never opened
        raise UnprocessableStatement("OFX: a closing tag matches no open element.") from None
    root = tree.getroot()
    if root is None:
        raise UnprocessableStatement("No OFX element: not an OFX file.")
    raw_statements = root.findall(".//STMTRS") + root.findall(".//CCSTMTRS")
    if not raw_statements:
        raise UnprocessableStatement("No STMTRS element: not an OFX bank statement.")
    try:
        ofx = tree.convert()
    except _CONVERT_ERRORS as exc:
        raise UnprocessableStatement(_convert_error(exc, root, body)) from None
    result = ParsedStatement(format="ofx")
    for statement, raw in zip(ofx.statements, raw_statements, strict=False):
        _read_statement(result, statement, raw)
    return result


_CONVERT_ERRORS = (OFXAggregateError, OFXTypeError, ValueError, TypeError, ArithmeticError)


def _convert_error(exc: Exception, root: ET.Element, body: bytes) -> str:
    """ofxtools says what is wrong but not where: convert the transactions one by one to
    name the first that fails, with its line."""
    openings = [m.start() for m in re.finditer(rb"<STMTTRN>", body, re.IGNORECASE)]
    for index, raw in enumerate(root.iter("STMTTRN")):
        try:
            Aggregate.from_etree(raw)
        except _CONVERT_ERRORS as own:
            at = openings[index] if index < len(openings) else 0
            line = body.count(b"\n", 0, at) + 1
            what = "an amount is not a number" if isinstance(own, ArithmeticError) else own
            return f"Element STMTTRN (line {line}): {what}."
    return f"OFX does not follow the specification: {exc or type(exc).__name__}"


def _refuse_open_cdata(body: bytes) -> None:
    """ofxtools' tokenizer looks for a CDATA section's end with a greedy `.+` to the end of
    the line and back: a line of CDATA openings that never close costs quadratic time (100
    KB, 5 s). A CDATA section must close on its line, as ofxtools needs anyway."""
    for number, line in enumerate(body.split(b"\n"), start=1):
        opening = line.rfind(b"<![CDATA[")
        if opening >= 0 and line.find(b"]]>", opening) < 0:
            raise UnprocessableStatement(f"Line {number}: a CDATA section is not closed.")


def _parse_error(message: str, body: bytes) -> str:
    """ofxtools names a character position in the body after the header; a person needs
    the line."""
    found = _POSITION.search(message)
    if not found:
        return f"OFX: {message}"
    header_end = body.find(b"<OFX>")
    header_end = header_end if header_end >= 0 else body.find(b"<")
    offset = header_end + int(found.group(1))
    line = body.count(b"\n", 0, max(offset, 0)) + 1
    return f"Line {line}: {message.split(' - position=', maxsplit=1)[0]}"


def _raw_day(raw: ET.Element | None, name: str) -> date | None:
    """The date as the bank wrote it: ofxtools turns a time with a zone into UTC, which
    moves a booking at 00:00 CET to the day before."""
    text = raw.findtext(name) if raw is not None else None
    found = _RAW_DATE.match(text.strip()) if text else None
    if not found:
        return None
    value = found.group(0)
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def _read_statement(result: ParsedStatement, statement: Any, raw: ET.Element) -> None:
    currency = str(statement.curdef).upper()
    result.currency = result.currency or currency
    if result.account_iban is None:
        result.account_iban = clean_iban(statement.account.acctid)
    tranlist = statement.banktranlist
    raw_list = raw.find("BANKTRANLIST")
    if tranlist is not None:
        result.period_start = result.period_start or _raw_day(raw_list, "DTSTART")
        result.period_end = _raw_day(raw_list, "DTEND") or result.period_end
    if statement.ledgerbal is not None:
        result.closing_balance = decimal_minor_units(Decimal(statement.ledgerbal.balamt), currency)
    raw_transactions = raw_list.findall("STMTTRN") if raw_list is not None else []
    for tx, raw_tx in zip(tranlist or [], raw_transactions, strict=False):
        result.transactions.append(_transaction(tx, raw_tx, currency))


def _transaction(tx: Any, raw: ET.Element, currency: str) -> ParsedTransaction:
    own = tx.currency or tx.origcurrency
    own_currency = str(own.cursym).upper() if own is not None else currency
    booking = _raw_day(raw, "DTPOSTED") or _raw_day(raw, "DTUSER")
    assert booking is not None  # ofxtools requires DTPOSTED
    name = tx.name or (tx.payee.name if tx.payee is not None else None)
    account = tx.bankacctto
    return ParsedTransaction(
        booking_date=booking,
        value_date=_raw_day(raw, "DTAVAIL"),
        amount=decimal_minor_units(Decimal(tx.trnamt), own_currency),
        currency=own_currency,
        counterparty_name=clean(name),
        counterparty_iban=clean_iban(account.acctid) if account is not None else None,
        remittance_text=clean(tx.memo),
        end_to_end_id=clean(tx.refnum),
        bank_reference=clean(tx.fitid),
    )
