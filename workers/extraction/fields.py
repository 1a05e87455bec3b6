"""Invoice fields from positioned words, for text-layer PDFs and OCR output alike.

A value is found the way a reader finds it: a label ("Rechnungsnummer", "Total TTC"), then
the value right of it on the same line or under it. Every label hit becomes a candidate;
amounts are then chosen together so that subtotal + tax = total where the page allows it.

`field_confidence` is built from how strongly the label named the field, where the value
was found, and whether a cross-check (sums, a second mention) confirmed it.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import product, takewhile
from typing import Any

from common import money
from workers.extraction import ranker
from workers.extraction.addresses import address_from, is_postcode_line
from workers.extraction.checks import is_valid_iban
from workers.extraction.dates import find_dates, infer_day_first
from workers.extraction.invoice_fields import empty_fields, warning
from workers.extraction.labels import (
    ACCOUNT_HOLDER,
    CUSTOMER_HEADINGS,
    CUSTOMER_MARKERS,
    DOCUMENT_TITLES,
    LEGAL_FORM,
    NAME_PREFIX,
    OTHER_PARTY_HEADINGS,
    PART_SEPARATOR,
    TAX_ID_LABEL,
    VENDOR_HEADINGS,
    Label,
    label_text,
    labels_that_may_match,
    sender_line_name,
)
from workers.extraction.layout import Line, Page, document_lines, fold, overlap_x, phrases
from workers.extraction.line_items import line_items_from_rows, read_tables
from workers.extraction.numbers import (
    ISO_CURRENCIES,
    currency_mentions,
    decimal_separator_of,
    find_amounts,
)
from workers.extraction.ocr_words import join_split_words

AMOUNT_FIELDS = ("subtotal_amount", "tax_amount", "total_amount", "amount_due", "discount_amount")
# Phrases that contain an amount label but name something else; matching them first keeps
# "Gesamtbetrag der Zuschläge" from being read as the total.
_DECOYS = re.compile(
    r"gesamtbetrag\s+der\s+(?:zu|ab)schlage|positionssumme|erhaltene\s+anzahlung\w*"
    r"|total\s+(?:qty|quantity|items|weight|pages?)|tax\s*\(%\)|tax\s*%|(?:vat|tva|mwst|ust)\.?-?\s*%"
    # Tax identifiers are not tax amounts: "USt-IdNr", "VAT Reg. No", "MwSt-Nr", "Tax ID".
    r"|ust\.?-?\s?id\.?\w*(?:\.?-?\s?nr\.?)?|umsatzsteuer-?\s?id\w*|mwst\.?-?\s?(?:nr|nummer)\b"
    r"|(?:vat|gst|tax)\s*(?:reg\w*\.?\s*)?(?:no\b|nr\b|number|id\b|identifier)|tva\s+intracom\w*"
    r"|n[°º]?\s*(?:de\s+)?tva"
    # A period of service is not the invoice date: "Date de début de prestation", "Start date".
    r"|date\s+(?:de\s+)?(?:debut|fin)\w*|(?:start|end)\s+date|date\s+(?:de\s+)?(?:la\s+)?prestation"
    r"|montant\s+ht(?=\s*$)|date\s+of\s+(?:delivery|order|service)"
    # The date of an earlier invoice this one refers to (a correction, a credit note).
    r"|date\s+de\s+(?:la\s+)?facture\s+(?:associee|d'?origine|initiale)"
    r"|(?:original|related|associated|previous)\s+invoice\s+date"
    r"|(?:ursprungliche[sn]?\s+)?rechnungsdatum\s+der\s+(?:ursprungs|original)\w*|(?:delivery|order|ship\w*)"
    r"\s+date|liefer\w*datum|leistungs\w*datum|bestell\w*datum|date\s+de\s+livraison"
    r"|fecha\s+de\s+entrega|data\s+(?:di\s+)?consegna|leverdatum|prices?\s+(?:are\s+)?incl\w*|prijzen\s+zijn|preise\s+\w*\s*inkl\w*"
)
_LANGUAGE_WORDS = {
    "en": {"invoice", "total", "date", "the", "and", "of", "to", "due", "amount", "tax"},
    "de": {"rechnung", "und", "der", "die", "das", "datum", "betrag", "mwst", "ust", "summe"},
    "fr": {"facture", "le", "la", "les", "des", "du", "et", "montant", "tva", "total"},
    "es": {"factura", "el", "la", "los", "de", "del", "y", "importe", "iva", "fecha"},
    "it": {"fattura", "il", "di", "della", "del", "e", "importo", "iva", "data", "totale"},
    "nl": {"factuur", "de", "het", "van", "en", "een", "bedrag", "btw", "totaal", "datum"},
    "pt": {"fatura", "o", "da", "do", "de", "e", "valor", "iva", "data", "total"},
}
_EURO_LANGUAGES = frozenset({"de", "fr", "es", "it", "nl", "pt"})
_VAT_ID = re.compile(
    r"(?<![\w])(ATU\d{8}|BE[01]?\d{9}|BG\d{9,10}|CHE-?\d{3}\.?\d{3}\.?\d{3}|CY\d{8}[A-Z]"
    r"|CZ\d{8,10}|DE\s?\d{9}|DK\d{8}|EE\d{9}|EL\d{9}|ES[A-Z0-9]\d{7}[A-Z0-9]|FI\d{8}"
    r"|FR[A-Z0-9]{2}\s?\d{9}|GB\d{9}(?:\d{3})?|HR\d{11}|HU\d{8}|IE\d{7}[A-Z]{1,2}|IT\d{11}"
    r"|LT\d{9,12}|LU\d{8}|LV\d{11}|MT\d{8}|NL\d{9}B\d{2}|PL\d{10}|PT\d{9}|RO\d{2,10}"
    r"|SE\d{12}|SI\d{8}|SK\d{10}|NO\d{9}(?:MVA)?"
    # India's GSTIN: state code, the holder's PAN, entity number, "Z", check character.
    r"|\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z])(?![\w])"
)
_LOCAL_TAX_NUMBER = re.compile(r"(?<![\w])(\d{2,3}/\d{3}/\d{4,5}|\d{3,}[\d/ -]{5,}\d)(?![\w])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_LABEL = re.compile(
    r"(?<![\w])(?:tel\.?|telefon|phone|tél\.?|fon|telefono|telefoon"
    r"|ph\.?|mobile|mobil)\s*[:.]?\s*",
    re.IGNORECASE,
)
_PHONE = re.compile(r"\+?\(?\d[\d ()/.-]{6,18}\d")
_IBAN = re.compile(r"(?<![\w])([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)(?![\w])")
_PAYMENT_TERMS_LABEL = (
    r"(?<![\w])(?:payment\s+terms|terms\s+of\s+payment|terms|zahlungsbedingung\w*"
    r"|zahlungskondition\w*|conditions\s+de\s+(?:paiement|reglement)"
    r"|modalites\s+de\s+(?:paiement|reglement)|condiciones\s+de\s+pago|plazo\s+de\s+pago"
    r"|termini\s+di\s+pagamento|condizioni\s+di\s+pagamento|betalingstermijn"
    r"|betalingsvoorwaarden|betalingscondities|condicoes\s+de\s+pagamento"
    r"|prazo\s+de\s+pagamento)"
)
_PAYMENT_TERMS = re.compile(_PAYMENT_TERMS_LABEL + r"\s*:\s*")
_PAYMENT_TERMS_HEADING = re.compile("^" + _PAYMENT_TERMS_LABEL + r"\s*:?\s*$")
# Terms written as a sentence: "Payable within 30 days", "Zahlbar innerhalb von 14 Tagen
# netto", "Paiement à 30 jours", "Net 30", "Zahlbar sofort ohne Abzug".
_DAYS = r"\d{1,3}\s*(?:days?|tage[n]?|jours?|dias?|giorni|dagen)"
_PAYMENT_TERMS_SENTENCE = re.compile(
    r"(?<![\w])(?:(?:payable|payment\s+(?:is\s+)?due|due|to\s+be\s+paid|zahlbar|zahlung"
    r"|payable|paiement|reglement|a\s+regler|pago|pagadero|pagamento|pagabile"
    r"|betaling|te\s+betalen|pagavel)\s+(?:\w+\s+){0,4}?"
    r"(?:within|in|innerhalb|binnen|a|à|sous|en|entro|dentro\s+de|em|no\s+prazo\s+de)"
    r"\s+(?:\w+\s+){0,2}?"
    + _DAYS
    + r"|net\s+\d{1,3}(?:\s+days)?\b|"
    + _DAYS
    + r"\s+(?:net|netto|strictly\s+net)\b"
    r"|(?:zahlbar\s+)?sofort\s+(?:ohne\s+abzug|netto|nach\s+erhalt)"
    r"|(?:due|payable)\s+(?:up)?on\s+receipt|(?:payable|paiement)\s+a\s+(?:la\s+)?reception"
    r"|(?:pago|pagamento)\s+a\s+(?:la\s+)?(?:recepcion|ricevimento|vista))"
)
# Payment references: ISO 11649 creditor references ("RF18 5390 0754 7034") and Belgian
# structured communications ("+++123/4567/89012+++"), both checked by their check digits.
_RF_REFERENCE = re.compile(r"(?<![\w])(RF\d{2}(?:\s?[A-Z0-9]{1,4}){1,6})(?![\w])")
_STRUCTURED_COMMUNICATION = re.compile(
    r"(?:\+{3}|\*{3})\s?(\d{3})\s?/\s?(\d{4})\s?/\s?(\d{5})\s?(?:\+{3}|\*{3})"
)
_PAYMENT_REFERENCE_LABEL = re.compile(
    r"(?<![\w])(?:payment\s+reference|remittance\s+(?:reference|information)"
    r"|reference\s+(?:for\s+)?payment|verwendungszweck|zahlungsreferenz"
    r"|referen(?:ce|cia|cia|za)\s+(?:de\s+|di\s+|del\s+)?(?:paiement|pago|pagamento|virement)"
    r"|communication(?:\s+structuree)?|causale|betalingskenmerk|betalingsreferentie"
    r"|mededeling|referencia|reference|ref\.?)\s*[:.]\s*"
)
# A series code printed before the number: two to four capitals ("FT", "FA", "INV").
_SERIES_PREFIX = re.compile(r"[A-Z]{2,4}")
_INVOICE_NUMBER_TOKEN = re.compile(r"[#]?\s?([A-Za-z0-9][\w/.\-]*\d[\w/.\-]*|\d[\w/.\-]*)")


@dataclass
class LabelHit:
    label: Label
    line: Line
    phrase: Line
    start: int  # offsets in phrase.text
    end: int
    at_phrase_start: bool

    @property
    def x0(self) -> float:
        return self.phrase.words_in_span(self.start, self.end)[0].x0

    @property
    def x1(self) -> float:
        return self.phrase.words_in_span(self.start, self.end)[-1].x1


@dataclass
class Candidate:
    value: Any
    score: float
    line: Line


class Document:
    """The words of all pages read once: lines, phrases, label hits and document-wide
    conventions (decimal separator, date order, language, currency)."""

    def __init__(self, pages: list[Page]) -> None:
        pages = [join_split_words(page) for page in pages]
        self.pages = pages
        self.lines = document_lines(pages)
        self.texts = [line.text for line in self.lines]
        self.folded = [fold(text) for text in self.texts]
        self.phrases_by_line = [phrases(line) for line in self.lines]
        self.decimal_separator = decimal_separator_of(self.texts)
        self.language = detect_language(self.folded)
        self.hits = self._label_hits()

    @functools.cached_property
    def blocks(self) -> list[PartyBlock]:
        """The party blocks under their headings (`party_blocks`)."""
        return party_blocks(self)

    @functools.cached_property
    def facing(self) -> tuple[Line, Line] | None:
        """The two name lines of unheaded blocks side by side (`facing_blocks`)."""
        return facing_blocks(self, self.blocks)

    def _label_hits(self) -> list[LabelHit]:
        hits: list[LabelHit] = []
        for line, line_phrases in zip(self.lines, self.phrases_by_line, strict=True):
            for phrase in line_phrases:
                folded = label_text(fold(phrase.text))
                found: list[tuple[int, int, Label]] = []
                for label in labels_that_may_match(folded):
                    for match in label.pattern.finditer(folded):
                        found.append((match.start(), match.end(), label))
                if not found:
                    continue
                decoys = [match.span() for match in _DECOYS.finditer(folded)]
                # Longest label first, then the stronger one: "Total HT" is a subtotal even
                # though "Total" alone would be a total.
                found.sort(key=lambda f: (-(f[1] - f[0]), -f[2].strength))
                taken: list[tuple[int, int]] = list(decoys)
                for start, end, label in found:
                    if any(start < b and end > a for a, b in taken):
                        continue
                    taken.append((start, end))
                    prefix = folded[:start].strip(" :.#-*")
                    hits.append(LabelHit(label, line, phrase, start, end, not prefix))
        return hits

    def hits_for(self, field: str) -> list[LabelHit]:
        return [hit for hit in self.hits if hit.label.field == field]

    def phrases_right_of(self, hit: LabelHit) -> list[Line]:
        line_phrases = self.phrases_by_line[hit.line.index]
        return [phrase for phrase in line_phrases if phrase.x0 > hit.phrase.x1 - 0.5]

    def phrase_below(self, hit: LabelHit, max_gap: float = 2.6) -> Line | None:
        """The phrase under the label (a value under its label, a cell under its column
        header), nearest first."""
        x0, x1 = hit.x0, hit.x1
        line = hit.line
        limit = line.y1 + max_gap * line.height
        cell_end = self._header_cell_end(hit)
        for index in range(line.index + 1, min(len(self.lines), line.index + 8)):
            below = self.lines[index]
            if below.page != line.page or below.y0 > limit:
                return None
            for phrase in self.phrases_by_line[index]:
                if overlap_x(phrase.x0, phrase.x1, x0 - 3, x1 + 3) > 0:
                    return phrase
            if cell_end is not None:
                # A right-aligned cell under a header row stands right of its header.
                for phrase in self.phrases_by_line[index]:
                    if phrase.x0 >= x0 - 3 and phrase.x1 <= cell_end:
                        return phrase
        return None

    def _header_cell_end(self, hit: LabelHit) -> float | None:
        """Where the column of a label in a header row (three phrases or more) ends: at the
        next header, else the page's edge; None for a label that is not in such a row."""
        line_phrases = self.phrases_by_line[hit.line.index]
        if len(line_phrases) < 3 or hit.phrase.x1 > hit.x1 + 3:
            return None
        following = [phrase.x0 for phrase in line_phrases if phrase.x0 >= hit.phrase.x1]
        if following:
            return min(following)
        page = self.pages[hit.line.page] if hit.line.page < len(self.pages) else self.pages[-1]
        return page.width

    def phrases_below(self, hit: LabelHit, max_rows: int = 12) -> list[Line]:
        """The column under a label: the phrase below it, then the one below that, ..."""
        column: list[Line] = []
        probe = hit
        for _ in range(max_rows):
            below = self.phrase_below(probe)
            if below is None:
                break
            column.append(below)
            probe = LabelHit(hit.label, self.lines[below.index], below, 0, len(below.text), True)
        return column

    def starts_with_label(self, phrase: Line) -> bool:
        return any(
            hit.phrase.words[0] is phrase.words[0] and hit.at_phrase_start
            for hit in self.hits
            if hit.line.index == phrase.index
        )


def detect_language(folded_lines: list[str]) -> str | None:
    counts: Counter[str] = Counter()
    for text in folded_lines:
        for token in re.findall(r"[a-z]+", text):
            for language, words in _LANGUAGE_WORDS.items():
                if token in words:
                    counts[language] += 1
    if not counts:
        return None
    return counts.most_common(1)[0][0]


# --- values next to labels ----------------------------------------------------------------


def _value_texts(
    doc: Document, hit: LabelHit, look_below: bool = True
) -> list[tuple[str, Line, float]]:
    """Where the value of a label can be, most likely first: (text, line, trust)."""
    places = []
    rest = hit.phrase.text[hit.end :]
    if rest.strip(" :.#-"):
        places.append((rest, hit.line, 1.0))
    for phrase in doc.phrases_right_of(hit):
        if doc.starts_with_label(phrase):
            break
        places.append((phrase.text, hit.line, 0.95))
        break
    if look_below:
        below = doc.phrase_below(hit)
        if below is not None and not doc.starts_with_label(below):
            places.append((below.text, doc.lines[below.index], 0.85))
    return places


def _invoice_number_from(text: str, keep_hash: bool) -> str | None:
    text = text.strip()
    text = re.sub(r"^[:.\-–\s]+", "", text)
    hashed = text.startswith("#")
    text = text.lstrip("#").strip()
    if not text:
        return None
    parts = text.split()
    token = parts[0].rstrip(".,;:")
    if _SERIES_PREFIX.fullmatch(token) and token not in ISO_CURRENCIES and len(parts) > 1:
        # "FT 2022/322", "FA 0042": a document series before the number belongs to it
        number = parts[1].rstrip(".,;:")
        if _INVOICE_NUMBER_TOKEN.fullmatch(number) and not find_dates(number):
            return f"{token} {number}"
    if not _INVOICE_NUMBER_TOKEN.fullmatch(token) or find_dates(token):
        return None
    if len(token) < 3 and not token.isdigit():
        return None
    return ("#" + token) if hashed and keep_hash else token


def read_invoice_number(doc: Document) -> Candidate | None:
    return _read_identifier(doc, "invoice_number")


def read_purchase_order(doc: Document) -> Candidate | None:
    """The buyer's order number the invoice cites ("PO Number: 4711", "Ihre Bestellung")."""
    return _read_identifier(doc, "purchase_order")


def _read_identifier(doc: Document, field: str) -> Candidate | None:
    best: Candidate | None = None
    for hit in doc.hits_for(field):
        strong = hit.label.strength >= 1.0
        if not strong and not hit.at_phrase_start:
            continue
        for text, line, trust in _value_texts(doc, hit, look_below=True):
            # "Invoice No: #123" keeps its "#"; in "INVOICE # 123" the "#" is the "No.".
            value = _invoice_number_from(text, keep_hash=strong)
            if value is None:
                continue
            score = hit.label.strength * trust * (1.0 if line.page == 0 else 0.9)
            if best is None or score > best.score + 1e-9:
                best = Candidate(value, score, line)
            break
    return best


_SOFTWARE_VERSION = re.compile(r"version|release|stylesheet", re.IGNORECASE)


def read_date(doc: Document, field: str, day_first: bool) -> Candidate | None:
    candidates: list[Candidate] = []
    for hit in doc.hits_for(field):
        if hit.label.strength < 1.0 and not hit.at_phrase_start:
            continue
        if _SOFTWARE_VERSION.search(hit.line.text):
            continue  # "Stylesheet-Version 2.0 vom 18.10.2018" dates the software
        for text, line, trust in _value_texts(doc, hit):
            dates = find_dates(text)
            # The date must follow the label closely, not sit at the end of a sentence.
            if not dates or len(text[: dates[0].start].split()) > 3:
                continue
            value = dates[0].value(day_first)
            if value is None:
                continue
            candidates.append(Candidate(value.isoformat(), hit.label.strength * trust, line))
            break
    if not candidates:
        return None
    # Strongest label first; among equals the first on the page (the header before terms).
    candidates.sort(key=lambda c: (-c.score, c.line.index))
    best = candidates[0]
    agreeing = sum(1 for c in candidates if c.value == best.value)
    if agreeing > 1:
        best.score = min(1.0, best.score + 0.1)
    return best


def first_date_on_first_page(doc: Document, day_first: bool) -> Candidate | None:
    """Without any date label, the first date high on the first page is usually the
    invoice date."""
    for line in doc.lines:
        if line.page != 0:
            break
        if _SOFTWARE_VERSION.search(line.text):
            continue
        for match in find_dates(line.text):
            value = match.value(day_first)
            if value is not None:
                return Candidate(value.isoformat(), 0.45, line)
    return None


_RATE_HEADER = re.compile(r"%\s*$")
_RATE_HEADER_AFTER = re.compile(r"\s*(?:\(\s*)?%\s*\)?\s*$")


def amount_candidates(doc: Document, field: str) -> list[Candidate]:
    candidates: list[Candidate] = []
    for hit in doc.hits_for(field):
        if hit.label.strength < 1.0 and not hit.at_phrase_start:
            continue
        if _RATE_HEADER.search(hit.phrase.text[: hit.start]) or _RATE_HEADER_AFTER.match(
            hit.phrase.text[hit.end :]
        ):
            continue  # "%IVA", "VAT %": the column of rates, not of amounts
        # On the label's line the value is the last amount after it (past rates and bases,
        # "Tax 15% on $ 112.90   $ 16.94"); otherwise the cell under it.
        line = hit.line
        line_phrases = doc.phrases_by_line[line.index]
        after = hit.phrase.text[hit.end :]
        texts = [after] + [p.text for p in line_phrases if p.x0 > hit.phrase.x1 - 0.5]
        amounts = []
        for text in texts:
            amounts.extend(find_amounts(text, doc.decimal_separator))
        if amounts:
            candidates.append(Candidate(amounts[-1].value, hit.label.strength, line))
            continue
        # Under a column header ("Nettobetrag | MwSt | Endbetrag") each row is a candidate;
        # the last row of such a table is usually its sum.
        column_values = []
        for below in doc.phrases_below(hit):
            below_amounts = find_amounts(below.text, doc.decimal_separator)
            if not below_amounts or not below_amounts[0].has_decimals:
                break
            column_values.append((below_amounts[0].value, doc.lines[below.index]))
        for position, (value, line) in enumerate(column_values):
            last = position == len(column_values) - 1
            candidates.append(Candidate(value, hit.label.strength * (0.85 if last else 0.7), line))
    return candidates


def _best_per_value(candidates: list[Candidate], limit: int = 6) -> list[Candidate]:
    by_value: dict[Decimal, Candidate] = {}
    for candidate in candidates:
        known = by_value.get(candidate.value)
        if known is None:
            by_value[candidate.value] = Candidate(candidate.value, candidate.score, candidate.line)
        else:
            # A value printed twice under labels is likelier (totals box and summary).
            known.score = min(1.2, max(known.score, candidate.score) + 0.05)
            if candidate.line.index > known.line.index:
                known.line = candidate.line
    ranked = sorted(by_value.values(), key=lambda c: -c.score)
    return ranked[:limit]


@dataclass
class Totals:
    subtotal: Candidate | None
    tax: Candidate | None
    total: Candidate | None
    balanced: bool
    tax_derived: bool = False


def choose_totals(doc: Document, line_sum: Decimal | None) -> Totals:
    """Subtotal, tax and total chosen together: the combination whose labels are strongest,
    with a large bonus when subtotal + tax = total and a smaller one when the subtotal is
    the sum of the line items."""
    subtotals = _best_per_value(amount_candidates(doc, "subtotal_amount"))
    taxes = _best_per_value(amount_candidates(doc, "tax_amount"))
    totals = _best_per_value(amount_candidates(doc, "total_amount"))
    best: tuple[float, Totals] | None = None
    for sub, tax, total in product([None, *subtotals], [None, *taxes], [None, *totals]):
        score = sum(c.score for c in (sub, tax, total) if c is not None)
        balanced = False
        if sub and tax and total:
            if abs(sub.value + tax.value - total.value) <= Decimal("0.01"):
                score += 2.0
                balanced = True
            else:
                score -= 0.8
        if sub and total and abs(total.value) < abs(sub.value):
            score -= 1.0
        if sub and tax and tax.value and abs(tax.value) >= abs(sub.value):
            score -= 1.0
        if line_sum is not None and sub and sub.value == line_sum:
            score += 0.4
        if total is not None:
            # Totals close the document: later mentions are the final ones.
            score += 0.02 * total.line.index / max(1, len(doc.lines))
        if best is None or score > best[0] + 1e-9:
            best = (score, Totals(sub, tax, total, balanced))
    assert best is not None
    chosen = best[1]
    if chosen.subtotal and chosen.total and not chosen.balanced:
        # The tax can be unreadable (split over lines, a breakdown table only) while both
        # sums are clear: it is then their difference.
        difference = chosen.total.value - chosen.subtotal.value
        if chosen.subtotal.value and Decimal(0) <= difference / chosen.subtotal.value <= Decimal(
            "0.3"
        ):
            chosen.tax = Candidate(difference, 0.55, chosen.total.line)
            chosen.tax_derived = True
    if chosen.total is None and chosen.subtotal and chosen.tax:
        chosen.total = Candidate(
            chosen.subtotal.value + chosen.tax.value, 0.5, chosen.subtotal.line
        )
    return chosen


# --- currency, ids, parties -----------------------------------------------------------------


def read_currency(doc: Document) -> Candidate | None:
    votes: defaultdict[str, float] = defaultdict(float)
    for line, folded in zip(doc.lines, doc.folded, strict=True):
        labelled = bool(re.search(r"wahrung|currency|devise|moneda|valuta|valuta|moeda", folded))
        # A symbol in a line OCR could hardly read ("B 1 1 : # ¥ 0 0 7") is likely noise.
        symbol_weight = 0.8 if line.confidence >= 0.5 else 0.2
        for code, as_code in currency_mentions(line.text):
            votes[code] += 3 if labelled else (1.0 if as_code else symbol_weight)
    if "kr" in votes:
        count = votes.pop("kr")
        all_text = " ".join(doc.folded)
        krona = (
            "NOK"
            if "mva" in all_text
            else "DKK"
            if re.search(r"moms|cvr", all_text) and ("dk" in all_text or "danmark" in all_text)
            else "SEK"
        )
        votes[krona] += count
    if votes:
        code, count = max(votes.items(), key=lambda item: item[1])
        share = count / sum(votes.values())
        score = min(0.97, 0.6 + 0.1 * count) * share
        if code == "USD" and not any("USD" in text for text in doc.texts):
            score = min(score, 0.8)  # "$" alone could be another dollar
        return Candidate(code, score, doc.lines[0])
    if doc.language in _EURO_LANGUAGES and doc.lines:
        return Candidate("EUR", 0.4, doc.lines[0])
    return None


@dataclass
class PartyBlock:
    role: str  # vendor | customer | other
    heading: Line
    lines: list[Line]
    inline_value: str | None  # "Sold By : WS Retail ..." puts the name on the heading line


def party_blocks(doc: Document) -> list[PartyBlock]:
    blocks = []
    for line_phrases in doc.phrases_by_line:
        for phrase in line_phrases:
            folded = fold(phrase.text)
            for role, pattern in (
                ("vendor", VENDOR_HEADINGS),
                ("customer", CUSTOMER_HEADINGS),
                ("other", OTHER_PARTY_HEADINGS),
            ):
                match = pattern.match(folded)
                if match is None:
                    continue
                rest = phrase.text[match.end() :].strip(" :")
                if rest[:1] in ("/", "("):
                    rest = ""  # "Cedente/prestatore (fornitore)": one heading, two names
                if (
                    rest
                    and not folded[match.end() :].lstrip().startswith(":")
                    and ":" not in (folded[match.end() - 1 : match.end()])
                ):
                    continue  # "Lieferant GmbH" is a name, not the heading "Lieferant:"
                if rest and not any(ch.isalpha() for ch in rest):
                    continue  # "Customer: 10023" labels the customer's number, not a block
                blocks.append(PartyBlock(role, phrase, _block_under(doc, phrase), rest or None))
                break
    return blocks


def _block_under(doc: Document, heading: Line, max_lines: int = 9) -> list[Line]:
    """Phrases stacked under a heading in its column, until a gap or another heading."""
    found: list[Line] = []
    previous = heading
    for index in range(heading.index + 1, min(len(doc.lines), heading.index + 14)):
        line = doc.lines[index]
        if line.page != heading.page:
            break
        column = [
            p
            for p in doc.phrases_by_line[index]
            if overlap_x(p.x0, p.x1, heading.x0 - 8, max(heading.x1, heading.x0 + 120)) > 0
            and p.x0 >= heading.x0 - 25
        ]
        if not column:
            continue  # a line of the next column over: the gap is measured in this one
        # a heading may stand a little apart from its block; the block's lines stay close
        if line.y0 - previous.y1 > (1.2 if found else 2.0) * previous.height:
            break
        # "Nummer    : 4711" is two phrases; the party line is all of them together.
        phrase = (
            column[0]
            if len(column) == 1
            else column[0].sub_line([word for p in column for word in p.words])
        )
        folded = fold(phrase.text)
        if any(
            p.match(folded) for p in (VENDOR_HEADINGS, CUSTOMER_HEADINGS, OTHER_PARTY_HEADINGS)
        ) and phrase.text.rstrip().endswith(":"):
            break
        found.append(phrase)
        previous = phrase
        if len(found) >= max_lines:
            break
    return found


def _looks_like_name(text: str) -> bool:
    stripped = text.strip(" ,;")
    if len(stripped) < 2 or ":" in stripped or "@" in stripped:
        return False
    letters = sum(ch.isalpha() for ch in stripped)
    digits = sum(ch.isdigit() for ch in stripped)
    return letters >= 2 and digits <= letters / 3


def name_in_block(doc: Document, block: PartyBlock) -> tuple[str, float] | None:
    if block.inline_value and _looks_like_name(block.inline_value):
        return block.inline_value.strip(" ,;"), 0.85
    for phrase in block.lines[:6]:
        prefix = NAME_PREFIX.match(fold(phrase.text))
        if prefix is None:
            continue
        # "Name:" and the name can stand in two columns of the same line.
        rest = phrase.text[prefix.end() :].strip() or " ".join(
            p.text for p in doc.phrases_by_line[phrase.index] if p.x0 > phrase.x1
        )
        if _looks_like_name(rest):
            return rest.strip(" ,;"), 0.9
    for position, phrase in enumerate(block.lines[:5]):
        if _looks_like_name(phrase.text):
            # A name under lines of numbers ("Nummer : 4711") is still the party's name.
            return phrase.text.strip(" ,;"), 0.9 if position == 0 else 0.85
    return None


def _block_line_indexes(blocks: list[PartyBlock], role: str | None = None) -> set[int]:
    return {
        line.index
        for block in blocks
        if role is None or block.role == role
        for line in [block.heading, *block.lines]
    }


_BANK_DETAIL = re.compile(r"^(?:iban|bic|swift|blz|konto(?:nummer|-?nr)?|account)\b")


def _is_bank_name(doc: Document, phrase: Line) -> bool:
    """A company name right above IBAN or BIC in its column names the bank, not the vendor
    ("Beispielbank AG" / "IBAN: DE89 ..." in a footer)."""
    for index in range(phrase.index + 1, min(len(doc.lines), phrase.index + 3)):
        for below in doc.phrases_by_line[index]:
            if overlap_x(below.x0, below.x1, phrase.x0, phrase.x1) > 0:
                if _BANK_DETAIL.match(fold(below.text)):
                    return True
                break
    return False


def read_vendor_name(
    doc: Document, blocks: list[PartyBlock], addressee: Line | None = None
) -> Candidate | None:
    for block in blocks:
        if block.role == "vendor":
            named = name_in_block(doc, block)
            if named:
                return Candidate(named[0], named[1], block.heading)
    foreign = _block_line_indexes([b for b in blocks if b.role != "vendor"])
    if addressee is not None:
        foreign.add(addressee.index)
    # A company name (legal form) outside the addressee's blocks: the letterhead or footer.
    # The vendor's name tends to come back (letterhead, footer, bank line): repeats win.
    companies: dict[str, list[Line]] = {}
    for line_phrases in doc.phrases_by_line:
        for phrase in line_phrases:
            if phrase.index in foreign or len(phrase.text) > 60:
                continue
            if (
                LEGAL_FORM.search(fold(phrase.text))
                and _looks_like_name(phrase.text)
                and not _is_bank_name(doc, phrase)
            ):
                companies.setdefault(phrase.text.strip(" ,;"), []).append(phrase)
    if companies:
        name, seen = max(companies.items(), key=lambda item: len(item[1]))
        return Candidate(name, 0.7 if len(seen) > 1 else 0.55, seen[0])
    for line, folded in zip(doc.lines, doc.folded, strict=True):
        match = ACCOUNT_HOLDER.search(folded)
        if match:
            rest = line.text[match.end() :].split(" - ")[0].split("  ")[0].strip()
            if _looks_like_name(rest):
                return Candidate(rest, 0.6, line)
    # The first line of the letterhead.
    for line_phrases in doc.phrases_by_line[:6]:
        phrase = line_phrases[0]
        if phrase.index in foreign or phrase.page != 0:
            continue
        folded = fold(phrase.text)
        if any(pattern.search(folded) for _, pattern in DOCUMENT_TITLES):
            continue
        # "Name | Street 1 | 12345 Town": the sender's one-line return address.
        text = sender_line_name(phrase.text) or phrase.text
        if _looks_like_name(text) and len(text) <= 50:
            return Candidate(text.strip(" ,;"), 0.35, phrase)
    return None


def read_customer_name(doc: Document, blocks: list[PartyBlock]) -> Candidate | None:
    for block in blocks:
        if block.role == "customer":
            named = name_in_block(doc, block)
            if named:
                return Candidate(named[0], named[1] - 0.05, block.heading)
    return read_window_addressee(doc, blocks)


_POSTCODE_LINE = re.compile(r"^(?:[A-Z]{1,2}[- ]?)?\d{4,5}\s+[^\W\d][\w\-]+")
# "Bei Spiel GmbH ● Ecke 12 ● 12345 Stadthausen": the sender's one-line return address.
_RETURN_ADDRESS_MARK = re.compile(r"[●•·|]|\s-\s.*\d{4,5}|\w-\S*\d\S*-\s*\d{4,5}")


def read_window_addressee(doc: Document, blocks: list[PartyBlock]) -> Candidate | None:
    """Without a heading, the addressee stands in the envelope window (DIN 5008, French
    and most business letters): an address block at the upper left, under the sender's
    one-line return address, a name over a street over a postcode and town. Only a
    guess (confidence 0.6): a letterhead laid out the same way would be read as it."""
    if not doc.lines or doc.lines[0].page != 0:
        return None
    page = doc.pages[0]
    taken = _block_line_indexes(blocks)
    left: list[Line] = []
    for line in doc.lines:
        if line.page != 0 or line.y0 > 0.45 * page.height:
            break
        first = doc.phrases_by_line[line.index][0]
        if first.x0 < 0.4 * page.width and line.index not in taken:
            left.append(first)
    for position, phrase in enumerate(left):
        text = phrase.text.strip(" ,;")
        if not _unheaded_name(doc, phrase, page, below_top=0.1):
            continue
        # The sender's name comes back (letterhead, footer, bank line); an addressee's
        # name is printed once.
        folded_name = fold(text)
        if sum(folded_name in folded for folded in doc.folded) > 1:
            continue
        for below in left[position + 1 : position + 5]:
            if below.y0 - phrase.y1 > 8 * phrase.height:
                break
            if abs(below.x0 - phrase.x0) > max(8.0, phrase.height):
                continue
            if _RETURN_ADDRESS_MARK.search(below.text) or ":" in below.text:
                break
            if _POSTCODE_LINE.match(below.text.strip()) or is_postcode_line(below.text):
                return Candidate(text, 0.6, phrase)
        # The first name-like line that has no address under it is not the window.
    return None


def facing_blocks(doc: Document, blocks: list[PartyBlock]) -> tuple[Line, Line] | None:
    """The names of two unheaded blocks side by side at the top of the first page: one at
    the left over its address, one beside it at the right over lines of its own. "From |
    To" templates print the sender at the left; a window letter prints the addressee
    there, so which is which is the ranker's to learn, not a rule's."""
    if not doc.lines or doc.lines[0].page != 0 or any(b.role != "other" for b in blocks):
        return None
    page = doc.pages[0]
    taken = _block_line_indexes(blocks)
    top = [
        line
        for line in doc.lines
        if line.page == 0 and line.y0 < 0.45 * page.height and line.index not in taken
    ]
    for position, line in enumerate(top):
        left = doc.phrases_by_line[line.index][0]
        if left.x0 >= 0.4 * page.width or not _unheaded_name(doc, left, page, below_top=0.05):
            continue
        below = _column_below(doc, top[position + 1 :], left)
        # an address: a street number or a postcode under the name
        if len(below) < 2 or not any(ch.isdigit() for p in below[:3] for ch in p.text):
            continue
        # The other block starts beside the left name or lower, within the left block.
        for offset, right_line in enumerate(top[position : position + 1 + len(below)]):
            if right_line.y0 > below[-1].y1:
                break
            beside = [
                p
                for p in doc.phrases_by_line[right_line.index]
                if p.x0 >= 0.45 * page.width and p.x0 > left.x1
            ]
            if not beside:
                continue
            right = beside[0]
            if _unheaded_name(doc, right, page, below_top=0.05) and _column_below(
                doc, top[position + offset + 1 :], right
            ):
                return left, right
            break  # a label or a date beside the left block: meta, not a party
        return None
    return None


def _unheaded_name(doc: Document, phrase: Line, page: Page, below_top: float) -> bool:
    """Whether a phrase can name a party without a heading: name-like, below the top
    `below_top` share of the page, and no return address, postcode line, label, date,
    document title or centred line."""
    text = phrase.text.strip(" ,;")
    return not (
        phrase.y0 < below_top * page.height
        or not _looks_like_name(text)
        or _RETURN_ADDRESS_MARK.search(text)
        or _POSTCODE_LINE.match(text)
        or doc.starts_with_label(phrase)
        or find_dates(text)
        or any(pattern.search(fold(text)) for _, pattern in DOCUMENT_TITLES)
        or _centred(phrase, page)
    )


def _column_below(doc: Document, lines: list[Line], phrase: Line) -> list[Line]:
    """The phrases aligned under `phrase`, each close under the one before, none a label."""
    return list(takewhile(lambda p: ":" not in p.text, _aligned_below(doc, phrase, lines)))


def _aligned_below(doc: Document, phrase: Line, lines: Iterable[Line]) -> Iterator[Line]:
    """The phrases of `lines` aligned with `phrase` at the left, each close under the one
    before: the rest of a block stacked under its first line."""
    previous = phrase
    for line in lines:
        aligned = [
            p
            for p in doc.phrases_by_line[line.index]
            if abs(p.x0 - phrase.x0) <= max(8.0, phrase.height)
        ]
        if not aligned:
            continue
        below = aligned[0]
        if below.y0 - previous.y1 > 1.5 * previous.height:
            return
        yield below
        previous = below


def read_block_address(doc: Document, block: PartyBlock, name: str | None) -> str | None:
    """The address under a party heading: the block's lines after the party's name."""
    lines = [phrase.text for phrase in block.lines]
    if name is not None and not (block.inline_value and block.inline_value.strip(" ,;") == name):
        at = next(
            (i for i, text in enumerate(lines) if name in text.strip(" ,;")),
            None,
        )
        if at is not None:
            lines = [lines[at].strip(" ,;")[len(name) :], *lines[at + 1 :]]
    return address_from(lines)


def read_address_below(doc: Document, phrase: Line, max_lines: int = 6) -> str | None:
    """The address under a name standing alone (the window addressee, the letterhead):
    phrases aligned with it below, each close under the previous one, and whatever follows
    the name on its own line after a separator ("Name · Street 1 · 12345 Town")."""
    page = doc.pages[phrase.page] if phrase.page < len(doc.pages) else None
    texts = [PART_SEPARATOR.split(phrase.text, maxsplit=1)[1:] or [""]][0]
    lines = takewhile(
        lambda line: line.page == phrase.page and not (page and line.y0 > page.height * 0.6),
        doc.lines[phrase.index + 1 : phrase.index + 12],
    )
    for below in _aligned_below(doc, phrase, lines):
        texts.append(below.text)
        if len(texts) > max_lines:
            break
    return address_from([text for text in texts if text])


def read_addresses(
    doc: Document,
    blocks: list[PartyBlock],
    vendor_name: Candidate | None,
    customer_name: Candidate | None,
) -> dict[str, Candidate]:
    """vendor_address and customer_address: from the party's block when it has a heading,
    else from under the name where it was found (window, letterhead)."""
    found: dict[str, Candidate] = {}
    for role, name in (("vendor", vendor_name), ("customer", customer_name)):
        if name is None:
            continue
        address = None
        for block in blocks:
            if block.role == role:
                address = read_block_address(doc, block, name.value)
                if address:
                    found[f"{role}_address"] = Candidate(address, name.score * 0.9, block.heading)
                    break
        if address is None and name.line.words:
            phrase = next(
                (p for p in doc.phrases_by_line[name.line.index] if name.value in p.text), None
            )
            address = read_address_below(doc, phrase) if phrase is not None else None
            if address:
                found[f"{role}_address"] = Candidate(address, name.score * 0.85, name.line)
    return found


def _centred(phrase: Line, page: Page) -> bool:
    """Whether a phrase stands in the middle of the page, as a letterhead or a till slip's
    heading does; a window address is at the left."""
    middle = (phrase.x0 + phrase.x1) / 2
    return phrase.x0 > 0.2 * page.width and abs(middle - page.width / 2) < 0.1 * page.width


def read_tax_ids(
    doc: Document, blocks: list[PartyBlock]
) -> tuple[Candidate | None, Candidate | None]:
    """(vendor's, customer's) tax identifier: a VAT number in the vendor's block beats a
    local tax number there, which beats any VAT number elsewhere outside the customer's
    block."""
    vendor_lines = _block_line_indexes(blocks, "vendor")
    customer_lines = _block_line_indexes(blocks, "customer")
    vendor: list[Candidate] = []
    customer: list[Candidate] = []
    for line, folded in zip(doc.lines, doc.folded, strict=True):
        label = TAX_ID_LABEL.search(folded)
        values: list[tuple[str, bool]] = [
            (m.group(1).replace(" ", ""), True) for m in _VAT_ID.finditer(line.text)
        ]
        if label and not values:
            spaced = _spaced_vat_id(line.text[label.end() :])
            if spaced:
                values.append((spaced, True))
        if label and not values:
            rest = line.text[label.end() :]
            local = _LOCAL_TAX_NUMBER.search(rest)
            if local and len(rest[: local.start()].split()) <= 1:
                values.append((local.group(1).strip(), False))
        if not values:
            continue
        marked = bool(CUSTOMER_MARKERS.search(folded))
        for value, is_vat in values:
            is_customer = marked or _in_customer_column(line, blocks, customer_lines, value)
            score = (
                (1.0 if is_vat else 0.9)
                if line.index in vendor_lines
                else (0.75 if is_vat else 0.45)
            )
            if is_customer:
                customer.append(Candidate(value, score, line))
            else:
                vendor.append(Candidate(value, score, line))
    vendor.sort(key=lambda c: (-c.score, c.line.index))
    customer.sort(key=lambda c: (-c.score, c.line.index))
    return (vendor[0] if vendor else None), (customer[0] if customer else None)


def _in_customer_column(
    line: Line, blocks: list[PartyBlock], customer_lines: set[int], value: str
) -> bool:
    """Whether a line with a tax identifier belongs to the customer's block. Two blocks side
    by side share their lines: then the identifier's own column decides."""
    if line.index not in customer_lines:
        return False
    vendor_phrases = [
        p for b in blocks if b.role == "vendor" for p in b.lines if p.index == line.index
    ]
    if not vendor_phrases:
        return True
    customer_phrases = [
        p for b in blocks if b.role == "customer" for p in b.lines if p.index == line.index
    ]
    # the word the value starts with (values are read without the spaces of "DE 123 456")
    first = next((w for w in line.words if w.text and value.startswith(w.text)), None)
    if first is None:
        return False
    return any(p.x0 - 2 <= first.x_center <= p.x1 + 2 for p in customer_phrases)


# A VAT number printed (or read by OCR) in groups: "FR 32 123 456 789", "DE 123 456 789".
_SPACED_VAT = re.compile(r"^[\s:.#-]*([A-Z]{2}(?:\s?[0-9A-Z]{1,4}){2,6})(?![\w])")


def _spaced_vat_id(rest: str) -> str | None:
    """The VAT number right after a tax-ID label when it is written in spaced groups."""
    match = _SPACED_VAT.match(rest)
    if match is None:
        return None
    groups = match.group(1).split()
    for end in range(len(groups), 0, -1):  # the longest run of groups that is a VAT number
        compact = "".join(groups[:end])
        if _VAT_ID.fullmatch(compact):
            return compact
    return None


def read_contacts(doc: Document, blocks: list[PartyBlock]) -> dict[str, Candidate]:
    customer_lines = _block_line_indexes(blocks, "customer")
    found: dict[str, Candidate] = {}
    for line in doc.lines:
        role = "customer" if line.index in customer_lines else "vendor"
        email = _EMAIL.search(line.text)
        if email and f"{role}_email" not in found:
            found[f"{role}_email"] = Candidate(email.group(0), 0.7, line)
        phone_label = _PHONE_LABEL.search(line.text)
        if phone_label and f"{role}_phone" not in found:
            phone = _PHONE.search(line.text, phone_label.end())
            if phone:
                found[f"{role}_phone"] = Candidate(phone.group(0).strip(), 0.7, line)
        if "vendor_iban" not in found:
            for match in _IBAN.finditer(line.text):
                iban = match.group(1).replace(" ", "")
                if _valid_iban(iban):
                    found["vendor_iban"] = Candidate(iban, 0.9, line)
                    break
    return found


def _valid_iban(iban: str) -> bool:
    return 15 <= len(iban) <= 34 and is_valid_iban(iban)


def _mod97_is_one(reference: str) -> bool:
    """The ISO 7064 MOD 97-10 check of IBANs and RF creditor references."""
    rearranged = reference[4:] + reference[:4]
    if not rearranged.isalnum():
        return False
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _payment_reference_in(text: str) -> str | None:
    """A creditor reference or structured communication whose check digits hold."""
    for match in _STRUCTURED_COMMUNICATION.finditer(text):
        digits = "".join(match.groups())
        check = int(digits[:10]) % 97 or 97
        if check == int(digits[10:]):
            return f"+++{match.group(1)}/{match.group(2)}/{match.group(3)}+++"
    for match in _RF_REFERENCE.finditer(text):
        compact = match.group(1).replace(" ", "")
        if 5 <= len(compact) <= 25 and _mod97_is_one(compact):
            return compact
    return None


def read_payment_reference(doc: Document) -> Candidate | None:
    """What the payer must quote with the transfer: a checked creditor reference anywhere,
    else the value after a payment-reference label ("Verwendungszweck: RE-4711")."""
    for line in doc.lines:
        found = _payment_reference_in(line.text)
        if found:
            return Candidate(found, 0.9, line)
    for line, folded in zip(doc.lines, doc.folded, strict=True):
        match = _PAYMENT_REFERENCE_LABEL.search(folded)
        if match is None:
            continue
        rest = line.text[match.end() :]
        value = re.split(r"\s{2,}|\s[|·•]\s", rest.strip())[0].strip(" .,;")
        weak = match.group(0).startswith(("ref", "reference", "referencia", "communication"))
        if not value or len(value) > 40 or (weak and not any(ch.isdigit() for ch in value)):
            continue
        if _STRUCTURED_COMMUNICATION.search(value) or _RF_REFERENCE.match(value):
            continue  # a checked form whose check digits failed above: misprinted or misread
        return Candidate(value, 0.6 if weak else 0.75, line)
    return None


def read_document_type(doc: Document) -> str:
    for line, line_phrases in zip(doc.lines[:25], doc.phrases_by_line[:25], strict=True):
        if line.page != 0:
            break
        # The title can share its line with the letterhead: each phrase is read alone.
        for folded in [fold(line.text), *(fold(p.text) for p in line_phrases[1:])]:
            for kind, pattern in DOCUMENT_TITLES:
                match = pattern.search(folded)
                if match and len(folded[: match.start()].split()) <= 2:
                    return kind
    return "invoice" if any(DOCUMENT_TITLES[-1][1].search(f) for f in doc.folded) else "unknown"


def read_payment_terms(doc: Document) -> Candidate | None:
    """The text after a payment-terms label (or under it, when the label is a heading),
    else a sentence that states the terms ("Payable within 30 days")."""
    for line, folded in zip(doc.lines, doc.folded, strict=True):
        match = _PAYMENT_TERMS.search(folded)
        if match:
            rest = line.text[match.end() :].strip()
            if rest:
                return Candidate(rest, 0.6, line)
        if _PAYMENT_TERMS_HEADING.match(folded.strip()) and line.index + 1 < len(doc.lines):
            below = doc.lines[line.index + 1]
            # One phrase, not a table's header row ("Beschreibung  Fälligkeit  Betrag").
            if (
                below.page == line.page
                and below.y0 - line.y1 < 1.5 * line.height
                and len(doc.phrases_by_line[below.index]) == 1
            ):
                return Candidate(below.text.strip(), 0.55, below)
    for line, folded, line_phrases in zip(doc.lines, doc.folded, doc.phrases_by_line, strict=True):
        if not _PAYMENT_TERMS_SENTENCE.search(folded):
            continue  # the phrase is looked for only on lines that have the sentence
        for phrase in line_phrases:
            match = _PAYMENT_TERMS_SENTENCE.search(fold(phrase.text))
            if match:
                return Candidate(_sentence_around(phrase.text, match.start()), 0.55, line)
    return None


def _sentence_around(text: str, position: int) -> str:
    start = max(text.rfind(". ", 0, position) + 2, 0) if ". " in text[:position] else 0
    end = text.find(". ", position)
    return text[start : len(text) if end < 0 else end + 1].strip()


# --- the whole document ---------------------------------------------------------------------


def source_box(line: Line, page_sizes: dict[int, tuple[float, float]]) -> dict[str, float] | None:
    """The line a value was read from, as fractions of its page (page numbered from 1), for
    the review app to outline on the page image."""
    size = page_sizes.get(line.page)
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    width, height = size
    return {
        "page": line.page + 1,
        "x": round(max(line.x0, 0.0) / width, 4),
        "y": round(max(line.y0, 0.0) / height, 4),
        "w": round((line.x1 - line.x0) / width, 4),
        "h": round((line.y1 - line.y0) / height, 4),
    }


def parse_invoice_pages(
    pages: list[Page], source: str = "pdf_text", *, rank: bool = True
) -> dict[str, Any]:
    """All contract fields that the pages show, with a confidence for each. The rules read
    them first; then the learned ranker (`ranker.py`, unless `rank` is false) replaces the
    header fields it is surer of."""
    doc = Document(pages)
    fields = empty_fields(source)
    confidence: dict[str, float] = {}
    warnings: list[dict[str, Any]] = fields["warnings"]
    page_sizes = {page.number: (page.width, page.height) for page in pages}
    sources: dict[str, tuple[Any, dict[str, float]]] = {}  # field: (value read, its line)

    def put(field: str, candidate: Candidate | None, value: Any = None) -> None:
        if candidate is None:
            return
        fields[field] = candidate.value if value is None else value
        box = source_box(candidate.line, page_sizes)
        if box is not None:
            sources[field] = (fields[field], box)
        ocr_factor = candidate.line.confidence if source == "ocr" else 1.0
        confidence[field] = round(max(0.0, min(1.0, candidate.score)) * ocr_factor, 3)

    currency = read_currency(doc)
    put("currency", currency)
    currency_code = currency.value if currency else None
    day_first = infer_day_first(doc.texts, doc.language, currency_code)

    put("invoice_number", read_invoice_number(doc))
    invoice_date = read_date(doc, "invoice_date", day_first) or first_date_on_first_page(
        doc, day_first
    )
    put("invoice_date", invoice_date)
    due_date = read_date(doc, "due_date", day_first)
    if due_date and invoice_date and due_date.value < invoice_date.value:
        due_date = None
    put("due_date", due_date)

    rows, _ = read_tables(doc.lines, doc.decimal_separator)
    line_totals = [row.total for row in rows if row.total is not None]
    line_sum = sum(line_totals, Decimal(0)) if line_totals else None
    totals = choose_totals(doc, line_sum)
    for field, candidate in (
        ("subtotal_amount", totals.subtotal),
        ("tax_amount", totals.tax),
        ("total_amount", totals.total),
    ):
        if candidate is None:
            continue
        boost = 0.15 if totals.balanced else 0.0
        put(
            field,
            Candidate(
                money.to_minor_units(candidate.value, currency_code),
                min(1.0, candidate.score * (0.8 if not totals.balanced else 1.0) + boost),
                candidate.line,
            ),
        )
    for field in ("amount_due", "discount_amount"):
        ranked = _best_per_value(amount_candidates(doc, field))
        if ranked:
            best = max(ranked, key=lambda c: (c.score, c.line.index))
            put(
                field,
                Candidate(
                    money.to_minor_units(
                        abs(best.value) if field == "discount_amount" else best.value, currency_code
                    ),
                    best.score * 0.8,
                    best.line,
                ),
            )
    if totals.subtotal and totals.tax and totals.subtotal.value:
        rate = (totals.tax.value / totals.subtotal.value * 100).quantize(Decimal("0.01"))
        standard = {
            Decimal(r)
            for r in (
                "0",
                "2.1",
                "4",
                "5",
                "5.5",
                "6",
                "7",
                "8.1",
                "9",
                "10",
                "12",
                "13",
                "14",
                "15",
                "16",
                "17",
                "19",
                "20",
                "21",
                "22",
                "23",
                "24",
                "25",
                "27",
            )
        }
        nearest = min(standard, key=lambda r: abs(r - rate))
        if abs(nearest - rate) <= Decimal("0.05"):
            fields["tax_rate"] = money.format_rate(nearest)
            fields["tax_breakdown"] = [
                {
                    "rate": money.format_rate(nearest),
                    "taxable_amount": money.to_minor_units(totals.subtotal.value, currency_code),
                    "tax_amount": money.to_minor_units(totals.tax.value, currency_code),
                }
            ]
            confidence["tax_rate"] = 0.8 if totals.balanced else 0.5
    if (
        totals.subtotal
        and totals.tax
        and totals.total
        and not totals.balanced
        and not (totals.tax_derived)
    ):
        warnings.append(
            warning(
                "totals_mismatch",
                "Subtotal plus tax does not equal the total on the page.",
                "total_amount",
            )
        )

    blocks = doc.blocks
    customer_name = read_customer_name(doc, blocks)
    vendor_name = read_vendor_name(doc, blocks, customer_name.line if customer_name else None)
    if vendor_name and customer_name and vendor_name.value == customer_name.value:
        customer_name = None  # one name cannot be both parties: the heading-less guess yields
    put("vendor_name", vendor_name)
    put("customer_name", customer_name)
    for field, candidate in read_addresses(doc, blocks, vendor_name, customer_name).items():
        put(field, candidate)
    vendor_tax, customer_tax = read_tax_ids(doc, blocks)
    put("vendor_tax_id", vendor_tax)
    put("customer_tax_id", customer_tax)
    for field, candidate in read_contacts(doc, blocks).items():
        put(field, candidate)
    put("payment_terms", read_payment_terms(doc))
    put("payment_reference", read_payment_reference(doc))
    purchase_order = read_purchase_order(doc)
    if purchase_order and purchase_order.value != fields.get("invoice_number"):
        put("purchase_order", purchase_order)
    fields["document_type"] = read_document_type(doc)

    subtotal = fields.get("subtotal_amount")
    items = line_items_from_rows(
        rows,
        currency_code,
        misread_signs_against=money.from_minor_units(subtotal, currency_code)
        if source == "ocr" and isinstance(subtotal, int)
        else None,
    )
    fields["line_items"] = items
    if items:
        items_sum = sum((item["total_price"] or 0) for item in items)
        confidence["line_items"] = 0.85 if fields["subtotal_amount"] == items_sum else 0.6

    if rank:
        ranker.apply(doc, blocks, day_first, fields, confidence)
    fields["field_confidence"] = confidence
    # where each value was read; a value the ranker replaced has no source recorded
    fields["field_sources"] = {
        name: box for name, (value, box) in sources.items() if fields.get(name) == value
    }
    core = ("invoice_number", "invoice_date", "currency", "vendor_name", "total_amount")
    fields["extraction_confidence"] = round(
        sum(confidence.get(f, 0.0) for f in core) / len(core), 3
    )
    if fields["total_amount"] is None:
        warnings.append(
            warning("total_not_found", "No total amount was found on the page.", "total_amount")
        )
    return fields
