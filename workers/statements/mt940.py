"""SWIFT MT940 customer statements: the tags :20: (reference), :25: (account), :28C:
(statement number), :60F:/:60M: (opening balance), :61: (a booking), :86: (its details),
:62F:/:62M: (closing balance). The :86: field is read in its two common dialects: German
banks' structured ?20..?29 subfields (Verwendungszweck, ?32/?33 name, ?31 account) and the
/EREF/ /REMI/ /NAME/ /IBAN/ tags of Dutch and other SEPA banks; otherwise its text is the
remittance.
"""

from __future__ import annotations

import re
from datetime import date

from workers.statements.model import (
    ParsedStatement,
    ParsedTransaction,
    UnprocessableStatement,
    clean,
    clean_iban,
    minor_units,
)

_TAG = re.compile(r"^:(\d{2}[A-Z]?):", re.MULTILINE)
# :61: value date YYMMDD, entry date MMDD, (R)C/D, funds code, amount, type code, customer
# reference, //bank reference, then on a new line supplementary details.
_LINE_61 = re.compile(
    r"(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>R?[CD])(?P<funds>[A-Z])?"
    r"(?P<amount>\d[\d,]*)(?P<type>[A-Z0-9]{4})(?P<customer>[^/\n]*?)"
    r"(?://(?P<bank>[^\n]*))?(?:\n(?P<extra>.*))?$",
    re.DOTALL,
)
_BALANCE = re.compile(r"(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>[\d,]+)")
_GERMAN_SUBFIELD = re.compile(r"\?(\d{2})")
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


def _yymmdd(text: str, line: int) -> date:
    try:
        year = int(text[:2])
        return date(2000 + year if year < 80 else 1900 + year, int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise UnprocessableStatement(f"Line {line}: {text!r} is not a date (YYMMDD).") from None


def _fields(text: str) -> list[tuple[str, str, int]]:
    """(tag, value, line) of each field; a value runs to the next tag or the block's end."""
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    matches = list(_TAG.finditer(body))
    fields = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(body)
        value = body[match.end() : end]
        value = re.sub(r"\n-\}?\s*$|\n-\s*$|\}\s*$", "", value.rstrip()).rstrip("\n")
        fields.append((match.group(1), value, body.count("\n", 0, match.start()) + 1))
    return fields


def _details_86(text: str) -> dict[str, str | None]:
    """Counterparty, account and remittance from a :86: field."""
    flat = text.replace("\n", "")
    if _GERMAN_SUBFIELD.search(flat[:8]):
        parts: dict[str, str] = {}
        pieces = _GERMAN_SUBFIELD.split(flat)
        for code, value in zip(pieces[1::2], pieces[2::2], strict=False):
            parts[code] = parts.get(code, "") + value
        purpose = "".join(parts.get(f"{n}", "") for n in [*range(20, 30), *range(60, 64)])
        reference = re.search(r"EREF\+(\S+?)(?=[A-Z]{4}\+|$)", purpose)
        remittance = re.search(r"SVWZ\+(.*?)(?=(?:ABWA|ABWE|KREF|MREF|CRED)\+|$)", purpose)
        return {
            "name": clean(parts.get("32", "") + parts.get("33", "")) or None,
            "iban": clean_iban(parts.get("31")),
            "remittance": clean(remittance.group(1) if remittance else purpose),
            "end_to_end": reference.group(1) if reference else None,
        }
    if flat.startswith("/") and re.search(r"/(" + "|".join(_SEPA_TAGS) + r")/", flat):
        tags: dict[str, str] = {}
        pattern = re.compile(r"/(" + "|".join(_SEPA_TAGS) + r")/")
        pieces = pattern.split(flat)
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
    return {"remittance": clean(text)}


def parse_mt940(data: bytes) -> ParsedStatement:
    text = data.decode("utf-8", "replace") if _is_utf8(data) else data.decode("latin-1")
    fields = _fields(text)
    if not any(tag == "61" for tag, _, _ in fields) and not any(
        tag.startswith("60") for tag, _, _ in fields
    ):
        raise UnprocessableStatement("No :60F: or :61: field: not an MT940 statement.")
    statement = ParsedStatement(format="mt940")
    pending: dict | None = None

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            statement.transactions.append(ParsedTransaction(**pending))
            pending = None

    for tag, value, line in fields:
        if tag == "20" and statement.statement_reference is None:
            statement.statement_reference = clean(value)
        elif tag == "25" and statement.account_iban is None:
            account = clean(value) or ""
            statement.account_iban = clean_iban(account.split("/")[-1])
        elif tag == "28C" and statement.statement_reference:
            statement.statement_reference = f"{statement.statement_reference}/{clean(value)}"
        elif tag in ("60F", "60M", "62F", "62M"):
            flush()
            match = _BALANCE.match(value.strip())
            if not match:
                raise UnprocessableStatement(f"Line {line}: :{tag}: {value!r} is not a balance.")
            currency = match["currency"]
            amount = minor_units(match["amount"], currency, f"Line {line}")
            amount = amount if match["mark"] == "C" else -amount
            when = _yymmdd(match["date"], line)
            statement.currency = statement.currency or currency
            if tag.startswith("60"):
                if statement.opening_balance is None:
                    statement.opening_balance = amount
                    statement.period_start = when
            else:
                statement.closing_balance = amount
                statement.period_end = when
        elif tag == "61":
            flush()
            match = _LINE_61.match(value.strip())
            if not match:
                raise UnprocessableStatement(f"Line {line}: :61: {value!r} is not a booking.")
            currency = statement.currency or "EUR"
            amount = minor_units(match["amount"], currency, f"Line {line}")
            debit = match["mark"] in ("D", "RC")
            value_date = _yymmdd(match["value"], line)
            booking = value_date
            if match["entry"]:
                month, day = int(match["entry"][:2]), int(match["entry"][2:])
                year = value_date.year
                # an entry date in January for a December value date is next year's
                if month == 1 and value_date.month == 12:
                    year += 1
                elif month == 12 and value_date.month == 1:
                    year -= 1
                try:
                    booking = date(year, month, day)
                except ValueError:
                    raise UnprocessableStatement(
                        f"Line {line}: entry date {match['entry']!r} is not a date."
                    ) from None
            customer = clean(match["customer"])
            bank = clean(match["bank"])
            pending = {
                "booking_date": booking,
                "value_date": value_date,
                "amount": -amount if debit else amount,
                "currency": currency,
                "bank_reference": bank if bank and bank != "NONREF" else None,
                "end_to_end_id": customer if customer and customer != "NONREF" else None,
                "remittance_text": clean(match["extra"]),
            }
        elif tag == "86" and pending is not None:
            details = _details_86(value)
            pending["counterparty_name"] = details.get("name")
            pending["counterparty_iban"] = details.get("iban")
            pending["remittance_text"] = details.get("remittance") or pending["remittance_text"]
            pending["structured_reference"] = details.get("structured")
            pending["end_to_end_id"] = details.get("end_to_end") or pending["end_to_end_id"]
    flush()
    return statement


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
