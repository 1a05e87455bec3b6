"""Which format a statement file is in, and reading it."""

from __future__ import annotations

import re
from typing import Any

from common.bank.statements.camt import parse_camt
from common.bank.statements.csv_statement import parse_csv_statement
from common.bank.statements.model import ParsedStatement, UnprocessableStatement
from common.bank.statements.mt940 import parse_mt940

FORMATS = ("camt.052", "camt.053", "camt.054", "mt940", "ofx", "csv")
_CAMT = re.compile(rb"camt\.05[234]|BkToCstmr(Stmt|AcctRpt|DbtCdtNtfctn)")


def sniff_statement(data: bytes) -> str:
    """ "camt", "ofx", "mt940" or "csv"; UnprocessableStatement for anything else (a PDF,
    an image, binary data)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnprocessableStatement("The file is binary, not a bank statement.")
    if head.startswith(b"OFXHEADER") or re.search(rb"<OFX>|<\?OFX", head, re.IGNORECASE):
        return "ofx"
    if head.startswith(b"<"):
        if _CAMT.search(data[:65536]):
            return "camt"
        raise UnprocessableStatement("The XML is neither ISO 20022 camt.052/053/054 nor OFX.")
    if re.search(rb"^:20:", head, re.MULTILINE) or head.startswith((b"{1:", b":20:")):
        return "mt940"
    if head.startswith(b"%PDF"):
        raise UnprocessableStatement("A PDF is not a statement this service reads.")
    return "csv"


def parse_statement(data: bytes, mapping: dict[str, Any] | None = None) -> ParsedStatement:
    kind = sniff_statement(data)
    if kind == "camt":
        return parse_camt(data)
    if kind == "ofx":
        # ofxtools is slow to import, and most API and worker processes read no OFX file
        from common.bank.statements.ofx import parse_ofx  # noqa: PLC0415

        return parse_ofx(data)
    if kind == "mt940":
        return parse_mt940(data)
    return parse_csv_statement(data, mapping)
