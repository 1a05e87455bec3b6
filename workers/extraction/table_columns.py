"""Column roles of an item table read from the values under the header, not only from its
words: the three numeric columns whose values multiply out row by row (quantity × unit
price = line total) are the quantity, the price and the total; a column of percentages is
the tax rate, a column of dates a service date, the column with the most words the
description. Header words unknown to `line_items.COLUMN_WORDS` ("Designação", "Montante",
"Valor líquido") then still head a table, and a header whose words mislead ("Unit Price |
Quantity | Price") is corrected by its rows.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal

from workers.extraction.dates import find_dates
from workers.extraction.layout import PHRASE_GAP_RATIO, Line, Word, phrases
from workers.extraction.numbers import find_amounts

# Kinds whose column holds numbers that take part in the arithmetic.
ARITHMETIC = ("quantity", "unit_price", "amount")


@dataclass
class Cell:
    row: int
    x0: float
    x1: float
    kind: str  # "number", "percent", "date" or "words"
    value: Decimal | None = None
    has_decimals: bool = False
    text: str = ""

    @property
    def number(self) -> Decimal:
        return self.value if self.value is not None else Decimal(0)


@dataclass
class ColumnCells:
    cells: list[Cell] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for cell in self.cells if cell.kind == kind)

    def numbers(self) -> dict[int, Cell]:
        found: dict[int, Cell] = {}
        for cell in self.cells:
            if cell.kind == "number":
                found.setdefault(cell.row, cell)
        return found


def line_cells(line: Line, row: int, decimal_separator: str | None) -> list[Cell]:
    """A line cut into cells: numbers (with their x-extent), percentages, dates and runs
    of words."""
    cells: list[Cell] = []
    taken: set[int] = set()
    for phrase in phrases(line):
        text = phrase.text
        dates = find_dates(text)
        if dates and sum(d.end - d.start for d in dates) >= 0.6 * len(text.replace(" ", "")):
            cells.append(Cell(row, phrase.x0, phrase.x1, "date", text=text))
            taken.update(id(word) for word in phrase.words)
    for amount in find_amounts(line.text, decimal_separator, include_percentages=True):
        words = line.words_in_span(amount.start, amount.end)
        if not words or any(id(word) in taken for word in words):
            continue
        percent = line.text[amount.end :].lstrip().startswith("%") or amount.raw.endswith("%")
        end_words = words
        if percent:
            after = [w for w in line.words if w.x0 >= words[-1].x1 and w.text.startswith("%")]
            end_words = words + after[:1]
            taken.update(id(word) for word in after[:1])
        taken.update(id(word) for word in words)
        cells.append(
            Cell(
                row,
                words[0].x0,
                end_words[-1].x1,
                "percent" if percent else "number",
                amount.value,
                amount.has_decimals,
                amount.raw,
            )
        )
    rest = [word for word in line.words if id(word) not in taken]
    for group in _word_groups(rest):
        text = " ".join(word.text for word in group)
        if any(ch.isalpha() for ch in text):
            cells.append(Cell(row, group[0].x0, group[-1].x1, "words", text=text))
    return cells


def _word_groups(words: list[Word]) -> list[list[Word]]:
    groups: list[list[Word]] = []
    for word in words:
        if groups and word.x0 - groups[-1][-1].x1 <= 0.75 * max(word.height, 1.0):
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def assign_cells(
    bounds: list[tuple[float, float]], cells: list[Cell], height: float, strict: bool
) -> list[ColumnCells]:
    """Each cell to the column it overlaps most; without overlap (a value wider or offset
    from its header), to the column whose edge is nearest, unless `strict`."""
    columns = [ColumnCells() for _ in bounds]
    for cell in cells:
        best, best_overlap = None, 0.0
        for index, (x0, x1) in enumerate(bounds):
            overlap = min(cell.x1, x1 + 2) - max(cell.x0, x0 - 2)
            if overlap > best_overlap:
                best, best_overlap = index, overlap
        if best is None and not strict:
            distances = [
                (min(abs(cell.x1 - x1), abs(cell.x0 - x0)), index)
                for index, (x0, x1) in enumerate(bounds)
            ]
            distance, index = min(distances)
            if distance < 3 * height:
                best = index
        if best is not None:
            columns[best].cells.append(cell)
    return columns


def multiplies(quantity: Decimal, price: Decimal, total: Decimal) -> bool:
    return abs(quantity * price - total) <= Decimal("0.01") * max(
        Decimal(1), abs(quantity)
    ) + Decimal("0.005")


def arithmetic_roles(
    columns: list[ColumnCells], candidates: list[int], discounts: list[int]
) -> tuple[int, int, int] | None:
    """(quantity, unit price, total) column indexes whose values multiply out in most rows
    that print all three (a discount in percent taken off where a discount column is)."""
    numbers = {index: columns[index].numbers() for index in candidates}
    discount_values = [
        {cell.row: cell.value for cell in columns[i].cells if cell.value is not None}
        for i in discounts
    ]
    best: tuple[tuple[int, ...], tuple[int, int, int]] | None = None
    for q, p, t in itertools.permutations(candidates, 3):
        rows = set(numbers[q]) & set(numbers[p]) & set(numbers[t])
        if not rows:
            continue
        hits = 0
        for row in rows:
            quantity, price = numbers[q][row].number, numbers[p][row].number
            total = numbers[t][row].number
            if multiplies(quantity, price, total):
                hits += 1
                continue
            for values in discount_values:
                rate = values.get(row)
                if rate is not None and multiplies(quantity, price * (1 - abs(rate) / 100), total):
                    hits += 1
                    break
        if hits == 0 or hits * 2 < len(rows):
            continue
        whole = sum(
            1 for cell in numbers[q].values() if cell.number == cell.number.to_integral_value()
        )
        # Equal counts: quantities are whole numbers, and the total is printed last.
        score = (hits, int(t > p and t > q), whole, int(q < p))
        if best is None or score > best[0]:
            best = (score, (q, p, t))
    return None if best is None else best[1]


def value_roles(
    kinds: list[str | None],
    bounds: list[tuple[float, float]],
    body: list[Line],
    decimal_separator: str | None,
    strict: bool,
) -> tuple[list[str | None], list[tuple[float, float]], bool] | None:
    """The role of each header column from the values under it: `kinds` holds the role
    its header words name (None for unknown words). Returns the roles, the column bounds
    widened to their values, and whether line totals are printed without decimals; None
    when the rows show no description with an amount."""
    if not body:
        return None
    height = body[0].height
    cells = [
        cell for row, line in enumerate(body) for cell in line_cells(line, row, decimal_separator)
    ]
    columns = assign_cells(bounds, cells, height, strict)
    kinds = list(kinds)  # a copy: the caller's list stays as it was
    rows = len(body)
    for index, column in enumerate(columns):
        if not column.cells:
            continue
        dates, percents = column.count("date"), column.count("percent")
        numbers, words = column.count("number"), column.count("words")
        if kinds[index] == "unit" and numbers > words:
            kinds[index] = None  # a header read as "unit" over prices: the values decide
        if dates > max(numbers, words, percents) and kinds[index] != "description":
            kinds[index] = "date"
        elif kinds[index] is None and percents > max(numbers, words):
            kinds[index] = "tax_rate" if "tax_rate" not in kinds else "discount"
        elif kinds[index] is None and words > numbers + percents:
            kinds[index] = "words"
    for index, column in enumerate(columns):
        values = [cell.number for cell in column.numbers().values()]
        if kinds[index] is None and len(values) >= 2 and values == list(range(1, len(values) + 1)):
            kinds[index] = "code"  # positions 1, 2, 3 ...
    numeric = [
        index
        for index, column in enumerate(columns)
        if kinds[index] in (*ARITHMETIC, None) and column.count("number") > 0
    ]
    discounts = [index for index, kind in enumerate(kinds) if kind == "discount"]
    roles = arithmetic_roles(columns, numeric, discounts) if len(numeric) >= 3 else None
    if roles is not None:
        for index in numeric:
            kinds[index] = "other"
        for index, kind in zip(roles, ARITHMETIC, strict=True):
            kinds[index] = kind
    else:
        for index in numeric:
            if kinds[index] is None:
                kinds[index] = "pending"
        if "amount" not in kinds:
            pending = [i for i in numeric if kinds[i] in ("pending", "unit_price")]
            if pending:
                last = max(pending, key=lambda i: bounds[i][1])
                kinds[last] = "amount"
        for index in numeric:
            if kinds[index] != "pending":
                continue
            cells = list(columns[index].numbers().values())
            small_whole = all(
                cell.value is not None
                and cell.number == cell.number.to_integral_value()
                and abs(cell.number) < 10000
                for cell in cells
            )
            if small_whole and "quantity" not in kinds:
                kinds[index] = "quantity"
            elif "unit_price" not in kinds and "quantity" in kinds:
                kinds[index] = "unit_price"
            else:
                kinds[index] = "other"
    for index, column in enumerate(columns):
        if kinds[index] == "code" and not column.cells:
            kinds[index] = None  # "Item" over names that run on under "Description"
    _choose_description(kinds, columns)
    description = kinds.index("description") if "description" in kinds else None
    for index, role in enumerate(kinds):
        if role in (None, "words"):
            if not columns[index].cells:
                kinds[index] = None
            elif description is not None and index < description:
                kinds[index] = "code"
            elif columns[index].count("words"):
                kinds[index] = "unit"
            else:
                kinds[index] = None
    if description is None or "amount" not in kinds:
        return None
    amount = columns[kinds.index("amount")].numbers()
    described = {cell.row for cell in columns[description].cells if cell.kind == "words"}
    if not (set(amount) & described) and not (set(amount) and rows <= 3):
        return None
    whole = sum(1 for cell in amount.values() if not cell.has_decimals)
    # Without known header words, only rows that look like items make a table: names
    # with amounts in two rows, or amounts with decimals.
    if strict and len(set(amount) & described) < 2 and whole * 2 >= len(amount):
        return None
    widened = []
    for (x0, x1), column, role in zip(bounds, columns, kinds, strict=True):
        # Codes and names keep their header's place: the description starts after them.
        placed = [
            cell
            for cell in column.cells
            if cell.kind != "words" and role not in ("description", "code", "unit")
        ]
        widened.append((min([x0] + [c.x0 for c in placed]), max([x1] + [c.x1 for c in placed])))
    return kinds, widened, bool(amount) and whole * 2 > len(amount)


def _choose_description(kinds: list[str | None], columns: list[ColumnCells]) -> None:
    """The description is the column with the most words. A header naming it is taken at
    its word unless another column holds far more text ("Articolo" over codes beside
    "Prodotto / Servizio" over names)."""

    def text_length(index: int) -> int:
        return sum(len(cell.text) for cell in columns[index].cells if cell.kind == "words")

    wordy = [
        index
        for index, kind in enumerate(kinds)
        if kind in (None, "words", "code", "description") and text_length(index)
    ]
    if not wordy:
        return
    chosen = max(wordy, key=text_length)
    named = kinds.index("description") if "description" in kinds else None
    if named is None:
        kinds[chosen] = "description"
    elif chosen != named and text_length(chosen) > 2 * text_length(named) + 10:
        kinds[named] = "code" if named < chosen else None
        kinds[chosen] = "description"


# Groups of a number printed with plain spaces between thousands ("9 942.50", "-$22 790"):
# the first group may carry a sign and a currency symbol, the last the decimals.
_GROUP_HEAD = re.compile(r"^[-−–(]?(?:[$€£¥₹]|[A-Z]{1,2}\$)?\d{1,3}$")
_GROUP_MIDDLE = re.compile(r"^\d{3}$")
_GROUP_TAIL = re.compile(r"^\d{3}(?:\.\d{1,2})?\)?$")


def join_spaced_thousands(lines: list[Line], decimal_separator: str | None) -> list[Line]:
    """The lines with numbers grouped by plain spaces read as one word each, when the
    document's item rows show that it writes them so. In a dot-decimal document
    "1 806.28" may be a quantity and a price as well as one amount: only a row whose
    quantity × price = total holds with the groups joined (and none where it holds
    with them apart) settles it, and then for every line."""
    if decimal_separator == ",":
        return lines  # `find_amounts` reads spaced groups where decimals are commas
    joined = [_joined_groups(line) for line in lines]
    confirmed = refuted = 0
    for line, candidate in zip(lines, joined, strict=True):
        if candidate is line:
            continue
        # Apart, the groups refute the joining only where they multiply with each other
        # ("1 234.50  234.50"); "4  1 289.39  10 %  4 641.80" has 4 × 1 = 4 by chance.
        groups = [word for word in candidate.words if "\u00a0" in word.text]
        apart = any(_has_product(line, decimal_separator, (group.x0, group.x1)) for group in groups)
        together = _has_product(candidate, decimal_separator)
        if together and not apart:
            confirmed += 1
        elif apart and not together:
            refuted += 1
    if confirmed == 0 or refuted:
        return lines
    return joined


def _joined_groups(line: Line) -> Line:
    """The line with each run of spaced thousands groups as one word (groups joined by a
    no-break space, which `find_amounts` reads as a thousands separator); the line itself
    when it has none."""
    words = line.words
    merged: list[Word] = []
    index = 0
    changed = False
    while index < len(words):
        end = index
        if _GROUP_HEAD.match(words[index].text):
            probe = index + 1
            while probe < len(words) and _is_next_group(words[probe - 1], words[probe]):
                end = probe
                if not _GROUP_MIDDLE.match(words[probe].text):
                    break
                probe += 1
            if end > index and not _GROUP_TAIL.match(words[end].text):
                end = index
        if end == index:
            merged.append(words[index])
            index += 1
            continue
        group = words[index : end + 1]
        merged.append(Word.spanning(group, "\u00a0".join(word.text for word in group)))
        changed = True
        index = end + 1
    if not changed:
        return line
    return Line(words=merged, page=line.page, index=line.index)


def _is_next_group(previous: Word, word: Word) -> bool:
    """Three digits set one word space after the group before them."""
    gap = word.x0 - previous.x1
    return _GROUP_TAIL.match(word.text) is not None and 0 <= gap <= PHRASE_GAP_RATIO * max(
        previous.height, word.height, 1.0
    )


def _has_product(
    line: Line, decimal_separator: str | None, within: tuple[float, float] | None = None
) -> bool:
    """Whether three numbers of the line multiply out (quantity × price = total); with
    `within`, only three of which two lie in that x-range."""
    amounts = []
    for amount in find_amounts(line.text, decimal_separator):
        words = line.words_in_span(amount.start, amount.end)
        inside = within is not None and all(
            within[0] <= word.x0 and word.x1 <= within[1] for word in words
        )
        amounts.append((amount.value, inside))
    if len(amounts) > 8:
        return False  # a line of many numbers is no item row; its products are chance
    return any(
        total[0] != 0
        and multiplies(quantity[0], price[0], total[0])
        and (within is None or quantity[1] + price[1] + total[1] >= 2)
        for quantity, price, total in itertools.permutations(amounts, 3)
    )
