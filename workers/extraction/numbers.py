"""Amounts as invoices print them: "1.234,56", "1,234.56", "1 234,56", "1'234.56", "-5,00",
"5,00-", "(5.00)", "€ 12", "12,00 EUR".

Whether "1.234" is a thousand or one and a bit cannot be told from the number alone, so the
decimal separator is decided once per document from the amounts that show two decimals
(`decimal_separator_of`), and every ambiguous number follows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Symbols and the codes that commonly stand for them. "$" alone is read as USD and "kr" as
# the Nordic krona of the document's language; callers lower the confidence for both.
CURRENCY_SYMBOLS = {
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₺": "TRY",
    "₽": "RUB",
    "zł": "PLN",
    "kč": "CZK",
    "fr.": "CHF",
    "chf": "CHF",
    "rs.": "INR",
    "rs": "INR",
    "rm": "MYR",
    "$": "USD",
    "us$": "USD",
    "a$": "AUD",
    "c$": "CAD",
    "r$": "BRL",
}
ISO_CURRENCIES = frozenset(
    {
        "EUR",
        "USD",
        "GBP",
        "CHF",
        "SEK",
        "NOK",
        "DKK",
        "ISK",
        "PLN",
        "CZK",
        "HUF",
        "RON",
        "BGN",
        "HRK",
        "TRY",
        "RUB",
        "UAH",
        "JPY",
        "CNY",
        "HKD",
        "SGD",
        "MYR",
        "INR",
        "IDR",
        "THB",
        "PHP",
        "VND",
        "KRW",
        "TWD",
        "AUD",
        "NZD",
        "CAD",
        "MXN",
        "BRL",
        "ARS",
        "CLP",
        "COP",
        "PEN",
        "ZAR",
        "AED",
        "SAR",
        "QAR",
        "KWD",
        "BHD",
        "OMR",
        "JOD",
        "TND",
        "MAD",
        "EGP",
        "ILS",
        "NGN",
        "KES",
    }
)

_SIGN = r"(?P<sign>[-−–+]\s?|\()?"
_SYMBOL = r"(?P<symbol>(?:[€£¥₹$]|US\$|Rs\.?|RM|CHF|EUR|USD|GBP)\s?)?"
_TAIL = r"(?![\w/]|[.,]\d)(?P<trail>\s?-(?![\d-])|\))?"
# Thousands groups joined by "." "," "'" or a no-break space; decimals after "." or ",".
_NUMBER = re.compile(
    r"(?<![\w/.,:#-])"
    + _SIGN
    + _SYMBOL
    + r"(?P<number>\d{1,3}(?:(?P<sep>[.,'’\u00a0\u202f])\d{3})(?:(?P=sep)\d{3})*(?:[.,]\d{1,4})?"
    r"|\d+(?:[.,]\d{1,4})?)" + _TAIL,
)
# The same with a plain space between groups ("1 234,56"): only trusted where the document
# writes decimal commas, because "1 278.61" in an English table is a quantity and a price.
_SPACED_NUMBER = re.compile(
    r"(?<![\w/.,:#-])" + _SIGN + _SYMBOL + r"(?P<number>\d{1,3}(?: \d{3})+(?:,\d{1,4})?)" + _TAIL,
)
_TWO_DECIMALS = re.compile(r"(?<![\d.,])\d{1,3}(?:[.,'\u00a0 ]?\d{3})*([.,])\d{2}(?!\d)")
_PERCENT_AFTER = re.compile(r"\s?%")


@dataclass(frozen=True)
class AmountMatch:
    value: Decimal
    start: int
    end: int
    raw: str
    has_decimals: bool
    symbol: str | None


def decimal_separator_of(texts: list[str]) -> str | None:
    """ "," or "." as the document writes decimals, judged from numbers with exactly two
    decimals (how prices are written); None when the document gives no sign."""
    commas = dots = 0
    for text in texts:
        for match in _TWO_DECIMALS.finditer(text):
            if match.group(1) == ",":
                commas += 1
            else:
                dots += 1
    if commas == dots:
        return None
    return "," if commas > dots else "."


def parse_number(raw: str, decimal_separator: str | None = None) -> Decimal | None:
    """The value of a bare number such as "1.234,56" or "1,234" (no sign, no symbol)."""
    digits = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    digits = digits.replace("'", "").replace("’", "")
    if not digits or not digits[0].isdigit():
        return None
    last_dot, last_comma = digits.rfind("."), digits.rfind(",")
    decimal: str | None
    if last_dot >= 0 and last_comma >= 0:
        decimal = "." if last_dot > last_comma else ","
    elif last_dot >= 0 or last_comma >= 0:
        mark = "." if last_dot >= 0 else ","
        decimals = len(digits) - max(last_dot, last_comma) - 1
        if digits.count(mark) > 1:
            # "1.234.567": only thousands; "32.887.77" (OCR read a comma as a dot): a
            # group of two digits cannot be thousands, so the last mark is the decimal one.
            decimal = mark if decimals == 2 else None
        elif decimals != 3:
            decimal = mark
        # "1.234" is ambiguous: follow the document, and without a hint read a lone
        # three-decimal mark as thousands unless the integer part is 0 ("0,052").
        elif decimal_separator is not None:
            decimal = mark if mark == decimal_separator else None
        else:
            decimal = mark if digits.startswith("0") else None
    else:
        decimal = None
    if decimal is None:
        digits = digits.replace(".", "").replace(",", "")
    else:
        thousands = "," if decimal == "." else "."
        whole, _, cents = digits.rpartition(decimal)
        digits = whole.replace(thousands, "").replace(decimal, "") + "." + cents
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


# Bare digit runs with a leading zero or of ten digits and more are codes (tax and phone
# numbers, "Codice fiscale: 09876543210"), never money: money is grouped or short.
_IDENTIFIER_DIGITS = re.compile(r"0\d+|\d{10,}")


def find_amounts(
    text: str, decimal_separator: str | None = None, include_percentages: bool = False
) -> list[AmountMatch]:
    """Every number in `text` that can be an amount, left to right; percentages ("19 %")
    are left out unless asked for."""
    patterns = [_NUMBER] + ([_SPACED_NUMBER] if decimal_separator == "," else [])
    found: list[AmountMatch] = []
    taken: list[tuple[int, int]] = []
    for pattern in reversed(patterns):  # spaced groups first: they are the longer reading
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < b and end > a for a, b in taken):
                continue
            if not include_percentages and _PERCENT_AFTER.match(text, end):
                continue
            if _IDENTIFIER_DIGITS.fullmatch(match.group("number")):
                continue
            value = parse_number(match.group("number"), decimal_separator)
            if value is None:
                continue
            sign = (match.group("sign") or "").strip()
            trail = (match.group("trail") or "").strip()
            if sign in ("-", "−", "–") or trail == "-" or (sign == "(" and trail == ")"):
                value = -value
            number = match.group("number")
            has_decimals = (
                bool(re.search(r"[.,]\d{2}$", number)) or value != value.to_integral_value()
            )
            symbol = (match.group("symbol") or "").strip() or None
            found.append(AmountMatch(value, start, end, match.group(0), has_decimals, symbol))
            taken.append((start, end))
    found.sort(key=lambda amount: amount.start)
    return found


def parse_amount(text: str, decimal_separator: str | None = None) -> Decimal | None:
    """The single amount written in `text` ("€ 1.234,50", "(12.00)"), else None."""
    amounts = find_amounts(text, decimal_separator)
    return amounts[0].value if len(amounts) == 1 else None


def find_percentages(text: str) -> list[Decimal]:
    """Rates written with a percent sign: "19 %", "7,5%", "20.00%"."""
    rates = []
    for match in re.finditer(r"(?<![\d.,])(\d{1,2}(?:[.,]\d{1,3})?)\s?%", text):
        rates.append(Decimal(match.group(1).replace(",", ".")))
    return rates


# "SDN BHD" is the Malaysian company suffix (Sendirian Berhad), not Bahraini dinars.
_CODE = re.compile(r"(?<!SDN )(?<!SDN\. )\b(" + "|".join(sorted(ISO_CURRENCIES)) + r")\b")
_SYMBOL_IN_TEXT = re.compile(
    r"(€|£|¥|₹|₩|US\$|A\$|C\$|R\$|\$|\bRs\.?(?=\s?\d|\s?-)|\bRM(?=\s?\d)|(?<=\()RM(?=\))"
    r"|\bCHF\b|\bFr\.(?=\s?\d)|\bkr\.?(?=\s?\d)|(?<=\d)\s?kr\b|\bzł)"
)


def currency_mentions(text: str) -> list[tuple[str, bool]]:
    """(ISO code, written as a code) for each currency code or symbol in `text`. "kr" is
    given as "kr" for the caller to resolve (SEK, NOK, DKK or ISK)."""
    found = [(match.group(1), True) for match in _CODE.finditer(text)]
    for match in _SYMBOL_IN_TEXT.finditer(text):
        symbol = match.group(1).strip().lower()
        if symbol.startswith("kr"):
            found.append(("kr", False))
        elif symbol in CURRENCY_SYMBOLS:
            found.append((CURRENCY_SYMBOLS[symbol], False))
        elif symbol.rstrip(".") in CURRENCY_SYMBOLS:
            found.append((CURRENCY_SYMBOLS[symbol.rstrip(".")], False))
    return found
