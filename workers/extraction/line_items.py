"""Line items from positioned words: find the table header (a row naming description,
quantity, unit price and amount columns), take the columns' x-ranges from it, and read rows
under it until a totals row or a new section ends the table.

A row starts where a line has an amount in the amount column (or, without one, a priced
number at its right end); lines under it whose words stay in the description column continue
its description, as long as no blank line separates them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from statistics import median
from typing import Any

from common import money
from workers.extraction.invoice_fields import AmountReader, line_item
from workers.extraction.labels import SECTION_ENDS, label_text, labels_that_may_match
from workers.extraction.layout import PHRASE_GAP_RATIO, Line, Word, fold, overlap_x, phrases
from workers.extraction.numbers import AmountMatch, find_amounts, find_percentages
from workers.extraction.table_columns import join_spaced_thousands, value_roles

COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "description": (
        "description",
        "desc",
        "details",
        "particulars",
        "designation",
        "libelle",
        "beschreibung",
        "bezeichnung",
        "artikelbezeichnung",
        "leistungsbeschreibung",
        "descripcion",
        "concepto",
        "descrizione",
        "omschrijving",
        "beschrijving",
        "descricao",
        "artikelbeschreibung",
        "produktbezeichnung",
        "nom & designation",
        "intitule",
    ),
    # Headers that name the description column only when no better one is there; beside
    # "Omschrijving", "Artikel" heads the article-code column.
    "item": (
        "item",
        "items",
        "product",
        "products",
        "title",
        "service",
        "services",
        "leistung",
        "artikel",
        "article",
        "articulo",
        "articolo",
        "produto",
        "servico",
        "produkt",
    ),
    "code": (
        "pos",
        "pos.",
        "position",
        "nr",
        "nr.",
        "no",
        "no.",
        "#",
        "art-nr",
        "art.-nr.",
        "art-nr.",
        "art-nr-kunde",
        "art-nr-lief.",
        "artikelnummer",
        "artikelnr",
        "artikel-nr",
        "artikel-nr.",
        "sku",
        "code",
        "ref",
        "ref.",
        "reference",
        "referentie",
        "codice",
        "codigo",
        "item no",
        "item #",
        "part no",
        "hsn",
        "hsn/sac",
        "ean",
        "gtin",
        "artnr",
        "art.nr.",
        "art.nr",
        "artikel nr",
        "ligne",
        "code article",
        "posnr",
    ),
    # Columns that hold words, rates or discounts: read into their keys, never taken for a
    # quantity or a price.
    "unit": ("unit", "uom", "einheit", "unite", "unidad", "unita", "eenheid", "unidade"),
    "tax_rate": (
        "vat",
        "vat rate",
        "tax rate",
        "gst rate",
        "mwst",
        "mwst.",
        "mwst-satz",
        "ust",
        "ust.",
        "ust-satz",
        "steuersatz",
        "tva",
        "taux tva",
        "iva",
        "tipo iva",
        "aliquota",
        "aliquota iva",
        "btw",
        "btw-tarief",
    ),
    "discount": (
        "disc",
        "disc.",
        "discount",
        "rabatt",
        "rab.",
        "remise",
        "descuento",
        "dto",
        "dto.",
        "sconto",
        "korting",
        "desconto",
    ),
    "quantity": (
        "qty",
        "qty.",
        "quantity",
        "menge",
        "anzahl",
        "anz.",
        "quantite",
        "qte",
        "qte.",
        "nombre",
        "cantidad",
        "cant.",
        "quantita",
        "qta",
        "qta.",
        "aantal",
        "hoeveelheid",
        "quantidade",
        "qtd",
        "qtd.",
        "hours",
        "hrs",
        "stunden",
        "units",
        "qty/hrs",
        "uds",
        "uds.",
        "unidades",
    ),
    "unit_price": (
        "price",
        "rate",
        "unit price",
        "price/unit",
        "einzelpreis",
        "nettopreis",
        "preis",
        "e-preis",
        "stückpreis",
        "stuckpreis",
        "prix",
        "p.u.",
        "pu",
        "prix unitaire",
        "precio",
        "precio unitario",
        "prezzo",
        "prezzo unitario",
        "prijs",
        "stukprijs",
        "preco",
        "preco unitario",
        "unit cost",
        "tarif",
        "p.u. ht",
        "preis/einheit",
        "preis/einh",
        "einheitspreis",
        "listenpreis",
    ),
    "amount": (
        "amount",
        "total",
        "line total",
        "betrag",
        "gesamt",
        "gesamtpreis",
        "positionsbetrag",
        "summe",
        "montant",
        "importe",
        "importo",
        "totale",
        "bedrag",
        "totaal",
        "valor",
        "subtotal",
        "net amount",
        "ext. price",
        "extended",
        "nettobetrag",
        "nettowert",
        "entgelt",
        "line amount",
        "total ht",
        "montant ht",
        "gesamtbetrag",
        "line total",
        "netto",
    ),
}
_WORD_COLUMN = {word: column for column, words in COLUMN_WORDS.items() for word in words}
# A header that names a tax rate and a tax amount heads the VAT breakdown, not the items.
_TAX_SUMMARY_HEADER = re.compile(
    r"(?<![\w])(?:steuerbetrag|mwst-?\s?betrag|ust-?\s?betrag|vat\s+amount|tax\s+amount"
    r"|montant\s+(?:de\s+la\s+)?tva|btw\s?bedrag|importe\s+iva|cuota|imposta)(?![\w])"
)
# A header word over item positions: "#", "No.", "Pos.", "Nr", "N°".
_POSITION_MARK = re.compile(r"^(?:#|no\.?|nr\.?|pos\.?|n[°º]|lfd\.?|item\s?#)$")
# "Pr. unit.", "P.unit", "Prix unit.", "Precio unit": a unit price, not a unit of measure.
_UNIT_PRICE_ABBREVIATION = re.compile(
    r"^(?:p|pr|prix|precio|prezzo|preco|preis|importe|importo|montant|valor|price)\.?\s?"
    r"unit(?:\.|ario|aire|ari[oa])?$"
)
# "Importo IVA", "Montant TVA", "VAT amount": in an item table, each line's VAT.
_LINE_TAX_AMOUNT = re.compile(
    r"(?:importo|importe|montant|valor|bedrag|betrag)\s+(?:iva|tva|btw|mwst|ust|vat|gst)"
    r"|(?:vat|tax|gst)\s+amount|(?:mwst|ust)-?\s?betrag|btw[\s-]?bedrag"
    r"|steuerbetrag|cuota\s+iva|imposta"
)
# Columns from which a header naming a VAT amount is an item table's, not the breakdown's.
_WIDE_TABLE_COLUMNS = 6
# "GTIN: 4012345001235", "Verpackung : Flasche": an item detail under the description.
_DETAIL_LINE = re.compile(r"^[^\W\d]{3}[\w.\-/ ]{0,26}\s?:\s?\S")
# A catalogue code before the name: digits and capitals only ("TB100A4", "4012345001235").
_RATE_WORD = re.compile(r"^\d{1,2}(?:[.,]\d{1,2})?\s?%$")
_CODE_TOKEN = re.compile(r"^(?=[^a-z]*\d)[A-Z0-9][A-Z0-9./\-_]{3,}$")
_TOTAL_ROW = re.compile(
    r"(?<![\w])(?:total|totals|totaal|totale|summe|gesamt\w*|\w*summe|montant\s+ttc|tva|vat|tax"
    r"|mwst|ust|iva|btw|balance|amount\s+due|net\s+a\s+payer|zahlbetrag|endbetrag"
    # net sums under the items: "Positionen netto", "Nettobetrag", "Net total"
    r"|netto|nettobetrag|net\s+(?:total|amount))(?![\w])"
)
# The sum carried from one page to the next: the items go on after it.
_CARRIED_ROW = re.compile(
    r"(?<![\w])(?:(?:carried|brought)\s+forward|ubertrag|a\s+reporter|report|riporto"
    r"|transporte)(?![\w])"
)
_SUBTOTAL_ROW = re.compile(
    r"(?<![\w])(?:sub-?\s?total|zwischensumme|sous-?\s?total"
    r"|subtotaal|subtotale)(?![\w])|" + _CARRIED_ROW.pattern
)
_DATE_TOKEN = re.compile(r"(?<!\d)\d{1,2}[./-]\d{1,2}[./-]\d{2,4}(?!\d)")
# An allowance or charge label opening a line: "Remise :", "Discount -", "Zuschlag:".
_ALLOWANCE = re.compile(
    r"(?:remise|rabais|discount|allowance|rabatt|nachlass|abschlag|zuschlag|surcharge|charge"
    r"|sconto|descuento|korting|toeslag)\s?[:\-]"
)
_PRICE_DETAIL = re.compile(r":\s?-?\d+[.,]\d")
# A leading catalogue code in brackets or asterisks ("[FURN_7777] Office Chair").
_LEADING_CODE = re.compile(r"^(?:\[[^\]]{1,30}\]|\*[^*\s]{1,30}\*)\s+")


@dataclass
class Column:
    kind: str
    x0: float
    x1: float
    percent: bool = False  # the header says "%": "Disc. %" holds rates, not amounts


# Columns whose numbers are neither a quantity, a price nor the line total ("other": a
# gross amount or the line's VAT beside the net total, known by the arithmetic).
_SIDE_COLUMNS = frozenset({"unit", "tax_rate", "discount", "date", "other"})
# Columns whose contents are never read as numbers.
_TEXT_COLUMNS = ("description", "code", "unit", "date")
# VAT rates in use; a bare number in a VAT column that is one of these is the rate, any
# other number there is the line's VAT amount.
_STANDARD_RATES = frozenset(
    Decimal(rate)
    for rate in [
        "0",
        "2.1",
        "2.5",
        "3",
        "4",
        "5",
        "5.5",
        "6",
        "7",
        "7.7",
        "8",
        "8.1",
        "9",
        "10",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
        "20",
        "21",
        "22",
        "23",
        "24",
        "25",
        "27",
    ]
)


@dataclass
class Table:
    columns: list[Column]
    header: Line
    whole_amounts: bool = False  # line totals printed without decimals ("$12,500")

    def column(self, kind: str) -> Column | None:
        return next((column for column in self.columns if column.kind == kind), None)

    @property
    def description_left(self) -> float:
        description = self.column("description")
        if description is None:
            return float("-inf")
        others_left = [c for c in self.columns if c.x1 <= description.x0 + 1]
        if not others_left:
            return float("-inf")
        # A right-aligned or centred header ("#  Date  Description") stands right of where
        # its descriptions start: halfway from the column before, but not past a step and a
        # half of the header's height (a code or position set just left stays out).
        before = max(c.x1 for c in others_left)
        height = self.header.height
        return min(
            description.x0 - 0.6 * height,
            max((before + description.x0) / 2, description.x0 - 1.5 * height),
        )

    @property
    def numbers_left(self) -> float:
        """Where the numeric columns begin: the description ends before this."""
        description = self.column("description")
        start = description.x1 if description else float("-inf")
        numeric = [
            c.x0 for c in self.columns if c.kind not in ("description", "code") and c.x0 > start
        ]
        return min(numeric) if numeric else float("inf")


@dataclass
class Row:
    anchor: Line
    description: list[str] = field(default_factory=list)
    last_y1: float = 0.0
    quantity: Decimal | None = None
    unit: str | None = None
    unit_price: Decimal | None = None
    total: Decimal | None = None
    tax_rate: Decimal | None = None
    tax_amount: Decimal | None = None
    discount_percent: Decimal | None = None
    discount_amount: Decimal | None = None


def column_kind(text: str) -> str | None:
    """The column a header word names: "Preis/Einh €" is a unit price, "Gesamt €" an
    amount, "(EUR)" and other decorations are ignored."""
    folded = fold(text).strip(" :-*")
    folded = re.sub(r"\s*(?:\((?:eur|usd|chf|gbp|%)\)|[€$£%]|eur|usd)$", "", folded).strip(" :-*")
    if not folded:
        return None
    kind = _WORD_COLUMN.get(folded) or _WORD_COLUMN.get(folded.rstrip("."))
    if kind is None and "/" in folded:
        # "Preis/Einh", "Product / Service": the first word names the column
        kind = _WORD_COLUMN.get(folded.split("/")[0].strip())
    if kind is None and _UNIT_PRICE_ABBREVIATION.match(folded):
        kind = "unit_price"
    if " " in folded and _LINE_TAX_AMOUNT.fullmatch(folded):
        kind = "other"  # the line's VAT amount beside its net total, not the total
    return kind


def _one_phrase(words: list[Word]) -> bool:
    """Whether the words stand as close as the words of one header phrase."""
    return all(
        word.x0 - previous.x1 <= PHRASE_GAP_RATIO * max(previous.height, word.height, 1.0)
        for previous, word in pairwise(words)
    )


def _misread_column_kind(text: str) -> str | None:
    """The column an OCR'd header word names when one letter of it was misread
    ("Deseription", "Totai"): only long words, where one wrong letter leaves no doubt."""
    folded = fold(text).strip(" :-*")
    if len(folded) < 5 or not folded.isalpha():
        return None
    kinds = {
        kind
        for word, kind in _WORD_COLUMN.items()
        if len(word) == len(folded)
        and word.isalpha()
        and sum(a != b for a, b in zip(word, folded, strict=True)) == 1
    }
    return kinds.pop() if len(kinds) == 1 else None


def header_columns(line: Line) -> list[Column]:
    """The table columns a line names, or [] when it is not a table header."""
    tax_summary = bool(_TAX_SUMMARY_HEADER.search(fold(line.text)))
    columns: list[Column] = []
    words = line.words
    index = 0
    while index < len(words):
        matched = None
        # Three- and two-word headers first ("Unit Price", "Prix unitaire", "Nom & désignation").
        for length in (3, 2, 1):
            if index + length > len(words):
                continue
            span = words[index : index + length]
            if not _one_phrase(span):
                continue  # "Montant    TVA": two headers, not the line's VAT amount
            kind = column_kind(" ".join(word.text for word in span))
            if kind is None and length == 1 and span[0].confidence < 1.0:
                kind = _misread_column_kind(span[0].text)
            if kind is not None:
                matched = (kind, length)
                break
        if matched is None:
            index += 1
            continue
        kind, length = matched
        span = words[index : index + length]
        percent = "%" in " ".join(word.text for word in span)
        if not percent and index + length < len(words) and words[index + length].text == "%":
            percent, span = True, words[index : index + length + 1]
            length += 1
        columns.append(Column(kind, span[0].x0, span[-1].x1, percent))
        index += length
    # A VAT amount column beside the items' names and quantities ("Montant TVA" in a
    # table of items) does not make a VAT breakdown.
    if tax_summary and not {"description", "quantity"} <= {c.kind for c in columns}:
        return []
    return _settle_columns(columns)


def _settle_columns(columns: list[Column]) -> list[Column]:
    """One column per kind. A second amount-like column left of the description counts the
    items ("Amount | Product | ... | Total"): line totals never come before the name."""
    columns = _join_item_and_description(columns)
    for column in columns:
        if column.kind == "item":
            column.kind = (
                "code" if any(c.kind == "description" for c in columns) else ("description")
            )
    description = next((c for c in columns if c.kind == "description"), None)
    amounts = [c for c in columns if c.kind == "amount"]
    if description is not None and len(amounts) > 1:
        for column in amounts:
            if column.x1 <= description.x0 and not any(c.kind == "quantity" for c in columns):
                column.kind = "quantity"
    settled: list[Column] = []
    for column in columns:
        same = next((c for c in settled if c.kind == column.kind), None)
        if same is None:
            settled.append(column)
        elif column.kind == "amount" and column.x0 > same.x0:
            settled[settled.index(same)] = column  # the rightmost amount is the line total
    kinds = {column.kind for column in settled}
    numeric = kinds - {"description", "code"} - _SIDE_COLUMNS
    if ("description" in kinds and numeric) or len(numeric) >= 3:
        return sorted(settled, key=lambda column: column.x0)
    return []


def _join_item_and_description(columns: list[Column]) -> list[Column]:
    """An item word right before the description word ("Product Description", "Item
    details") names one column, not a code column and a description column."""
    joined: list[Column] = []
    for column in columns:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and previous.kind == "item"
            and column.kind == "description"
            # one word space apart: a header phrase, not two columns
            and column.x0 - previous.x1 < 0.5 * max(column.x1 - column.x0, 1.0) / 3
        ):
            joined[-1] = Column("description", previous.x0, column.x1)
            continue
        joined.append(column)
    return joined


def _widen_with_neighbours(table: Table, lines: list[Line], position: int) -> None:
    """Headers are often two or three lines high ("Positions-" / "betrag"): columns named
    on the lines just above or below the header line count too."""
    header = table.header
    for other in lines[max(0, position - 3) : position + 4]:
        if other is header or other.page != header.page:
            continue
        if abs(other.y0 - header.y0) > 2.2 * header.height:
            continue
        if find_amounts(other.text):
            continue  # an item row close under the header: "Consulting services  5  ..."
        for word in other.words:
            kind = column_kind(word.text)
            # Side columns are named on the header line itself; a "Korting" in the first
            # row is an item's word, not a discount column.
            if kind and kind not in _SIDE_COLUMNS and table.column(kind) is None:
                table.columns.append(Column(kind, word.x0, word.x1))
    table.columns.sort(key=lambda column: column.x0)


def _column_of(table: Table, x0: float, x1: float) -> Column | None:
    """The numeric column a number sits in: the one it overlaps most, else the one whose
    right edge is nearest (numbers are right-aligned under their headers)."""
    numeric = [c for c in table.columns if c.kind not in _TEXT_COLUMNS]
    best, best_overlap = None, 0.0
    for column in numeric:
        overlap = min(x1, column.x1 + 2) - max(x0, column.x0 - 2)
        if overlap > best_overlap:
            best, best_overlap = column, overlap
    if best is None and numeric:
        nearest = min(numeric, key=lambda c: abs(c.x1 - x1))
        # Only the amount column must be hit squarely: a stray number far from it (a
        # discount base under the line) must not start a row.
        if nearest.kind != "amount":
            best = nearest
    return best


def _amounts_with_x(
    line: Line, decimal_separator: str | None
) -> list[tuple[AmountMatch, float, float]]:
    found = []
    for amount in find_amounts(line.text, decimal_separator):
        words = line.words_in_span(amount.start, amount.end)
        if words:
            found.append((amount, words[0].x0, words[-1].x1))
    return found


def _description_words(table: Table, line: Line) -> list[str]:
    left, right = table.description_left, table.numbers_left
    words = [word for word in line.words if word.x0 >= left and word.x_center < right - 2]
    if words and _is_position(table, words[0]):
        words = words[1:]
    return [word.text for word in words]


def _is_position(table: Table, word: Word) -> bool:
    """The item's position ("1", "12") printed under a "#" or "Pos." header left of the
    description's, read with the name when the two stand close together."""
    description = table.column("description")
    if description is None or not word.text.isdigit() or len(word.text) > 3:
        return False
    if word.x1 > description.x0:
        return False
    return any(
        w.x1 <= description.x0 and _POSITION_MARK.match(fold(w.text)) for w in table.header.words
    )


def _start_row(table: Table, line: Line, decimal_separator: str | None) -> Row | None:
    every = _amounts_with_x(line, decimal_separator)
    dates = [c for c in table.columns if c.kind == "date"]
    if dates:
        # "01.04.2026" in a date column is no number of the row.
        every = [
            (a, x0, x1)
            for a, x0, x1 in every
            if not any(overlap_x(x0, x1, c.x0, c.x1) > 0 for c in dates)
        ]
    amounts = [
        (a, x0, x1)
        for a, x0, x1 in every
        if (x0 + x1) / 2 >= table.numbers_left - 0.5 * line.height
    ]
    # A count printed before the name ("400,00  Luftballon ...") only joins the arithmetic.
    before_name = [a for a, x0, x1 in every if (x0 + x1) / 2 < table.description_left]
    if not amounts:
        return None
    amount_column = table.column("amount")
    by_column: dict[str, AmountMatch] = {}
    kinds: dict[int, str] = {}
    for amount, x0, x1 in amounts:
        column = _column_of(table, x0, x1)
        if column is not None:
            if column.kind == "amount":
                # Two numbers under one total header ("VAT % Line Amount" read as one
                # phrase): the line total is the rightmost.
                by_column[column.kind] = amount
            else:
                by_column.setdefault(column.kind, amount)
            kinds[id(amount)] = column.kind
    side = {id(a) for a in by_column.values() if kinds.get(id(a)) in _SIDE_COLUMNS}
    amounts = [(a, x0, x1) for a, x0, x1 in amounts if id(a) not in side] or amounts
    total = by_column.get("amount")
    if total is None:
        last = amounts[-1][0]
        if amount_column is not None or not last.has_decimals:
            return None
        total = last
    if (
        not total.has_decimals
        and not table.whole_amounts
        and not ("quantity" in by_column and "unit_price" in by_column)
    ):
        return None
    row = Row(anchor=line, last_y1=line.y1, total=total.value)
    quantity = by_column.get("quantity")
    price = by_column.get("unit_price")
    if quantity is not None:
        row.quantity = quantity.value
        after = line.text[quantity.end :].split()
        if after and re.fullmatch(r"[^\d\s]{1,8}", after[0]) and after[0] not in ("%", "x"):
            row.unit = after[0]
    if price is not None and price is not total:
        row.unit_price = price.value
    if quantity is not None and price is not None and price is not total:
        # A rate column squeezed against the total ("191.00  19  573.00"): when the amount
        # read as the total does not multiply out but an amount right of it does, the
        # rightmost one is the line total.
        product = quantity.value * price.value
        if abs(product - total.value) > Decimal("0.01") * max(Decimal(1), abs(quantity.value)):
            right = [a for a, _, _ in amounts if a.start > total.end and a.has_decimals]
            match = next((a for a in right if abs(a.value - product) <= Decimal("0.01")), None)
            if match is not None:
                total = match
                row.total = match.value
    others = [a for a, _, _ in amounts if a is not total] + before_name
    if (
        row.quantity is not None
        and row.unit_price is not None
        and abs(row.quantity * row.unit_price - total.value)
        > Decimal("0.01") * max(Decimal(1), abs(row.quantity))
    ):
        # The columns disagree with the arithmetic: trust a pair that multiplies out.
        columns_read = (row.quantity, row.unit_price)
        row.quantity = row.unit_price = None
        _infer_quantity_and_price(row, others, kinds)
        if row.quantity is None:
            row.quantity, row.unit_price = columns_read
    if row.quantity is None or row.unit_price is None:
        _infer_quantity_and_price(row, others, kinds)
    rates = find_percentages(line.text)
    if rates:
        row.tax_rate = rates[-1]
    _read_side_columns(table, line, row, by_column)
    description = _name_words(table, line)
    if description:
        row.description.append(" ".join(description))
    return row


def _read_side_columns(
    table: Table, line: Line, row: Row, by_column: dict[str, AmountMatch]
) -> None:
    """Unit, VAT rate (or amount) and discount from the columns that name them."""
    unit_column = table.column("unit")
    if unit_column is not None:
        words = [
            word.text
            for word in line.words
            if overlap_x(word.x0, word.x1, unit_column.x0 - 4, unit_column.x1 + 4) > 0
            and not any(ch.isdigit() for ch in word.text)
        ]
        if words and len(words) <= 2:
            row.unit = " ".join(words)
    tax = by_column.get("tax_rate")
    if tax is not None:
        percent = table.column("tax_rate").percent or _followed_by_percent(line, tax)  # type: ignore[union-attr]
        if percent or tax.value in _STANDARD_RATES:
            row.tax_rate = tax.value
        else:
            row.tax_amount = tax.value
    discount = by_column.get("discount")
    if discount is not None:
        if table.column("discount").percent or _followed_by_percent(line, discount):  # type: ignore[union-attr]
            row.discount_percent = abs(discount.value)
        else:
            row.discount_amount = abs(discount.value)


def _followed_by_percent(line: Line, amount: AmountMatch) -> bool:
    return line.text[amount.end :].lstrip().startswith("%")


def _name_words(table: Table, line: Line) -> list[str]:
    """The description words of a line without the catalogue codes printed before them."""
    words = [word for word in _description_words(table, line) if not _RATE_WORD.match(word)]
    while words and _CODE_TOKEN.match(words[0]):
        words = words[1:]
    return words


def _infer_quantity_and_price(
    row: Row, others: list[AmountMatch], kinds: dict[int, str] | None = None
) -> None:
    """Without clear columns, the pair of numbers whose product is the line total. Where
    both orders multiply out, the columns decide, else the whole number is the quantity."""
    assert row.total is not None
    kinds = kinds or {}
    best: tuple[int, AmountMatch, AmountMatch] | None = None
    for quantity in others:
        for price in others:
            if price is quantity:
                continue
            if abs(quantity.value * price.value - row.total) > Decimal("0.01") * max(
                Decimal(1), abs(quantity.value)
            ):
                continue
            score = (
                2 * (kinds.get(id(quantity)) == "quantity")
                + 2 * (kinds.get(id(price)) == "unit_price")
                + (
                    quantity.value == quantity.value.to_integral_value()
                    and price.value != price.value.to_integral_value()
                )
            )
            if best is None or score > best[0]:
                best = (score, quantity, price)
    if best is not None:
        row.quantity = row.quantity if row.quantity is not None else best[1].value
        row.unit_price = row.unit_price if row.unit_price is not None else best[2].value


def _is_total_row(table: Table, line: Line) -> tuple[bool, bool]:
    """(is a totals row, is only a subtotal): a totals word where the description would be,
    or anywhere left of the amount when there is no description; or a description that is
    wholly a label the header fields are read by ("Warenwert:", "Bruttobetrag")."""
    text = fold(line.text)
    amounts = find_amounts(line.text)
    if not amounts:
        return False, False
    if _SUBTOTAL_ROW.search(text):
        return True, True
    description = " ".join(_description_words(table, line))
    if _TOTAL_ROW.search(text) and not _names_an_item(description):
        return True, False
    return _is_amount_label(description or line.text[: amounts[0].start]), False


# The amount labels that head no item: each names a sum of the items.
_SUM_LABEL_FIELDS = frozenset({"total_amount", "subtotal_amount", "tax_amount", "amount_due"})
# What may stand between such a label and its amount: marks, a rate, a currency.
_LABEL_TAIL = re.compile(
    r"[\s:.\-]*(?:\(?\d{1,2}(?:[.,]\d{1,2})?\s?%\)?)?[\s:]*(?:[a-z]{3}|[€$£])?[\s:]*"
)


def _is_amount_label(text: str) -> bool:
    folded = label_text(fold(text).strip())
    for label in labels_that_may_match(folded):
        if label.field in _SUM_LABEL_FIELDS:
            match = label.pattern.match(folded)
            if match and _LABEL_TAIL.fullmatch(folded, match.end()):
                return True
    return False


def _names_an_item(description: str) -> bool:
    return bool(description) and not _TOTAL_ROW.search(fold(description))


def read_tables(lines: list[Line], decimal_separator: str | None) -> tuple[list[Row], bool]:
    """All item rows of the document, and whether a table header was found at all. Tables
    are headed by known column words; where none gives a row, by a line of words over rows
    whose numbers line up under it (the roles then come from the values alone)."""
    lines = join_spaced_thousands(lines, decimal_separator)
    headers = _HeaderColumns()
    rows: list[Row] = []
    found_header = False
    for structural in (False, True):
        position = 0
        while position < len(lines):
            table = _table_at(lines, position, decimal_separator, structural, headers)
            if table is None:
                position += 1
                continue
            found_header = True
            position = _read_rows(
                table, lines, position + 1, decimal_separator, rows, headers=headers
            )
        if rows:
            break
    return rows, found_header


class _HeaderColumns:
    """`header_columns` of the lines of one document, worked out once per line: each line
    is asked whether it heads a table, and again by every table above it."""

    def __init__(self) -> None:
        self._by_line: dict[int, list[Column]] = {}  # id(line): its lines outlive this

    def names_columns(self, line: Line) -> bool:
        return bool(self._of(line))

    def columns(self, line: Line) -> list[Column]:
        return list(self._of(line))  # a copy: a table widens its own list of columns

    def _of(self, line: Line) -> list[Column]:
        found = self._by_line.get(id(line))
        if found is None:
            found = self._by_line[id(line)] = header_columns(line)
        return found


def _table_at(
    lines: list[Line],
    position: int,
    decimal_separator: str | None,
    structural: bool,
    headers: _HeaderColumns,
) -> Table | None:
    """The table headed by lines[position], its column roles checked against its rows."""
    line = lines[position]
    known = headers.columns(line) if not structural else []
    if not known and not (structural and _may_head_table(line)):
        return None
    table = Table(columns=known, header=line)
    if known:
        _widen_with_neighbours(table, lines, position)
    kinds, bounds, percents = _phrase_columns(table)
    body = _body_lines(table, lines, position, headers, structural)
    found = value_roles(kinds, bounds, body, decimal_separator, strict=structural)
    if found is None:
        return table if known else None
    roles, widened, whole = found
    columns = [
        Column(kind, x0, x1, percent)
        for kind, (x0, x1), percent in zip(roles, widened, percents, strict=True)
        if kind is not None
    ]
    settled: list[Column] = []
    for column in columns:
        if not any(c.kind == column.kind for c in settled) or column.kind in ("other", "date"):
            settled.append(column)
    return Table(columns=settled, header=line, whole_amounts=whole)


def _may_head_table(line: Line) -> bool:
    """A line of two or more phrases of words, no numbers: it may name columns. One that
    names a VAT amount heads the VAT breakdown, unless it is as wide as an item table
    ("Detalle | Cantidad | ... | Cuota IVA | Importe bruto")."""
    if any(ch.isdigit() for ch in line.text):
        return False
    count = len(phrases(line))
    if _TAX_SUMMARY_HEADER.search(fold(line.text)):
        return count >= _WIDE_TABLE_COLUMNS
    return count >= 2


def _phrase_columns(table: Table) -> tuple[list[str | None], list[tuple[float, float]], list[bool]]:
    """The header's columns as its phrases: a phrase naming one known column gives it its
    width ("Total (NOK)"), a phrase of unknown words is a column of unknown role."""
    kinds: list[str | None] = []
    bounds: list[tuple[float, float]] = []
    percents: list[bool] = []
    placed: set[int] = set()
    for phrase in phrases(table.header):
        inside = [
            c
            for c in table.columns
            if phrase.x0 - 1 <= (c.x0 + c.x1) / 2 <= phrase.x1 + 1 and id(c) not in placed
        ]
        placed.update(id(c) for c in inside)
        if len(inside) == 1:
            column = inside[0]
            before = [w for w in phrase.words if w.x1 <= column.x0]
            if before:
                # "Art-Nr-Kunde Beschreibung", "# Beschrijving": words before the known
                # one head a column of their own; decorations come after ("Total (NOK)").
                kinds.append(None)
                bounds.append((before[0].x0, before[-1].x1))
                percents.append(False)
            kinds.append(column.kind)
            bounds.append((column.x0, max(phrase.x1, column.x1)))
            percents.append(column.percent)
        elif inside:
            for column in inside:
                kinds.append(column.kind)
                bounds.append((column.x0, column.x1))
                percents.append(column.percent)
        elif len(phrase.words) > 1 and _POSITION_MARK.match(fold(phrase.words[0].text)):
            # "#  Beschrijving" set close: the positions' column, then the unknown one
            first, rest = phrase.words[0], phrase.words[1:]
            kinds += ["code", None]
            bounds += [(first.x0, first.x1), (rest[0].x0, rest[-1].x1)]
            percents += [False, "%" in phrase.text]
        else:
            kinds.append(None)
            bounds.append((phrase.x0, phrase.x1))
            percents.append("%" in phrase.text)
    for column in table.columns:
        if id(column) not in placed:
            kinds.append(column.kind)
            bounds.append((column.x0, column.x1))
            percents.append(column.percent)
    order = sorted(range(len(kinds)), key=lambda i: bounds[i][0])
    return [kinds[i] for i in order], [bounds[i] for i in order], [percents[i] for i in order]


def _body_lines(
    table: Table,
    lines: list[Line],
    position: int,
    headers: _HeaderColumns,
    structural: bool = False,
) -> list[Line]:
    """The lines under a header on its page, up to what ends a table. Under a header of
    unknown words, another line that may head a table ends it too: a letterhead line of
    three phrases must not claim the item rows under the real header."""
    header = table.header
    body: list[Line] = []
    previous = header
    for line in lines[position + 1 : position + 80]:
        if line.page != header.page or line.y0 - previous.y1 > 4 * max(header.height, 1.0):
            break
        folded = fold(line.text)
        if (
            SECTION_ENDS.match(folded)
            or _TAX_SUMMARY_HEADER.search(folded)
            or headers.names_columns(line)
        ):
            break
        if _CARRIED_ROW.search(folded) and find_amounts(line.text):
            continue  # "Report 64.398,96" under a header repeated on the next page
        if _is_total_row(table, line)[0]:
            break
        if structural and len(phrases(line)) >= 3 and _may_head_table(line):
            break
        if not body and not any(ch.isdigit() for ch in line.text):
            continue  # the header's second line
        body.append(line)
        previous = line
    return body


def _read_rows(
    table: Table,
    lines: list[Line],
    position: int,
    decimal_separator: str | None,
    rows: list[Row],
    *,
    headers: _HeaderColumns,
) -> int:
    """Rows from the header down to the end of the table; returns where reading stopped.
    Lines are first sorted into item lines (an amount in the amount column) and others,
    then each other line is given to the item it belongs to (see `_assemble_rows`)."""
    header = table.header
    band: list[tuple[Line, Row | None, bool]] = []  # (line, row it starts, is a barrier)
    while position < len(lines):
        line = lines[position]
        # A header printed last on its page heads rows on the next page: only header
        # lines lay between it and the page break.
        if (
            line.page != header.page
            and not any(row for _, row, _ in band)
            and (
                any(seen.page == header.page for seen, _, _ in band) or line.page != header.page + 1
            )
        ):
            break
        folded = fold(line.text)
        if (
            SECTION_ENDS.match(folded)
            or _TAX_SUMMARY_HEADER.search(folded)
            or headers.names_columns(line)
        ):
            break
        # A header word repeated under the header is the second line of the header.
        if (
            line.page == header.page
            and line.y0 - header.y1 < 1.5 * header.height
            and all(
                column_kind(word.text) or not any(ch.isdigit() for ch in word.text)
                for word in line.words
            )
            and not any(row for _, row, _ in band)
        ):
            position += 1
            continue
        is_total, is_subtotal = _is_total_row(table, line)
        if is_total and not is_subtotal:
            break
        if is_subtotal:
            band.append((line, None, True))
            position += 1
            continue
        band.append((line, _start_row(table, line, decimal_separator), False))
        position += 1
    rows.extend(_without_allowances(_assemble_rows(table, band, decimal_separator)))
    return position


def _without_allowances(rows: list[Row]) -> list[Row]:
    """A discount or charge on the whole invoice printed under the items ("REMISE :
    REMISE COMMERCIALE  -5,00", "Surcharge: freight  10.00") is no item: it has only an
    amount where the items of its table have a quantity and a price."""
    if not any(row.quantity is not None and row.unit_price is not None for row in rows):
        return rows
    return [
        row
        for row in rows
        if row.quantity is not None
        or row.unit_price is not None
        or not _ALLOWANCE.match(fold(clean_description(row.description) or ""))
    ]


def _assemble_rows(
    table: Table, band: list[tuple[Line, Row | None, bool]], decimal_separator: str | None
) -> list[Row]:
    """Give each line without an amount to the item it describes. Most layouts print the
    name on the amount's line and continue it below; some print it on a line just above
    the numbers ("Trennblätter A4 ... 9,90  20 Stk" over "198,00"): a line that sits closer
    to the item line under it than to the text above it leads into that item."""
    leads: dict[int, list[Line]] = {}
    led: set[int] = set()
    for index, (line, row, _) in enumerate(band):
        # An item line whose text is a detail ("Date fin : 31/12/2018") may have its name
        # printed on the line tight above, like an item line without text.
        if row is None or (row.description and not _is_detail(row.description[0])):
            continue
        below = line
        probe = index - 1
        while probe >= 0 and band[probe][1] is None and not band[probe][2]:
            candidate = band[probe][0]
            name = " ".join(_name_words(table, candidate))
            if not name or _DETAIL_LINE.match(name):
                break
            above = _text_line_above(table, band, probe)
            gap_below = below.y0 - candidate.y1
            gap_above = candidate.y0 - above.y1
            if (
                candidate.page != line.page
                or gap_below > 0.5 * candidate.height
                or (gap_below >= gap_above - 0.5)
            ):
                break
            leads.setdefault(index, []).insert(0, candidate)
            led.add(probe)
            below = candidate
            probe -= 1
    rows: list[Row] = []
    current: Row | None = None
    for index, (line, row, barrier) in enumerate(band):
        if barrier:
            current = None
            continue
        if row is not None:
            lead_lines = leads.get(index, [])
            if lead_lines:
                # The name above replaces a detail read on the item line.
                row.description[:] = [" ".join(_name_words(table, lead)) for lead in lead_lines]
                _complete_from_lead_lines(table, row, lead_lines, decimal_separator)
            rows.append(row)
            # Under a name printed above its numbers come details, not more of the name.
            current = None if lead_lines else row
            continue
        if index in led or current is None:
            continue
        # Codes stay in a continued name ("GTIN: 4012345001235 ..."): only a leading code on
        # the item line is a separate column's value.
        description = [
            word for word in _description_words(table, line) if not _RATE_WORD.match(word)
        ]
        # A row whose numbers stand alone takes its description from a line a little
        # further away than a description's own next line would be.
        reach = 0.6 if current.description else 1.0
        close = (
            line.page == current.anchor.page and line.y0 - current.last_y1 <= reach * line.height
        )
        # "Bruttopreis :170,00" or "GTIN: 4012345001235" under an item is a detail of it,
        # not its description.
        if (
            _PRICE_DETAIL.search(line.text)
            or _DETAIL_LINE.match(" ".join(description))
            or _in_smaller_print(table, line, current.anchor)
        ):
            current = None
        elif description and close:
            current.description.append(" ".join(description))
            current.last_y1 = line.y1
        elif description:
            current = None
    return rows


def _in_smaller_print(table: Table, line: Line, anchor: Line) -> bool:
    """Whether a line under an item is printed smaller than the item's name: notes and
    bullet lists of details set in small print, not more of the name. Only a text layer
    gives font sizes; the heights of OCR boxes vary with the letters in them."""
    if any(word.confidence < 1.0 for word in (*line.words, *anchor.words)):
        return False
    left, right = table.description_left, table.numbers_left
    names = [word.height for word in anchor.words if left <= word.x0 and word.x_center < right]
    if not names:
        return False
    return line.height < 0.9 * median(names)


def _is_detail(text: str) -> bool:
    """A detail of an item rather than its name: "Label : value" or a service period
    ("Période de 01/12/2018 au 31/12/2018", "01.07.2024 - 31.07.2024")."""
    return bool(_DETAIL_LINE.match(text)) or len(_DATE_TOKEN.findall(text)) >= 2


def _text_line_above(table: Table, band: list[tuple[Line, Row | None, bool]], index: int) -> Line:
    """The nearest line above band[index] that has description text (or an item), else
    the header: code-only lines ("# ligne BC: 1") do not compete for a name."""
    for probe in range(index - 1, -1, -1):
        line, row, _ = band[probe]
        if row is not None or _name_words(table, line):
            return line
    return table.header


def _complete_from_lead_lines(
    table: Table, row: Row, lead_lines: list[Line], decimal_separator: str | None
) -> None:
    """Quantity and price printed on the name's line, above the total."""
    if row.quantity is not None and row.unit_price is not None:
        return
    found: list[AmountMatch] = []
    kinds: dict[int, str] = {}
    for line in lead_lines:
        for amount, x0, x1 in _amounts_with_x(line, decimal_separator):
            if (x0 + x1) / 2 < table.numbers_left - 0.5 * line.height:
                continue
            found.append(amount)
            column = _column_of(table, x0, x1)
            if column is not None:
                kinds[id(amount)] = column.kind
        if row.tax_rate is None:
            rates = find_percentages(line.text)
            row.tax_rate = rates[-1] if rates else None
    row.quantity = row.unit_price = None
    _infer_quantity_and_price(row, found, kinds)


def clean_description(parts: list[str]) -> str | None:
    text = " ".join(parts).strip()
    text = _LEADING_CODE.sub("", text)
    return text or None


def line_items_from_rows(
    rows: list[Row], currency: str | None, *, misread_signs_against: Decimal | None = None
) -> list[dict[str, Any]]:
    """The rows as the contract shows line items, built by the same function as the items of
    UBL and CII invoices so that every source gives one shape. `misread_signs_against`: the
    subtotal of an OCR'd page, to check the items' minuses by (`restore_misread_signs`)."""
    amounts = AmountReader(currency, [])
    described = [(row, clean_description(row.description)) for row in rows]
    described = [
        (row, text) for row, text in described if text is not None or row.quantity is not None
    ]
    if misread_signs_against is not None:
        restore_misread_signs([row for row, _ in described], misread_signs_against)
    return [
        line_item(
            amounts,
            description=description,
            quantity=_text(row.quantity),
            unit=row.unit,
            unit_price=_text(row.unit_price),
            price_base_quantity=None,
            total_price=_text(row.total),
            tax_rate=_text(row.tax_rate),
            tax_amount=_text(row.tax_amount),
            discount_percent=_text(row.discount_percent),
            discount_amount=None
            if row.discount_amount is None
            else money.to_minor_units(row.discount_amount, currency),
        )
        for row, description in described
    ]


def restore_misread_signs(rows: list[Row], lines_sum: Decimal) -> None:
    """OCR reads a rule or a speck before an amount as a minus ("-320,00"). When the rows'
    totals miss `lines_sum` (what the page says they add up to) and turning exactly one set
    of the negative totals positive (one of them, or all) makes them add up, those minuses
    were never printed: the rows are corrected in place. A real credit line, whose minus
    the sum confirms, is left alone."""
    totals = [row.total for row in rows if row.total is not None]
    if not rows or len(totals) != len(rows):
        return
    missing = lines_sum - sum(totals)
    negatives = [(row, total) for row, total in zip(rows, totals, strict=True) if total < 0]
    if missing <= 0 or not negatives:
        return
    choices = [[negative] for negative in negatives] + ([negatives] if len(negatives) > 1 else [])
    fitting = [chosen for chosen in choices if -2 * sum(t for _, t in chosen) == missing]
    if len(fitting) != 1:
        return
    for row, total in fitting[0]:
        row.total = -total
        if row.unit_price is not None and row.unit_price < 0:
            row.unit_price = -row.unit_price


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def extract_line_items(
    lines: list[Line], decimal_separator: str | None, currency: str | None
) -> list[dict[str, Any]]:
    """The document's line items as the contract shows them (prices in minor units)."""
    rows, _ = read_tables(lines, decimal_separator)
    return line_items_from_rows(rows, currency)
