"""OFX bank statements (STMTRS, and CCSTMTRS for cards) in both forms: OFX 1.x SGML, whose
leaf elements have no closing tags, and OFX 2.x XML. Both are read by one tokenizer into
a tree; the XML form first passes the project's hardened XML parser, so a DOCTYPE or entity
declaration is refused as for any XML this service reads.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date

from workers.extraction.errors import UnprocessableInvoice
from workers.extraction.xmltree import parse_untrusted_xml
from workers.statements.model import (
    ParsedStatement,
    ParsedTransaction,
    UnprocessableStatement,
    clean,
    clean_iban,
    minor_units,
)

_TOKEN = re.compile(r"<(/?)([A-Za-z0-9_.]+)[^>]*>([^<]*)")


@dataclass
class Node:
    name: str
    line: int
    text: str | None = None
    children: list[Node] = field(default_factory=list)

    def find(self, path: str) -> Node | None:
        node: Node | None = self
        for name in path.split("/"):
            node = next((c for c in node.children if c.name == name), None) if node else None
        return node

    def text_of(self, path: str) -> str | None:
        found = self.find(path)
        return clean(html.unescape(found.text)) if found and found.text else None

    def walk(self, name: str) -> list[Node]:
        found = [c for c in self.children if c.name == name]
        for child in self.children:
            found.extend(child.walk(name))
        return found


def _tree(body: str) -> Node:
    """Elements that hold text close where the text ends (SGML leaves), the others at their
    closing tag (closing an unclosed leaf on the way)."""
    root = Node("", 0)
    stack = [root]
    for match in _TOKEN.finditer(body):
        closing, name, text = match.group(1), match.group(2).upper(), match.group(3)
        line = body.count("\n", 0, match.start()) + 1
        if closing:
            # a leaf's own closing tag (OFX XML) closes nothing that is open
            if any(node.name == name for node in stack[1:]):
                while stack[-1].name != name:
                    stack.pop()
                stack.pop()
            continue
        node = Node(name, line)
        stack[-1].children.append(node)
        if text.strip():
            node.text = text.strip()  # a leaf: SGML never closes it
        else:
            stack.append(node)
    return root


def _date(node: Node, path: str) -> date | None:
    text = node.text_of(path)
    if text is None:
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise UnprocessableStatement(
            f"Element {path} (line {node.line}): {text!r} is not an OFX date."
        ) from None


def parse_ofx(data: bytes) -> ParsedStatement:
    start = data.find(b"<")
    head = data[:start] if start >= 0 else data
    if start < 0:
        raise UnprocessableStatement("No OFX element: not an OFX file.")
    if data.lstrip()[:5].lower() == b"<?xml":
        try:
            parse_untrusted_xml(data.strip())
        except UnprocessableInvoice as exc:
            raise UnprocessableStatement(exc.message) from None
    charset = re.search(rb"CHARSET:\s*(\d+)", head)
    encoding = "cp1252" if charset and charset.group(1) == b"1252" else "utf-8"
    text = data.decode(encoding, "replace")
    root = _tree(text)
    statements = root.walk("STMTRS") + root.walk("CCSTMTRS")
    if not statements:
        raise UnprocessableStatement("No STMTRS element: not an OFX bank statement.")
    result = ParsedStatement(format="ofx")
    for node in statements:
        currency = (node.text_of("CURDEF") or "USD").upper()
        result.currency = result.currency or currency
        account = node.find("BANKACCTFROM") or node.find("CCACCTFROM")
        if result.account_iban is None and account is not None:
            result.account_iban = clean_iban(account.text_of("ACCTID"))
        tranlist = node.find("BANKTRANLIST")
        if tranlist is not None:
            result.period_start = result.period_start or _date(tranlist, "DTSTART")
            result.period_end = _date(tranlist, "DTEND") or result.period_end
        ledger = node.find("LEDGERBAL")
        if ledger is not None and ledger.text_of("BALAMT"):
            result.closing_balance = minor_units(
                ledger.text_of("BALAMT"), currency, f"Element BALAMT (line {ledger.line})"
            )
        for tx in node.walk("STMTTRN"):
            result.transactions.append(_transaction(tx, currency))
    return result


def _transaction(tx: Node, currency: str) -> ParsedTransaction:
    where = f"Element STMTTRN (line {tx.line})"
    own_currency = (tx.text_of("CURRENCY/CURSYM") or currency).upper()
    amount_text = tx.text_of("TRNAMT")
    if amount_text is None:
        raise UnprocessableStatement(f"{where}: no TRNAMT.")
    booking = _date(tx, "DTPOSTED") or _date(tx, "DTUSER")
    if booking is None:
        raise UnprocessableStatement(f"{where}: no DTPOSTED.")
    name = tx.text_of("NAME") or tx.text_of("PAYEE/NAME")
    account = tx.find("BANKACCTTO")
    return ParsedTransaction(
        booking_date=booking,
        value_date=_date(tx, "DTAVAIL"),
        amount=minor_units(amount_text, own_currency, where),
        currency=own_currency,
        counterparty_name=name,
        counterparty_iban=clean_iban(account.text_of("ACCTID")) if account else None,
        remittance_text=tx.text_of("MEMO"),
        end_to_end_id=tx.text_of("REFNUM"),
        bank_reference=tx.text_of("FITID"),
    )
