"""The invoice fields every extraction path fills, and the vocabulary they share."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from common import money
from common.invoice_fields import SCALAR_FIELDS

# The contract's extracted fields, named once in common/invoice_fields.py.
AMOUNT_FIELDS = ("subtotal_amount", "tax_amount", "total_amount", "amount_due", "discount_amount")
SOURCES = ("pdf_text", "ocr", "ubl", "cii", "facturx")
DOCUMENT_TYPES = ("invoice", "credit_note", "receipt", "quote", "purchase_order", "unknown")

# UNTDID 1001 document name codes, grouped by what the contract calls them. Corrected (384),
# self-billed (389) and prepayment (386) invoices are still invoices: money is owed.
_CREDIT_NOTE_CODES = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"}
)
_INVOICE_CODES = frozenset(
    {
        "80",
        "82",
        "84",
        "130",
        "202",
        "203",
        "204",
        "211",
        "218",
        "219",
        "295",
        "325",
        "326",
        "331",
        "380",
        "382",
        "383",
        "384",
        "385",
        "386",
        "387",
        "388",
        "389",
        "390",
        "393",
        "394",
        "395",
        "456",
        "457",
        "527",
        "551",
        "553",
        "575",
        "623",
        "633",
        "751",
        "780",
        "817",
        "870",
        "875",
        "876",
        "877",
        "935",
    }
)
_QUOTE_CODES = frozenset({"310"})

# UNTDID 4461 payment means codes, named the way the API names things.
PAYMENT_METHOD_BY_CODE = {
    "1": None,
    "10": "cash",
    "20": "cheque",
    "30": "credit_transfer",
    "31": "debit_transfer",
    "42": "credit_transfer",
    "48": "card",
    "49": "direct_debit",
    "54": "card",
    "55": "card",
    "57": "standing_agreement",
    "58": "sepa_credit_transfer",
    "59": "sepa_direct_debit",
    "68": "online_payment",
    "97": "clearing",
}


def empty_fields(source: str) -> dict[str, Any]:
    fields: dict[str, Any] = dict.fromkeys(SCALAR_FIELDS)
    fields.update(
        {
            "tax_breakdown": [],
            "line_items": [],
            "document_type": "unknown",
            "source": source,
            "extraction_confidence": None,
            "field_confidence": {},
            "warnings": [],
        }
    )
    return fields


def document_type_for_code(type_code: str | None, default: str = "invoice") -> str:
    code = (type_code or "").strip()
    if not code:
        return default
    if code in _CREDIT_NOTE_CODES:
        return "credit_note"
    if code in _INVOICE_CODES:
        return "invoice"
    if code in _QUOTE_CODES:
        return "quote"
    return "unknown"


def payment_method_for_code(code: str | None) -> str | None:
    if not code:
        return None
    return PAYMENT_METHOD_BY_CODE.get(code.strip(), "other")


def warning(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field}


def iso_date(text: str | None, date_format: str | None = None) -> str | None:
    """A date as "YYYY-MM-DD" from the forms e-invoices use: ISO (UBL), CII format 102
    (YYYYMMDD); also tolerates an ISO timestamp. None when it is not a real date."""
    if not text:
        return None
    value = text.strip()
    if date_format == "102" or re.fullmatch(r"\d{8}", value):
        match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", value)
    else:
        match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value)
    if match is None:
        return None
    try:
        return dt.date(*map(int, match.groups())).isoformat()
    except ValueError:
        return None


class AmountReader:
    """Turns decimal amount strings of one document into minor units of its currency,
    noting any amount that had to be rounded (finer than the currency allows)."""

    def __init__(self, currency: str | None, warnings: list[dict[str, Any]]) -> None:
        self.currency = currency
        self.warnings = warnings

    def decimal(self, text: str | None) -> Decimal | None:
        return money.parse_decimal(text)

    def minor(self, text: str | None, field: str | None = None) -> int | None:
        value = money.parse_decimal(text)
        if value is None:
            return None
        if field is not None and not money.is_whole_minor_units(value, self.currency):
            self.warnings.append(
                warning(
                    "amount_rounded",
                    f"{value} has more decimals than {self.currency or 'the currency'} allows; "
                    "rounded to the minor unit.",
                    field,
                )
            )
        return money.to_minor_units(value, self.currency)


def rate_text(text: str | None) -> str | None:
    value = money.parse_decimal(text)
    return None if value is None else money.format_rate(value)


def single_rate(breakdown: list[dict[str, Any]]) -> str | None:
    """The invoice's tax rate when all of it is taxed at one rate, else None."""
    rates = {entry["rate"] for entry in breakdown if entry.get("rate") is not None}
    return rates.pop() if len(rates) == 1 else None


def join_lines(parts: list[str | None]) -> str | None:
    kept = [part for part in parts if part]
    return "\n".join(kept) if kept else None


def line_item(
    amounts: AmountReader,
    *,
    description: str | None,
    quantity: str | None,
    unit: str | None,
    unit_price: str | None,
    price_base_quantity: str | None,
    total_price: str | None,
    tax_rate: str | None,
    tax_amount: str | None,
    discount_percent: str | None,
    discount_amount: int | None,
) -> dict[str, Any]:
    """One line as the contract shows it. `unit_price` is in minor units (rounded when the
    price is finer than the currency, e.g. 3.3333 EUR); `unit_price_decimal` keeps the exact
    price, and `unit_price_base_quantity` appears when the price is per more than one unit."""
    quantity_value = money.parse_decimal(quantity)
    price_value = money.parse_decimal(unit_price)
    base_value = money.parse_decimal(price_base_quantity)
    item: dict[str, Any] = {
        "description": description,
        "quantity": None if quantity_value is None else money.format_quantity(quantity_value),
        "unit": unit,
        "unit_price": None
        if price_value is None
        else money.to_minor_units(price_value, amounts.currency),
        "unit_price_decimal": None if price_value is None else format(price_value, "f"),
        "total_price": amounts.minor(total_price),
        "tax_rate": rate_text(tax_rate),
        "tax_amount": amounts.minor(tax_amount),
        "discount_percent": rate_text(discount_percent),
        "discount_amount": discount_amount,
    }
    if base_value is not None and base_value != 1:
        item["unit_price_base_quantity"] = money.format_quantity(base_value)
    return item
