"""Money as the contract wants it: integers in the currency's minor unit (ISO 4217 exponent)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents that are not 2. Any currency not listed here uses 2.
EXPONENT_BY_CURRENCY: dict[str, int] = {
    # no minor unit
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # thousandths
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    # ten-thousandths (units of account)
    "CLF": 4,
    "UYW": 4,
}
DEFAULT_EXPONENT = 2


def currency_exponent(currency: str | None) -> int:
    return EXPONENT_BY_CURRENCY.get((currency or "").strip().upper(), DEFAULT_EXPONENT)


_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def parse_decimal(text: str | None) -> Decimal | None:
    """A decimal written the way XML schemas write it ("1234.50", "-3", "+7.0"); None if not.

    Also accepts a lone decimal comma ("12,50"): some generators write amounts that way in
    XML that is otherwise valid, and the meaning is not in doubt."""
    if text is None:
        return None
    cleaned = text.strip()
    if not cleaned:
        return None
    if _DECIMAL_COMMA.fullmatch(cleaned):
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def to_minor_units(amount: Decimal, currency: str | None) -> int:
    """12.50 EUR -> 1250, 1250 JPY -> 1250, 1.250 KWD -> 1250.

    Amounts with more decimals than the currency has are rounded half away from zero, the
    way invoices round; callers that must not lose precision check `is_whole_minor_units`.
    """
    exponent = currency_exponent(currency)
    return int(amount.scaleb(exponent).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def is_whole_minor_units(amount: Decimal, currency: str | None) -> bool:
    scaled = amount.scaleb(currency_exponent(currency))
    return scaled == scaled.to_integral_value()


def from_minor_units(units: int, currency: str | None) -> Decimal:
    return Decimal(units).scaleb(-currency_exponent(currency))


def format_rate(rate: Decimal) -> str:
    """Rates and percentages as the contract writes them: at least two decimals ("19.00",
    "5.50", "7.125")."""
    if rate == rate.quantize(Decimal("0.01")):
        return str(rate.quantize(Decimal("0.01")))
    return format(rate.normalize(), "f")


def format_quantity(quantity: Decimal) -> str:
    """ "3.0000" -> "3", "1.50" -> "1.5": quantities carry no trailing zeros."""
    if quantity == quantity.to_integral_value():
        return str(quantity.quantize(Decimal(1)))
    return format(quantity.normalize(), "f")
