"""Statements exported as CSV: every bank writes its own columns, so the columns are found
by a preset (the header a known bank export writes) or by their names in English, German,
French, Dutch, Spanish or Italian, or named by the caller's `mapping`. The encoding, the
delimiter, the decimal separator and the date format are detected unless the mapping gives
them.

A mapping: {"booking_date": "<column>", "amount": "<column>", ... , "delimiter": ";",
"decimal_separator": ",", "date_format": "%d.%m.%Y", "encoding": "cp1252",
"currency": "EUR", "preset": "sparkasse"}. Roles: booking_date, value_date, amount, debit,
credit, direction (a column of "D"/"C", "S"/"H", "Af"/"Bij"), currency, counterparty_name,
counterparty_iban, remittance_text, structured_reference, end_to_end_id, bank_reference.
"""

from __future__ import annotations

import csv
import io
import re
import time
import unicodedata
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from common.bank.statements.model import (
    ParsedStatement,
    ParsedTransaction,
    UnprocessableStatement,
    clean,
    clean_iban,
)
from common.money import to_minor_units

ROLES = (
    "booking_date",
    "value_date",
    "amount",
    "debit",
    "credit",
    "direction",
    "currency",
    "counterparty_name",
    "counterparty_iban",
    "remittance_text",
    "structured_reference",
    "end_to_end_id",
    "bank_reference",
)
OPTIONS = ("delimiter", "decimal_separator", "date_format", "encoding", "currency", "preset")

# Column names by role, compared folded (lower case, no accents, letters and digits only).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "booking_date": (
        "bookingdate",
        "date",
        "transactiondate",
        "postingdate",
        "posteddate",
        "buchungstag",
        "buchungsdatum",
        "datum",
        "dateoperation",
        "datecomptable",
        "fecha",
        "fechaoperacion",
        "dataoperazione",
        "dataregistrazione",
        "starteddate",
        "completeddate",
    ),
    "value_date": (
        "valuedate",
        "valuta",
        "valutadatum",
        "wertstellung",
        "datevaleur",
        "fechavalor",
        "datavaluta",
        "rentedatum",
    ),
    "amount": (
        "amount",
        "betrag",
        "montant",
        "bedrag",
        "importe",
        "importo",
        "amounteur",
        "betrageur",
        "bedrageur",
        "umsatz",
        "transactionamount",
    ),
    "debit": (
        "debit",
        "soll",
        "debet",
        "withdrawal",
        "withdrawals",
        "paidout",
        "moneyout",
        "ausgang",
        "cargo",
        "addebiti",
    ),
    "credit": (
        "credit",
        "haben",
        "deposit",
        "deposits",
        "paidin",
        "moneyin",
        "eingang",
        "abono",
        "accrediti",
    ),
    "direction": ("afbij", "sollhaben", "creditdebit", "dc", "debitcredit", "cdindicator"),
    "currency": (
        "currency",
        "wahrung",
        "waehrung",
        "devise",
        "valutacode",
        "moneda",
        "divisa",
        "munt",
    ),
    "counterparty_name": (
        "payee",
        "counterparty",
        "counterpartyname",
        "name",
        "beguenstigterzahlungspflichtiger",
        "begunstigterzahlungspflichtiger",
        "zahlungsempfanger",
        "empfanger",
        "auftraggeber",
        "nameomschrijving",
        "naam",
        "tiers",
        "beneficiaire",
        "beneficiario",
        "partner",
        "partnername",
        "description",
        "details",
        "merchant",
    ),
    "counterparty_iban": (
        "iban",
        "counterpartyiban",
        "accountnumber",
        "kontonummeriban",
        "kontonummer",
        "tegenrekening",
        "ibancontrepartie",
        "gegenkonto",
        "payeeiban",
        "partneriban",
    ),
    "remittance_text": (
        "verwendungszweck",
        "paymentreference",
        "reference",
        "memo",
        "remittance",
        "remittanceinformation",
        "mededelingen",
        "omschrijving",
        "libelle",
        "concepto",
        "causale",
        "purpose",
        "narrative",
        "text",
        "buchungstext",
    ),
    "structured_reference": ("creditorreference", "structuredreference", "rfreference"),
    "end_to_end_id": ("endtoendid", "endtoendreference", "eref", "endtoendreferenz"),
    "bank_reference": (
        "transactionid",
        "bankreference",
        "id",
        "referenz",
        "fitid",
        "transactionreference",
        "kundenreferenz",
    ),
}

# Known exports: their header, role by column, so a synonym never steals a column.
PRESETS: dict[str, dict[str, str]] = {
    "sparkasse": {
        "booking_date": "Buchungstag",
        "value_date": "Valutadatum",
        "remittance_text": "Verwendungszweck",
        "counterparty_name": "Beguenstigter/Zahlungspflichtiger",
        "counterparty_iban": "Kontonummer/IBAN",
        "amount": "Betrag",
        "currency": "Waehrung",
        "end_to_end_id": "Kundenreferenz (End-to-End)",
        "structured_reference": "Glaeubiger ID",
    },
    "n26": {
        "booking_date": "Date",
        "counterparty_name": "Payee",
        "counterparty_iban": "Account number",
        "remittance_text": "Payment reference",
        "amount": "Amount (EUR)",
    },
    "ing_nl": {
        "booking_date": "Datum",
        "counterparty_name": "Naam / Omschrijving",
        "counterparty_iban": "Tegenrekening",
        "direction": "Af Bij",
        "amount": "Bedrag (EUR)",
        "remittance_text": "Mededelingen",
    },
    "revolut": {
        "booking_date": "Completed Date",
        "remittance_text": "Description",
        "amount": "Amount",
        "currency": "Currency",
    },
    "chase": {
        "booking_date": "Posting Date",
        "remittance_text": "Description",
        "amount": "Amount",
    },
    "wise": {
        "bank_reference": "TransferWise ID",
        "booking_date": "Date",
        "amount": "Amount",
        "currency": "Currency",
        "remittance_text": "Description",
        "structured_reference": "Payment Reference",
        "counterparty_name": "Payee Name",
        "counterparty_iban": "Payee Account Number",
    },
}
# The booking date's formats tried, in this order: day first before month first, as most
# banks outside the US write it (a US export with days above 12 still reads month first).
DATE_FORMATS = (
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%Y/%m/%d",
    "%d/%m/%y",
    "%m/%d/%y",
    "%Y%m%d",
    "%d %b %Y",
    "%b %d, %Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
)
DIRECTION_DEBIT = frozenset({"d", "s", "af", "debit", "dbit", "dr", "-", "out"})
DIRECTION_CREDIT = frozenset({"c", "h", "bij", "credit", "crdt", "cr", "+", "in"})
MAX_PREAMBLE = 30  # lines an export may write before its header (account, period ...)


def fold(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


# rank of each folded name among its role's synonyms: the lower, the more it is that role
_SYNONYMS = {
    role: {fold(n): rank for rank, n in reversed(list(enumerate(names)))}
    for role, names in SYNONYMS.items()
}


def decode(data: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise UnprocessableStatement(f"The file is not {encoding}: {exc}.") from None
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # The encoding of most European bank exports that are not UTF-8.
        return data.decode("cp1252", "replace")


def detect_delimiter(lines: list[str]) -> str:
    """The candidate that splits most of the first lines into the same number (>1) of
    fields."""
    best, best_score = ",", 0
    for candidate in (";", ",", "\t", "|"):
        counts = [
            len(row)
            for row in csv.reader(lines[: MAX_PREAMBLE + 5], delimiter=candidate)
            if len(row) > 1
        ]
        if not counts:
            continue
        most = max(set(counts), key=counts.count)
        score = counts.count(most) * most
        if score > best_score:
            best, best_score = candidate, score
    return best


def _header_roles(header: list[str], mapping: dict[str, str]) -> dict[str, int] | None:
    """Column index by role, or None when this row is not a header."""
    folded = [fold(h) for h in header]
    roles: dict[str, int] = {}
    preset = PRESETS.get(mapping.get("preset", ""), {})
    explicit = {role: mapping[role] for role in ROLES if mapping.get(role)}
    for role, column in {**preset, **explicit}.items():
        if fold(column) in folded:
            roles[role] = folded.index(fold(column))
        elif role in explicit:
            return None
    taken = set(roles.values())
    for role in ROLES:
        if role in roles:
            continue
        # the synonyms are in order of preference: "Verwendungszweck" is the remittance
        # even when a "Buchungstext" (the booking type) comes before it
        free = [
            (_SYNONYMS[role][name], index)
            for index, name in enumerate(folded)
            if index not in taken and name in _SYNONYMS[role]
        ]
        if free:
            roles[role] = min(free)[1]
            taken.add(roles[role])
    has_amount = "amount" in roles or ("debit" in roles or "credit" in roles)
    return roles if "booking_date" in roles and has_amount else None


def detect_decimal_separator(values: Iterable[str]) -> str:
    """ "," when the amounts write a decimal comma (1.234,56 or 12,5), else "."."""
    comma = point = 0
    for value in values:
        digits = value.strip().lstrip("+-").replace(" ", "")
        match = re.search(r"([.,])(\d+)$", digits)
        if not match:
            continue
        separator, tail = match.groups()
        if len(tail) == 3:
            continue  # 1.234 or 1,234: a thousands sign as likely as a decimal one
        if separator == ",":
            comma += 1
        else:
            point += 1
    return "," if comma > point else "."


def parse_amount(text: str, decimal_separator: str) -> Decimal | None:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    for symbol in ("€", "$", "£", "EUR", "USD", "GBP", "CHF"):
        cleaned = cleaned.replace(symbol, "")
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    cleaned = cleaned.strip("()")
    if cleaned.endswith("-"):  # "12,50-": a trailing minus, as some German exports write
        cleaned, negative = cleaned[:-1], True
    thousands = "." if decimal_separator == "," else ","
    cleaned = cleaned.replace(thousands, "").replace(decimal_separator, ".")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return -value if negative else value


def _strpdate(value: str, fmt: str) -> date:
    """A calendar date (time.strptime: no datetime, so no time zone to forget)."""
    parsed = time.strptime(value, fmt)
    return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)


def detect_date_format(values: list[str]) -> str | None:
    present = [v.strip() for v in values if v.strip()]
    for fmt in DATE_FORMATS:
        try:
            for value in present:
                _strpdate(value, fmt)
        except ValueError:
            continue
        return fmt
    return None


def parse_csv_statement(data: bytes, mapping: dict[str, Any] | None = None) -> ParsedStatement:
    mapping = {k: v for k, v in (mapping or {}).items() if v not in (None, "")}
    if mapping.get("preset") and mapping["preset"] not in PRESETS:
        raise UnprocessableStatement(
            f"Unknown CSV preset {mapping['preset']!r}; known: {', '.join(sorted(PRESETS))}."
        )
    text = decode(data, mapping.get("encoding"))
    lines = text.splitlines()
    if not lines:
        raise UnprocessableStatement("The file is empty.")
    delimiter = mapping.get("delimiter") or detect_delimiter(lines)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header_at, roles = -1, None
    for index, row in enumerate(rows[:MAX_PREAMBLE]):
        roles = _header_roles(row, mapping)
        if roles is not None:
            header_at = index
            break
    if roles is None:
        raise UnprocessableStatement(
            f"No header row with a booking date and an amount column in the first "
            f"{MAX_PREAMBLE} lines (delimiter {delimiter!r}); name them with `mapping`."
        )
    body = [
        (number, row)
        for number, row in enumerate(rows[header_at + 1 :], start=header_at + 2)
        if any(cell.strip() for cell in row)
    ]

    def column(role: str) -> list[str]:
        at = roles.get(role)
        return [row[at] for _, row in body if at is not None and at < len(row)]

    amounts = column("amount") + column("debit") + column("credit")
    decimal_separator = mapping.get("decimal_separator") or detect_decimal_separator(amounts)
    date_format = mapping.get("date_format") or detect_date_format(column("booking_date"))
    if date_format is None:
        raise UnprocessableStatement(
            f"Line {header_at + 2}: the booking dates are in no known format; give "
            "`date_format` in `mapping`."
        )
    default_currency = (mapping.get("currency") or "EUR").upper()
    statement = ParsedStatement(format="csv", currency=default_currency)
    for number, row in body:
        statement.transactions.append(
            _row(number, row, roles, decimal_separator, date_format, default_currency)
        )
    if statement.transactions:
        dates = [t.booking_date for t in statement.transactions]
        statement.period_start, statement.period_end = min(dates), max(dates)
        currencies = {t.currency for t in statement.transactions}
        statement.currency = currencies.pop() if len(currencies) == 1 else default_currency
    return statement


def _row(  # noqa: PLR0917 - the row's reading context, passed by the one caller
    number: int,
    row: list[str],
    roles: dict[str, int],
    decimal_separator: str,
    date_format: str,
    default_currency: str,
) -> ParsedTransaction:
    def cell(role: str) -> str | None:
        at = roles.get(role)
        return clean(row[at]) if at is not None and at < len(row) else None

    def when(role: str) -> date | None:
        value = cell(role)
        if value is None:
            return None
        try:
            return _strpdate(value, date_format)
        except ValueError:
            raise UnprocessableStatement(
                f"Line {number}: {role} {value!r} does not read as {date_format}."
            ) from None

    def number_in(role: str) -> Decimal | None:
        value = cell(role)
        if value is None:
            return None
        amount = parse_amount(value, decimal_separator)
        if amount is None:
            raise UnprocessableStatement(f"Line {number}: {role} {value!r} is not a number.")
        return amount

    booking = when("booking_date")
    if booking is None:
        raise UnprocessableStatement(f"Line {number}: no booking date.")
    amount = number_in("amount")
    if amount is None:
        debit, credit = number_in("debit"), number_in("credit")
        if debit is None and credit is None:
            raise UnprocessableStatement(f"Line {number}: no amount.")
        amount = (credit or Decimal(0)) - abs(debit or Decimal(0))
    direction = (cell("direction") or "").lower()
    if direction in DIRECTION_DEBIT:
        amount = -abs(amount)
    elif direction in DIRECTION_CREDIT:
        amount = abs(amount)
    currency = (cell("currency") or default_currency).upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise UnprocessableStatement(f"Line {number}: currency {currency!r} is not ISO 4217.")
    return ParsedTransaction(
        booking_date=booking,
        value_date=when("value_date"),
        amount=to_minor_units(amount, currency),
        currency=currency,
        counterparty_name=cell("counterparty_name"),
        counterparty_iban=clean_iban(cell("counterparty_iban")),
        remittance_text=cell("remittance_text"),
        structured_reference=cell("structured_reference"),
        end_to_end_id=cell("end_to_end_id"),
        bank_reference=cell("bank_reference"),
    )
