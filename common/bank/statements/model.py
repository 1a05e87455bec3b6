"""What every statement format is read into, and why one could not be."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from common.money import parse_decimal, to_minor_units


class UnprocessableStatement(Exception):
    """The file is not a statement this service reads; the message names the line or
    element at fault, for the person who uploaded it."""

    code = "unprocessable_statement"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class ParsedTransaction:
    booking_date: date
    amount: int  # minor units; negative: money left the account (a payment we made)
    currency: str
    value_date: date | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    remittance_text: str | None = None
    structured_reference: str | None = None
    end_to_end_id: str | None = None
    bank_reference: str | None = None

    def content_digest(self) -> str:
        """What makes two transactions without a bank reference the same one."""
        parts = (
            self.booking_date.isoformat(),
            str(self.amount),
            self.currency,
            self.counterparty_iban or "",
            self.counterparty_name or "",
            self.remittance_text or "",
            self.structured_reference or "",
            self.end_to_end_id or "",
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@dataclass
class ParsedStatement:
    format: str
    account_iban: str | None = None
    currency: str | None = None
    statement_reference: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    opening_balance: int | None = None
    closing_balance: int | None = None
    transactions: list[ParsedTransaction] = field(default_factory=list)

    def dedup_keys(self) -> list[str]:
        """One key per transaction: the bank's reference when it gives one, else a digest
        of the content and its occurrence in this statement (two equal card payments on one
        day are two payments; the same day read again from another statement is not)."""
        seen: dict[str, int] = {}
        keys = []
        for tx in self.transactions:
            if tx.bank_reference:
                keys.append(f"ref:{tx.bank_reference}")
                continue
            digest = tx.content_digest()
            seen[digest] = seen.get(digest, 0) + 1
            keys.append(f"sha:{digest}:{seen[digest]}")
        return keys


def minor_units(text: str | None, currency: str | None, where: str) -> int:
    """ "1234.50" or "1234,50" in `currency`'s minor units; UnprocessableStatement naming
    `where` when it is not a number."""
    value = parse_decimal(text)
    if value is None:
        raise UnprocessableStatement(f"{where}: amount {text!r} is not a number.")
    return to_minor_units(value, currency)


def decimal_minor_units(value: Decimal, currency: str | None) -> int:
    return to_minor_units(value, currency)


def clean(text: str | None) -> str | None:
    """Whitespace collapsed; None for nothing."""
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed or None


_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")


def clean_iban(text: str | None) -> str | None:
    """An IBAN compact and upper case once schwifty has checked its length, bank code and
    check digits; None for one that fails, so a mistyped IBAN never matches a vendor's. An
    account number not shaped like an IBAN (OFX's ACCTID, a US account) is kept as it is."""
    if not text:
        return None
    compact = "".join(text.split()).upper()
    if not _IBAN_SHAPE.fullmatch(compact):
        return compact or None
    try:
        return IBAN(compact).compact
    except SchwiftyException:
        return None
