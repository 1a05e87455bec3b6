"""OFX bank statements (STMTRS, and CCSTMTRS for cards) in both forms, OFX 1.x SGML and
OFX 2.x XML, read with `ofxtools`: its header parser (version, charset), its tag tokenizer
(a regular expression over the tags, no XML parser: no DTD, no entities, nothing fetched)
and its element types, which check each value read (an amount, a date) against the OFX
specification. Its aggregate models are not used: they refuse a whole statement for what
real bank exports do and what this service does not read (a MEMO over 255 characters, an
unlisted TRNTYPE, no LEDGERBAL or SIGNON). The XML form first passes the project's hardened
XML parser too, so a DOCTYPE or entity declaration is refused as for any XML this service
reads, not silently passed over as ofxtools would.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

from ofxtools import Types
from ofxtools.header import OFXHeaderError
from ofxtools.Parser import OFXTree, ParseError

from common.bank.statements.model import (
    ParsedStatement,
    ParsedTransaction,
    UnprocessableStatement,
    clean,
    clean_iban,
    decimal_minor_units,
)
from common.xmltree import RefusedXml, parse_untrusted_xml

# Some banks export the body alone; ofxtools needs a header to read it by.
_SGML_HEADER = (
    b"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
    b"CHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
)
_POSITION = re.compile(r"position=\[(\d+):")
_AMOUNT = Types.Decimal()
_DATETIME = Types.DateTime()


def parse_ofx(data: bytes) -> ParsedStatement:
    if data.find(b"<") < 0:
        raise UnprocessableStatement("No OFX element: not an OFX file.")
    body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body[:5].lower() == b"<?xml":
        try:
            parse_untrusted_xml(body.strip())
        except RefusedXml as exc:
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
    statements = [] if root is None else root.findall(".//STMTRS") + root.findall(".//CCSTMTRS")
    if not statements:
        raise UnprocessableStatement("No STMTRS element: not an OFX bank statement.")
    lines = _Lines(body)
    result = ParsedStatement(format="ofx")
    for statement in statements:
        _read_statement(result, statement, lines)
    return result


class _Lines:
    """The line of the n-th STMTTRN: the tree ofxtools builds keeps no positions."""

    def __init__(self, body: bytes) -> None:
        self._lines = []
        line, counted = 1, 0
        for match in re.finditer(rb"<STMTTRN>", body, re.IGNORECASE):
            line += body.count(b"\n", counted, match.start())  # one pass, not one per booking
            counted = match.start()
            self._lines.append(line)
        self.seen = 0

    def next(self) -> int:
        line = self._lines[self.seen] if self.seen < len(self._lines) else 1
        self.seen += 1
        return line


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
        return f"OFX: {message[:200]}"
    header_end = body.find(b"<OFX>")
    header_end = header_end if header_end >= 0 else body.find(b"<")
    offset = header_end + int(found.group(1))
    line = body.count(b"\n", 0, max(offset, 0)) + 1
    return f"Line {line}: {message.split(' - position=', maxsplit=1)[0][:200]}"


def _text(node: ET.Element | None, path: str) -> str | None:
    return clean(node.findtext(path)) if node is not None else None


def _day(node: ET.Element | None, path: str, where: str) -> date | None:
    """The date as the bank wrote it, once ofxtools' DateTime has checked the value: its
    conversion to UTC would move a booking at 00:00 CET to the day before."""
    text = _text(node, path)
    if text is None:
        return None
    try:
        _DATETIME.convert(text)
    except ValueError:
        raise UnprocessableStatement(f"{where}: {path} {text!r} is not an OFX date.") from None
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _minor(text: str, currency: str, where: str, name: str) -> int:
    try:
        value = _AMOUNT.convert(text)
    except (ValueError, ArithmeticError):
        raise UnprocessableStatement(f"{where}: {name} {text!r} is not a number.") from None
    return decimal_minor_units(Decimal(value), currency)


def _read_statement(result: ParsedStatement, statement: ET.Element, lines: _Lines) -> None:
    currency = (_text(statement, "CURDEF") or "USD").upper()
    result.currency = result.currency or currency
    account = statement.find("BANKACCTFROM")
    account = account if account is not None else statement.find("CCACCTFROM")
    if result.account_iban is None:
        result.account_iban = clean_iban(_text(account, "ACCTID"))
    tranlist = statement.find("BANKTRANLIST")
    where = "Element BANKTRANLIST"
    result.period_start = result.period_start or _day(tranlist, "DTSTART", where)
    result.period_end = _day(tranlist, "DTEND", where) or result.period_end
    balance = _text(statement, "LEDGERBAL/BALAMT")
    if balance is not None:
        result.closing_balance = _minor(balance, currency, "Element LEDGERBAL", "BALAMT")
    for tx in tranlist.findall("STMTTRN") if tranlist is not None else []:
        result.transactions.append(_transaction(tx, currency, lines.next()))


def _transaction(tx: ET.Element, currency: str, line: int) -> ParsedTransaction:
    where = f"Element STMTTRN (line {line})"
    own_currency = (
        _text(tx, "CURRENCY/CURSYM") or _text(tx, "ORIGCURRENCY/CURSYM") or currency
    ).upper()
    amount = _text(tx, "TRNAMT")
    if amount is None:
        raise UnprocessableStatement(f"{where}: no TRNAMT.")
    booking = _day(tx, "DTPOSTED", where) or _day(tx, "DTUSER", where)
    if booking is None:
        raise UnprocessableStatement(f"{where}: no DTPOSTED.")
    return ParsedTransaction(
        booking_date=booking,
        value_date=_day(tx, "DTAVAIL", where),
        amount=_minor(amount, own_currency, where, "TRNAMT"),
        currency=own_currency,
        counterparty_name=_text(tx, "NAME") or _text(tx, "PAYEE/NAME"),
        counterparty_iban=clean_iban(_text(tx, "BANKACCTTO/ACCTID")),
        remittance_text=_text(tx, "MEMO"),
        end_to_end_id=_text(tx, "REFNUM"),
        bank_reference=_text(tx, "FITID"),
    )
