"""Receipt fields that the invoice parser reads the invoice way, read the receipt way.

Till receipts (and photos of them) differ from invoices where it matters: the seller is the
first line of the slip, not a labelled party block; the total is one of several "total"
lines (before and after rounding, next to item counts and tax sums) and is confirmed by
cash tendered minus change; dates are numeric and, outside the US, day first. This module
recognises a receipt and re-reads vendor, date and total for it; invoices pass unchanged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from common import money
from workers.extraction.dates import day_first_votes, find_dates
from workers.extraction.layout import Line, Page, document_lines, fold, phrases
from workers.extraction.numbers import ISO_CURRENCIES, decimal_separator_of, find_amounts

# Words that appear on till slips and seldom on invoices. Two different ones make a
# receipt (one alone, e.g. "cash", also occurs in invoice payment terms).
_RECEIPT_CUES = {
    "receipt": r"receipts?|resit",
    "cash": r"cash|especes?|efectivo|bargeld|contanti",
    "change": r"change|baki|rendu|monnaie|cambio|ruckgeld|wisselgeld",
    "rounding": r"rounding|round\s*adj\w*|rounded",
    "tender": r"tender\w*",
    "cashier": r"cashier|kasir|server|operator|caissiere?|cajero|kassierer\w*|cassiere",
    "thanks": r"thank\s*you|terima\s*kasih|please\s+come\s+again|merci|gracias|danke|grazie",
    "till": r"counter|terminal|pos\s*(?:no|id)|till|table\s*(?:no)?",
    "items": r"qty|quantity|item\s*\(?s\)?|no\.?\s+of\s+items",
    "returns": r"refund\w*|non-?\s?refundable|returnable|exchanged?",
    "savings": r"(?:your\s+)?savings?|member\w*|points?",
    "card": r"paid\s+by|visa|master\s?card|amex|debit\s+card",
}
_WEAK_CUES = frozenset({"items", "thanks"})
_CUE_PATTERNS = {
    name: re.compile(rf"(?<![\w])(?:{pattern})(?![\w])") for name, pattern in _RECEIPT_CUES.items()
}

# Company name endings and shop words that mark the seller's line at the top of a slip.
_TRADE_NAME = re.compile(
    r"(?<![\w])(?:s[dao0]n\s*\.?\s*b[hn]d\.?|bhd\.?|berhad|s/b|plt|enterprise|enterprises"
    r"|trading|ltd\.?|limited|inc\.?|llc|gmbh|co\.|company|corporation|corp\.?|store|stores"
    r"|mart|market|supermarket|restaurant|restoran|cafe|bakery|hardware|pharmacy|shop"
    r"|stationery|kedai|stesen|station|hotel|food|foods|industries|services)(?![\w])"
)
# A line holding nothing but a legal form: the rest of the name is on the line above.
_LEGAL_FORM_ONLY = re.compile(
    r"^\W*(?:s[dao0]n\s*\.?\s*b[hn]d|bhd|berhad|s/b|plt|ltd|limited"
    r"|inc|llc)\W*$"
)
# Lines at the top of a slip that are not the seller's name.
_NOT_A_NAME = re.compile(
    r"(?<![\w])(?:tax\s+invoice|invoice|receipt|cash\s+(?:sale|bill)|welcome|tel|fax|phone"
    r"|gst|reg\w*|co\.?\s*no|roc|no\.|jalan|jln|lot|taman|www|http|email|e-mail|date|time"
    r"|cashier)(?![\w])"
)
# A registration number after the name: "(860671-D)", "(Co. No. 123-X)", or a bare
# "519537-X" whose bracket OCR lost (digits then one check letter).
_REGISTRATION_IN_BRACKETS = re.compile(r"\s*\([^()]*\d[^()]*\)?\s*$")
_REGISTRATION_TOKEN = re.compile(
    r"\s*(?:(?<![A-Za-z0-9])[A-Z]{1,2})?\d{4,}\s?-\s?[A-Z]\)?\s*$", re.IGNORECASE
)
# "Owned by", "operated by", "a member of": the company behind the shop follows.
_OWNER_MARK = re.compile(
    r"(?<![\w])(?:(?:owned|operated|managed|run)\s+by|a\s+(?:member|division|subsidiary)\s+of)"
    r"(?![\w])"
)
# A name that ends in a legal form is complete.
_LEGAL_END = re.compile(
    r"(?:s[dao0]n\s*\.?\s*b[hn]d|bhd|berhad|s/b|plt|ltd|limited|inc|llc|gmbh|corp|co)\W*$"
)
# Address words: a line with one is the address under the name, not more of the name.
_ADDRESS_WORD = re.compile(
    r"(?<![\w])(?:jalan|jln|lorong|lot|taman|no|road|rd|street|st|avenue|ave|floor|level|blok"
    r"|block|bandar|persiaran|kawasan|plaza|mall|tingkat|batu|kampung|kg|off|centre|center"
    r"|strasse|rue|via|calle)(?![\w])"
)
_SLASH_B = re.compile(r"(?<![\w])S\s?[/7l1|I]\s?B(?![\w])")
# A word of letters with one 1 or 0 among them ("1DEA", "H0TEL"; three letters at least).
_LOOKALIKE_WORD = re.compile(r"(?<![\w])[A-Za-z]*[10][A-Za-z]*(?![\w])")
_LETTER_FOR_DIGIT = str.maketrans("10", "IO")

# "Total" as OCR reads it off faint till print: "Totai", "Tota |", "T0TAL", "TOTL".
_TOTAL = r"t[o0]t(?:[a4][l1i|]?|[l1|])"
# Total labels, strongest first. The grand total after rounding is what the customer paid.
_TOTAL_LABELS: tuple[tuple[float, re.Pattern[str]], ...] = (
    (
        3.0,
        re.compile(
            rf"(?:rounded|nett?|grand|final)\s*{_TOTAL}|{_TOTAL}\s*(?:after\s+)?round\w*"
            rf"|{_TOTAL}\s*(?:amount\s*)?(?:payable|due|to\s+pay)|amount\s*(?:payable|due)"
            r"|jumlah\s*(?:besar|bersih)"
        ),
    ),
    (
        2.0,
        re.compile(
            rf"{_TOTAL}\s*(?:amount|sales?)?\s*(?:\(?\s*(?:incl\w*|inc\.?|with)\s*"
            rf"(?:of\s*)?(?:gst|tax|sst|vat)?\s*\)?)|{_TOTAL}\s*\(?\s*rm\s*\)?"
            rf"|{_TOTAL}\s+amount|amount\s*\(?rm\)?"
            # "Amt paid incl. GST": the bill with its tax, whatever was tendered.
            r"|(?:amt|amount)\s*paid\s*\(?\s*incl\w*"
        ),
    ),
    (1.0, re.compile(rf"(?<![\w])(?:{_TOTAL}|jumlah)(?![\w])")),
)
# "Total" lines that are not the amount paid.
_NOT_THE_TOTAL = re.compile(
    rf"sub\s*-?\s*{_TOTAL}|{_TOTAL}\s*(?:qty|quantity|items?|pcs|units?|no\.?\s*of|saving\w*"
    rf"|discount\w*|\(?\s*exc\w*|before|tax\b|gst\b|sst\b|vat\b|weight)"
    rf"|(?:gst|sst|tax|vat)\s*{_TOTAL}|exc\w*\s*(?:of\s*)?(?:gst|tax|sst)"
    rf"|{_TOTAL}\s*sales?\s*\(?\s*exc"
)
# A "rounding" line often carries the rounded total itself rather than the adjustment;
# such an amount counts only when cash minus change confirms it.
_ROUNDING = re.compile(r"(?<![\w])round\w*")
_CASH = re.compile(
    r"(?<![\w])(?:cash|tendered|tender|paid|payment|card|visa|master\w*|especes?|efectivo"
    r"|bargeld|contanti)(?![\w])"
)
_CHANGE = re.compile(r"(?<![\w])(?:change|baki|rendu|monnaie|cambio|ruckgeld|wisselgeld)(?![\w])")
_DATE_LABEL = re.compile(r"(?<![\w])(?:date|tarikh|dated)(?![\w])")
# OCR reads a slip's "85.20" as "85 . 20" or "85 , 20" (wide dot-matrix spacing), and as
# "85 20" when the dot is too faint; on a total line both are the amount.
_SPACED_DECIMAL = re.compile(r"(?<![\d.,-])(\d{1,6})\s*[.,_]\s*(\d{2})(?![\d.,-])")
# ... or with a dash for the dot ("14-10"), or with spaces inside the number ("4 0 00").
_DASHED_DECIMAL = re.compile(r"(?<![\d.,-])(\d{1,6})-(\d{2})(?![\d.,-])")
_LOST_DECIMAL = re.compile(r"(?<![\d.,])(\d(?: ?\d){0,5}) (\d{2})\s*$")
# A ringgit or rupee sign glued to the number, as OCR misreads it ("RM14.10", "RK40").
_GLUED_PREFIX = re.compile(r"(?<![\w])(R[MKHNA]|Rs)(?=\d)", re.IGNORECASE)
# A tax summary table closes many slips; its "Total" row sums tax bases, not the bill.
_TAX_SUMMARY = re.compile(r"(?:gst|tax|sst|vat)\s*(?:summary|analysis|breakdown)|summary")
# "SDN BHD" / "BHD" (Berhad) is a Malaysian company ending, not Bahraini dinars.
_BERHAD = re.compile(r"(?<![\w])(?:s[dao0]n\s*\.?\s*b[hn]d|bhd\.?(?=\s*(?:\(|$))|berhad)")
_MALAYSIAN = re.compile(r"(?<![\w])(?:rm\s?\d|ringgit|malaysia|s[dao0]n\s*\.?\s*b[hn]d)")
# OCR reads a zero as the letter O and a one as l or I inside numbers.
_DIGIT_LOOKALIKE = re.compile(
    r"(?<=\d)[oOlI](?=\d)|(?<=\d[.,])[oOQ](?=\d)|(?<=\d)[oO](?=[.,]\d)"
    r"|(?<![\w.,])[oO](?=[.,]\d\d)|(?<=\d)[oO](?= \d\d(?!\d))"
    # right after the ringgit sign: "RMI11.90", "RMO.00"
    r"|(?<=RM)[oOQlI|](?=\d|[.,]\d\d)"
)
# A date written without separators, year first: "20180428" (some tills print it so).
_COMPACT_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")
# Dates printed with doubled dashes or underscores by some tills ("01-Nov--2017_11:20").
_DATE_NOISE = re.compile(r"(?<=\w)-{2,}(?=\w)|_")


@dataclass
class _Found:
    value: Any
    score: float
    line: Line


# What a receipt is re-read for, over what the invoice parser chose.
RECEIPT_FIELDS = ("vendor_name", "invoice_date", "total_amount")


def refine_receipt_fields(fields: dict[str, Any], pages: list[Page]) -> dict[str, Any]:
    """`fields` with vendor, date and total re-read the receipt way when the pages are a
    receipt, and with a Malaysian company's "BHD" (Berhad) no longer taken for Bahraini
    dinars whatever the document; otherwise `fields` unchanged."""
    lines = document_lines(pages)
    folded = [fold(line.text) for line in lines]
    fields = correct_berhad_currency(fields, folded)
    if not _is_receipt(fields, folded, pages):
        return fields
    refined = dict(fields)
    refined["document_type"] = "receipt"
    confidence = dict(fields.get("field_confidence") or {})
    texts = [_clean_digits(line.text) for line in lines]
    currency = fields.get("currency")

    vendor = read_receipt_vendor(lines, folded)
    if vendor is not None:
        refined["vendor_name"] = vendor.value
        confidence["vendor_name"] = round(vendor.score * vendor.line.confidence, 3)

    day_first = _receipt_day_first(texts, currency)
    date = read_receipt_date(lines, texts, folded, day_first)
    if date is not None:
        refined["invoice_date"] = date.value
        confidence["invoice_date"] = round(date.score * date.line.confidence, 3)

    total = read_receipt_total(lines, texts, folded)
    if total is not None:
        minor = money.to_minor_units(total.value, currency)
        if minor != refined.get("total_amount"):
            refined["total_amount"] = minor
            refined["warnings"] = [
                w
                for w in fields.get("warnings") or []
                if w.get("code") not in ("total_not_found", "totals_mismatch")
            ]
            # The parser's subtotal and tax were chosen to fit its own total.
            subtotal, tax = refined.get("subtotal_amount"), refined.get("tax_amount")
            if subtotal is not None and tax is not None and subtotal + tax != minor:
                refined["subtotal_amount"] = None
                refined["tax_amount"] = None
                refined["tax_breakdown"] = []
                refined["tax_rate"] = None
                for field in ("subtotal_amount", "tax_amount", "tax_rate"):
                    confidence.pop(field, None)
        confidence["total_amount"] = round(total.score * total.line.confidence, 3)
    refined["field_confidence"] = confidence
    return refined


def correct_berhad_currency(fields: dict[str, Any], folded: list[str]) -> dict[str, Any]:
    """The parser reads "SDN BHD" as an amount in Bahraini dinars (BHD, three decimals):
    the currency is then ringgit where the page shows it, else unknown, and the amounts
    are scaled back to two decimals."""
    text = "\n".join(folded)
    if fields.get("currency") != "BHD" or not _BERHAD.search(text):
        return fields
    currency = "MYR" if _MALAYSIAN.search(text) else None

    def rescale(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return money.to_minor_units(money.from_minor_units(value, "BHD"), currency)
        return value

    corrected = dict(fields)
    corrected["currency"] = currency
    for field in ("subtotal_amount", "tax_amount", "total_amount", "amount_due", "discount_amount"):
        corrected[field] = rescale(fields.get(field))
    corrected["line_items"] = [
        {
            key: rescale(value) if key in ("unit_price", "total_price", "tax_amount") else value
            for key, value in item.items()
        }
        for item in fields.get("line_items") or []
    ]
    corrected["tax_breakdown"] = [
        {
            key: rescale(value) if key in ("taxable_amount", "tax_amount") else value
            for key, value in row.items()
        }
        for row in fields.get("tax_breakdown") or []
    ]
    return corrected


def _is_receipt(fields: dict[str, Any], folded: list[str], pages: list[Page]) -> bool:
    if fields.get("document_type") == "receipt":
        return True
    if fields.get("document_type") in ("credit_note", "quote"):
        return False
    text = "\n".join(folded)
    found = {name for name, pattern in _CUE_PATTERNS.items() if pattern.search(text)}
    # A slip is long and narrow; an invoice page is A4 or Letter (about 0.7).
    if pages and pages[0].height and pages[0].width / pages[0].height < 0.55:
        found.add("shape")
    # "Qty" and "thank you" are on many invoices too: they count half.
    return len(found - _WEAK_CUES) + 0.5 * len(found & _WEAK_CUES) >= 2


def _clean_digits(text: str) -> str:
    text = _DIGIT_LOOKALIKE.sub(lambda m: "0" if m.group(0) in "oOQ" else "1", text)
    return _DATE_NOISE.sub(lambda m: " " if m.group(0) == "_" else "-", text)


# --- vendor ----------------------------------------------------------------------------------


def read_receipt_vendor(lines: list[Line], folded: list[str], top: int = 12) -> _Found | None:
    """The seller: the top line that carries a company ending or shop word (joined with the
    line above when it is only "SDN BHD", and with the line below when the name runs on
    there), else the first name-like top line. Lines from "Owned by" on name the company
    behind the shop, not the shop."""
    first_page = [
        (line, text) for line, text in zip(lines, folded, strict=True) if line.page == lines[0].page
    ][:top]
    owner_from = next(
        (position for position, (_, text) in enumerate(first_page) if _OWNER_MARK.search(text)),
        None,
    )
    if owner_from is not None:
        first_page = first_page[:owner_from]
    for position, (line, text) in enumerate(first_page):
        name = _strip_registration(line.text)
        if not _TRADE_NAME.search(text) or not _name_like(name):
            continue
        if _LEGAL_FORM_ONLY.match(fold(name)) and position > 0:
            above, above_folded = first_page[position - 1]
            if _name_like(above.text) and not _NOT_A_NAME.search(above_folded):
                name = f"{_strip_registration(above.text)} {name}"
        elif position + 1 < len(first_page):
            below = _strip_registration(first_page[position + 1][0].text)
            if _LEGAL_FORM_ONLY.match(fold(below)):
                name = f"{name} {below}"
            else:
                name = _with_run_on(name, line, first_page[position + 1][0])
        if len(_letters(name)) >= 3:
            return _Found(_tidy_name(name), 0.8, line)
    for position, (line, text) in enumerate(first_page[:5]):
        name = _strip_registration(line.text)
        if _name_like(name) and not _NOT_A_NAME.search(text) and len(_letters(name)) >= 3:
            if position + 1 < len(first_page):
                name = _with_run_on(name, line, first_page[position + 1][0])
            return _Found(_tidy_name(name), 0.55, line)
    return None


def _with_run_on(name: str, line: Line, below: Line) -> str:
    """`name` with the next line added when the name runs on there ("TSH POWER HARDWARE" /
    "TRADING"): a line as large, close below, of letters only, that is no address, label
    or registration; a name that already ends in a legal form is complete."""
    text = below.text.strip()
    if (
        _LEGAL_END.search(fold(name))
        or any(ch.isdigit() for ch in text)
        or not _name_like(text)
        or _NOT_A_NAME.search(fold(text))
        or _ADDRESS_WORD.search(fold(text))
        or below.height < 0.8 * line.height
        or below.y0 - line.y1 > 0.8 * line.height
    ):
        return name
    return f"{name} {text}"


def _strip_registration(text: str) -> str:
    """The name without the registration number printed after it: "(860671-D)",
    "(Co. No. 123-X)", "519537-X" (its bracket lost)."""
    stripped = text.strip(" ,;:.-")
    stripped = _REGISTRATION_IN_BRACKETS.sub("", stripped)
    stripped = _REGISTRATION_TOKEN.sub("", stripped).strip(" ,;:-")
    return stripped or text.strip()


def _tidy_name(name: str) -> str:
    """OCR's usual slips in a name undone: "S7B" is "S/B" (Sendirian Berhad), a 1 or 0 among
    letters is an I or O ("URBAN 1DEA")."""
    name = _SLASH_B.sub("S/B", name)

    def letters_for_digits(match: re.Match[str]) -> str:
        word = match.group(0)
        return word.translate(_LETTER_FOR_DIGIT) if len(_letters(word)) >= 3 else word

    return _LOOKALIKE_WORD.sub(letters_for_digits, name)


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalpha())


def _name_like(text: str) -> bool:
    letters = len(_letters(text))
    digits = sum(ch.isdigit() for ch in text)
    return letters >= 3 and digits <= max(2, letters // 2) and "@" not in text


# --- date ------------------------------------------------------------------------------------


def _receipt_day_first(texts: list[str], currency: str | None) -> bool:
    """A date that only reads one way settles it; otherwise day first, except for dollars
    (US slips write month first)."""
    votes = day_first_votes(texts)
    if votes:
        return votes > 0
    return currency != "USD"


def read_receipt_date(
    lines: list[Line], texts: list[str], folded: list[str], day_first: bool
) -> _Found | None:
    """The date next to a "Date" label, else the first date on the slip; a label followed
    only by a compact date ("Date/Time 20180428/191204") gives that date."""
    first: _Found | None = None
    compact: _Found | None = None
    for line, text, folded_text in zip(lines, texts, folded, strict=True):
        matches = find_dates(text)
        for match in matches:
            value = match.value(day_first)
            if value is None:
                continue
            if _DATE_LABEL.search(folded_text[: match.start + 1]):
                return _Found(value.isoformat(), 0.9, line)
            if first is None:
                first = _Found(value.isoformat(), 0.7, line)
        label = _DATE_LABEL.search(folded_text)
        if label and not matches and compact is None:
            found = _COMPACT_DATE.search(text, label.end())
            if found:
                year, month, day = (int(part) for part in found.groups())
                with contextlib.suppress(ValueError):
                    compact = _Found(dt.date(year, month, day).isoformat(), 0.6, line)
    return first or compact


# --- total -----------------------------------------------------------------------------------


def read_receipt_total(lines: list[Line], texts: list[str], folded: list[str]) -> _Found | None:
    """The amount paid: the strongest total label's amount (the last such line when several
    are equally strong), preferring the one that equals cash tendered minus change."""
    separator = decimal_separator_of(texts) or "."
    candidates: list[_Found] = []
    cash: list[Decimal] = []
    change: list[Decimal] = []
    summary_from = next(
        (position for position, text in enumerate(folded) if _TAX_SUMMARY.search(text)), len(lines)
    )
    rounded_from = len(lines)
    entries: list[tuple[int, Line, str, Decimal | None]] = []
    for position, (line, folded_text) in enumerate(zip(lines, folded, strict=True)):
        segments = _label_segments(line, separator)
        if segments:
            entries.extend((position, line, fold(text), amount) for text, amount in segments)
        else:
            amount = _amount_on_or_below(position, lines, texts, separator)
            entries.append((position, line, folded_text, amount))
    for position, line, folded_text, amount in entries:
        if amount is None:
            continue
        if _CHANGE.search(folded_text):
            change.append(amount)
            continue
        if _CASH.search(folded_text) and not _label_strength(folded_text):
            cash.append(amount)
            continue
        strength = _label_strength(folded_text)
        if position > summary_from and strength < 3.0:
            strength = 0.0
        if not strength and _ROUNDING.search(folded_text):
            strength = 0.5
            rounded_from = min(rounded_from, position)
        elif strength == 1.0 and position > rounded_from:
            strength = 2.5  # a bare "Total" after the rounding line is the rounded total
        if strength and amount > 0:
            # Later lines win ties: totals close the slip, rounding comes after tax.
            candidates.append(_Found(amount, strength + 0.001 * position, line))
    paid = {c - ch for c in cash for ch in change if c - ch > 0}
    candidates = [c for c in candidates if c.score >= 1.0 or c.value in paid]
    if not candidates:
        # The total's own figure is unreadable but the slip shows what was paid.
        labelled = [line for line, text in zip(lines, folded, strict=True) if _label_strength(text)]
        if labelled and len(paid) == 1:
            return _Found(paid.pop(), 0.6, labelled[-1])
        return None
    best = max(candidates, key=lambda c: (c.value in paid, c.score >= 1.0, c.score))
    confirmed = best.value in paid
    score = 0.95 if confirmed else min(0.9, 0.5 + 0.13 * int(best.score))
    return _Found(best.value, score, best.line)


def _label_segments(line: Line, separator: str) -> list[tuple[str, Decimal]]:
    """A line that holds two labels with their amounts ("Total saving: 0.00   Total 6.85")
    cut into (label and amount text, amount) pieces; [] for a line with one label or none.
    A piece starts at each phrase with a word of three letters or more that is not a
    currency code."""
    pieces: list[list[str]] = []
    for phrase in phrases(line):
        words = re.findall(r"[^\W\d_]{3,}", phrase.text)
        if not pieces or any(word.upper() not in ISO_CURRENCIES for word in words):
            pieces.append([])
        pieces[-1].append(phrase.text)
    if len(pieces) < 2:
        return []
    found = []
    for piece in pieces:
        text = _clean_digits(" ".join(piece))
        text = _SPACED_DECIMAL.sub(r"\1.\2", _GLUED_PREFIX.sub(r"\1 ", text))
        amounts = [a for a in find_amounts(text, separator) if a.has_decimals]
        if not amounts:
            return []
        found.append((text, abs(amounts[-1].value)))
    return found


def _label_strength(folded_text: str) -> float:
    if _NOT_THE_TOTAL.search(folded_text) and not _TOTAL_LABELS[0][1].search(folded_text):
        return 0.0
    for strength, pattern in _TOTAL_LABELS:
        if pattern.search(folded_text):
            return strength
    return 0.0


def _amount_on_or_below(
    position: int, lines: list[Line], texts: list[str], separator: str
) -> Decimal | None:
    """The last amount with decimals on the line; a label alone on its line takes the
    amount of the next line when it is close below (OCR splits wide slips)."""
    text = _SPACED_DECIMAL.sub(r"\1.\2", _GLUED_PREFIX.sub(r"\1 ", texts[position]))
    text = _DASHED_DECIMAL.sub(r"\1.\2", text)
    amounts = [a for a in find_amounts(text, separator) if a.has_decimals]
    if not amounts and _label_strength(fold(text)):
        lost = _LOST_DECIMAL.sub(lambda m: f"{m.group(1).replace(' ', '')}.{m.group(2)}", text)
        amounts = [a for a in find_amounts(lost, ".") if a.has_decimals]
    if amounts:
        return abs(amounts[-1].value)
    line = lines[position]
    if position + 1 < len(lines):
        below = lines[position + 1]
        if (
            below.page == line.page
            and below.y0 - line.y1 <= 0.8 * line.height
            and not any(ch.isalpha() for ch in texts[position + 1].replace("RM", ""))
        ):
            amounts = [
                a
                for a in find_amounts(_SPACED_DECIMAL.sub(r"\1.\2", texts[position + 1]), separator)
                if a.has_decimals
            ]
            if amounts:
                return abs(amounts[-1].value)
    return None
