"""ISO 20022 cash management: camt.053 (statement), camt.052 (intraday report) and camt.054
(debit/credit notification), any version: read by local element names, as their versions
differ in namespaces and in a few wrappers (`Pty` around a party's name since version 8).

Parsed with the project's hardened parser: a DOCTYPE or entity declaration is refused.
"""

from __future__ import annotations

from datetime import date

from common.bank.statements.model import (
    ParsedStatement,
    ParsedTransaction,
    UnprocessableStatement,
    clean,
    clean_iban,
    minor_units,
)
from common.xmltree import (
    Element,
    RefusedXml,
    find,
    find_all,
    local_name,
    parse_untrusted_xml,
)

# The message element of each kind, and the element each holds its account reports in.
REPORTS = {
    "BkToCstmrStmt": ("camt.053", "Stmt"),
    "BkToCstmrAcctRpt": ("camt.052", "Rpt"),
    "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn"),
}


def _where(element: Element) -> str:
    return f"element {local_name(element)} (line {element.sourceline})"


def _text(element: Element | None, path: str) -> str | None:
    found = find(element, path)
    return clean(found.text) if found is not None and found.text else None


def _date(element: Element | None, path: str, where: str) -> date | None:
    """A `Dt` or the date of a `DtTm` under `path`."""
    text = _text(element, f"{path}/Dt") or _text(element, f"{path}/DtTm")
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise UnprocessableStatement(f"{where}: {path} {text!r} is not a date.") from None


def _signed(element: Element, amount: int) -> int:
    indicator = _text(element, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise UnprocessableStatement(f"{_where(element)}: CdtDbtInd must be CRDT or DBIT.")
    return amount if indicator == "CRDT" else -amount


def _amount(element: Element, path: str) -> tuple[int, str] | None:
    found = find(element, path)
    if found is None:
        return None
    currency = (found.get("Ccy") or "").upper()
    if not currency:
        raise UnprocessableStatement(f"{_where(found)}: Amt has no Ccy.")
    return minor_units(found.text, currency, _where(found)), currency


def _party_name(party: Element | None) -> str | None:
    return _text(party, "Nm") or _text(party, "Pty/Nm")


def parse_camt(data: bytes) -> ParsedStatement:
    try:
        root = parse_untrusted_xml(data)
    except RefusedXml as exc:
        raise UnprocessableStatement(exc.message) from None
    message = root[0] if len(root) and local_name(root) == "Document" else None
    if message is None or local_name(message) not in REPORTS:
        raise UnprocessableStatement(
            f"{_where(root)}: not a camt.052, camt.053 or camt.054 document."
        )
    kind, report_name = REPORTS[local_name(message)]
    reports = find_all(message, report_name)
    if not reports:
        raise UnprocessableStatement(f"{_where(message)}: no {report_name} element.")
    statement = ParsedStatement(format=kind)
    for report in reports:
        _read_report(report, statement)
    return statement


def _read_report(report: Element, statement: ParsedStatement) -> None:
    where = _where(report)
    iban = clean_iban(_text(report, "Acct/Id/IBAN") or _text(report, "Acct/Id/Othr/Id"))
    currency = _text(report, "Acct/Ccy")
    if statement.account_iban is None:
        statement.account_iban = iban
        statement.statement_reference = _text(report, "Id")
    statement.currency = statement.currency or currency
    start = _date(report, "FrToDt/FrDtTm", where) or _date(report, "FrToDt/FrDt", where)
    end = _date(report, "FrToDt/ToDtTm", where) or _date(report, "FrToDt/ToDt", where)
    for balance in find_all(report, "Bal"):
        code = _text(balance, "Tp/CdOrPrtry/Cd")
        amount = _amount(balance, "Amt")
        if amount is None:
            raise UnprocessableStatement(f"{_where(balance)}: no Amt.")
        value = _signed(balance, amount[0])
        statement.currency = statement.currency or amount[1]
        when = _date(balance, "Dt", _where(balance))
        if code in ("OPBD", "PRCD") and statement.opening_balance is None:
            statement.opening_balance = value
            start = start or when
        elif code in ("CLBD", "ITBD"):
            statement.closing_balance = value
            end = end or when
    if start and (statement.period_start is None or start < statement.period_start):
        statement.period_start = start
    if end and (statement.period_end is None or end > statement.period_end):
        statement.period_end = end
    for entry in find_all(report, "Ntry"):
        statement.transactions.extend(_read_entry(entry, statement.currency))


def _read_entry(entry: Element, account_currency: str | None) -> list[ParsedTransaction]:
    where = _where(entry)
    if (_text(entry, "Sts/Cd") or _text(entry, "Sts")) in ("PDNG", "INFO"):
        return []  # not booked: a later statement books it
    amount = _amount(entry, "Amt")
    if amount is None:
        raise UnprocessableStatement(f"{where}: no Amt.")
    signed = _signed(entry, amount[0])
    if _text(entry, "RvslInd") == "true":
        signed = -signed
    booking = _date(entry, "BookgDt", where) or _date(entry, "ValDt", where)
    if booking is None:
        raise UnprocessableStatement(f"{where}: no BookgDt.")
    value_date = _date(entry, "ValDt", where)
    entry_ref = _text(entry, "AcctSvcrRef")
    entry_info = _text(entry, "AddtlNtryInf")
    details = find_all(entry, "NtryDtls/TxDtls")
    if len(details) <= 1:
        detail = details[0] if details else None
        return [
            _transaction(
                detail, booking, value_date, signed, amount[1], entry_ref, entry_info, signed < 0
            )
        ]
    # A batch booking: one transaction per detail that states its own amount.
    transactions = []
    for index, detail in enumerate(details, start=1):
        own = _amount(detail, "AmtDtls/TxAmt/Amt") or _amount(detail, "Amt")
        if own is None:
            raise UnprocessableStatement(f"{_where(detail)}: a batch detail without its Amt.")
        own_signed = -own[0] if signed < 0 else own[0]
        reference = _text(detail, "Refs/AcctSvcrRef") or (
            f"{entry_ref}/{index}" if entry_ref else None
        )
        transactions.append(
            _transaction(
                detail, booking, value_date, own_signed, own[1], reference, entry_info, signed < 0
            )
        )
    return transactions


def _transaction(  # noqa: PLR0917 - one call per entry shape, every argument named there
    detail: Element | None,
    booking: date,
    value_date: date | None,
    amount: int,
    currency: str,
    entry_reference: str | None,
    entry_info: str | None,
    debit: bool,
) -> ParsedTransaction:
    # The other side: the creditor of a payment we made, the debtor of one we received.
    side = "Cdtr" if debit else "Dbtr"
    parties = find(detail, "RltdPties")
    unstructured = [clean(u.text) for u in find_all(detail, "RmtInf/Ustrd") if u.text]
    remittance = " ".join(u for u in unstructured if u) or entry_info
    end_to_end = _text(detail, "Refs/EndToEndId")
    return ParsedTransaction(
        booking_date=booking,
        value_date=value_date,
        amount=amount,
        currency=currency,
        counterparty_name=_party_name(find(parties, side)),
        counterparty_iban=clean_iban(_text(parties, f"{side}Acct/Id/IBAN")),
        remittance_text=remittance,
        structured_reference=_text(detail, "RmtInf/Strd/CdtrRefInf/Ref"),
        end_to_end_id=None if end_to_end == "NOTPROVIDED" else end_to_end,
        bank_reference=_text(detail, "Refs/AcctSvcrRef") or entry_reference,
    )
