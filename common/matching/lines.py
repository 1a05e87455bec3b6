"""Which invoice lines bill which quote or purchase-order lines: pure functions, no database.

An invoice rarely repeats its order line for line. Suppliers reorder lines, deliver in parts
(one ordered line billed as several: a split), bill several ordered lines as one (a merge),
rename descriptions ("Installation" becomes "Instal. incl. cabling") and change prices. The
lines are paired in four passes:

1. one to one, solved globally (the Hungarian method over a score matrix), so one strong
   pair cannot steal a line another pair needs more;
2. splits: an invoice line still unpaired joins an ordered line it describes at the same
   unit price;
3. merges: an ordered line still unpaired joins the invoice line that names it, or whose
   amount it completes;
4. uncertain: lines still open on both sides, and pairs the words do not confirm, pair by
   their figures as a last resort. Such a pair is compared like any other and also flagged
   for a person to confirm: missing an extra charge is worse than asking.

A pair's score weighs description similarity (rapidfuzz, after folding case, punctuation
and common abbreviations) with agreement of unit price, quantity and amount, so a renamed
line at the ordered price still pairs and a changed price on a well-described line too.

Money is Decimal throughout, in whatever unit the caller uses for both documents (the
service passes minor units); no float touches an amount. Scores are floats: they rank,
they are never money.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

if TYPE_CHECKING:
    import numpy as np

PRICE_ABOVE_QUOTE = "price_above_quote"
QUANTITY_ABOVE_ORDER = "quantity_above_order"
UNMATCHED_LINE = "unmatched_line"
OVER_INVOICED = "over_invoiced"
DEVIATION_CODES = (PRICE_ABOVE_QUOTE, QUANTITY_ABOVE_ORDER, UNMATCHED_LINE, OVER_INVOICED)
# The kind of a pair made only because nothing else was left to pair (see _uncertain).
UNCERTAIN = "uncertain"

# A one-to-one pair below this score is no pair: both lines stay open for the later passes.
PAIR_THRESHOLD = 0.50
# A split line must describe its ordered line at least this well, at about the same price.
SPLIT_DESCRIPTION = 0.70
SPLIT_PRICE = 0.97
# An ordered line is named inside a merged invoice line when partial_ratio reaches this.
MERGE_CONTAINED = 0.88
# Merged amounts agree within this share (rounding of the merged line).
MERGE_AMOUNT_SHARE = Decimal("0.0005")
# Lump sums: exact to this share (to the cent: suppliers add the amounts; small lines
# make up near sums by chance), searched among this many unpaired ordered lines.
LUMP_SUM_SHARE = Decimal(0)
LUMP_SUM_POOL = 12
# Below this description likeness a one-to-one pair needs exactly agreeing figures.
MIN_DESCRIPTION = 0.45
# Leftover lines pair on equal quantity, a price this close, and some likeness of words
# (more of it for a quantity of one).
LEFTOVER_PRICE = 0.75
LEFTOVER_DESCRIPTION = 0.20
LEFTOVER_DESCRIPTION_SINGLE = 0.30
# Two parts of one split delivery read at least this alike.
SIBLING_DESCRIPTION = 0.80
# Lines left over on both sides pair as a last resort (kind "uncertain") at a unit price
# at least this close: a changed price, rarely a new one.
UNCERTAIN_PRICE = 0.75
# A one-to-one pair of a single unit (see _unconfirmed) is uncertain below this likeness.
UNCONFIRMED_DESCRIPTION = 0.50

WEIGHTS = {"description": 0.55, "unit_price": 0.20, "quantity": 0.10, "amount": 0.15}

# Abbreviations suppliers use on one document and spell out on the other. Applied to both
# sides, so only the folding matters, not which side used the short form.
ABBREVIATIONS = {
    "pcs": "pieces",
    "pc": "piece",
    "pce": "piece",
    "hrs": "hours",
    "hr": "hour",
    "hrly": "hourly",
    "incl": "including",
    "inc": "including",
    "excl": "excluding",
    "w": "with",
    "svc": "service",
    "svcs": "services",
    "maint": "maintenance",
    "mgmt": "management",
    "std": "standard",
    "install": "installation",
    "instal": "installation",
    "inst": "installation",
    "config": "configuration",
    "cfg": "configuration",
    "lic": "licence",
    "license": "licence",
    "sw": "software",
    "hw": "hardware",
    "dept": "department",
    "approx": "approximately",
    "ea": "each",
    "qty": "quantity",
    "mo": "month",
    "mth": "month",
    "yr": "year",
    "sub": "subscription",
    "subscr": "subscription",
    "cons": "consulting",
    "consult": "consulting",
    "dev": "development",
    "proj": "project",
    "doc": "documentation",
    "docs": "documentation",
    "equip": "equipment",
    "ext": "external",
    "int": "internal",
    "del": "delivery",
    "deliv": "delivery",
    "ship": "shipping",
}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Line:
    """One line of an invoice, quote or order. Any figure may be missing (None)."""

    description: str
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    tax_rate: Decimal | None = None

    def price(self) -> Decimal | None:
        """The unit price, or the amount over the quantity when only those were read."""
        if self.unit_price is not None:
            return self.unit_price
        if self.amount is not None and self.quantity:
            return self.amount / self.quantity
        return None

    def total(self) -> Decimal | None:
        """The amount, or quantity times unit price when the amount was not read."""
        if self.amount is not None:
            return self.amount
        if self.unit_price is not None and self.quantity is not None:
            return self.unit_price * self.quantity
        return None


@dataclass(frozen=True)
class Tolerances:
    """How far an invoice may go beyond its order before it is flagged.

    price_percent: a unit price may exceed the ordered one by this percentage;
    quantity: the invoiced quantity of a line may exceed the ordered one by this many units;
    amount: totals may exceed the order's by this much (the caller's money unit), for
    rounding.
    """

    price_percent: Decimal = Decimal("1.00")
    quantity: Decimal = Decimal(0)
    amount: Decimal = Decimal(100)


@dataclass(frozen=True)
class Pair:
    invoice_line: int
    order_line: int
    kind: str  # "one_to_one", "split", "merge" or UNCERTAIN
    score: float


@dataclass(frozen=True)
class Deviation:
    code: str
    # "{billed}" and "{agreed}" stand for the money figures, formatted by describe()
    template: str
    invoice_line: int | None = None
    order_line: int | None = None
    billed: Decimal | None = None
    agreed: Decimal | None = None

    def describe(self, money: Callable[[Decimal], str] = str) -> str:
        """The message for people, with the money figures written by `money` (the service
        passes one that writes minor units as "82.00 EUR")."""
        return self.template.format(
            billed=money(self.billed) if self.billed is not None else "",
            agreed=money(self.agreed) if self.agreed is not None else "",
        )

    @property
    def message(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class LineMatch:
    pairs: tuple[Pair, ...]
    deviations: tuple[Deviation, ...]
    # Quantity this invoice bills per ordered line (index), for accumulating partial deliveries.
    invoiced_quantities: dict[int, Decimal] = field(default_factory=dict)

    def pair_set(self) -> set[tuple[int, int]]:
        return {(pair.invoice_line, pair.order_line) for pair in self.pairs}


def normalize_description(text: str) -> str:
    """ "Instal. incl. 10m cabling" -> "installation including 10m cabling"."""
    words = _WORD.findall(text.lower())
    return " ".join(ABBREVIATIONS.get(word, word) for word in words)


def description_similarity(a: str, b: str) -> float:
    """0..1: how alike two normalized descriptions read, word order and typos forgiven."""
    if not a or not b:
        return 0.0
    return max(fuzz.token_sort_ratio(a, b), 0.95 * fuzz.token_set_ratio(a, b)) / 100.0


def closeness(a: Decimal | None, b: Decimal | None) -> float | None:
    """1.0 for equal figures, falling with their relative difference; None if one is missing."""
    if a is None or b is None:
        return None
    largest = max(abs(a), abs(b))
    if largest == 0:
        return 1.0
    return max(0.0, 1.0 - float(abs(a - b) / largest))


def pair_score(invoice: Line, order: Line, description: float) -> float:
    """Weighted agreement of one invoice line with one ordered line; a missing figure
    counts as half agreeing, so lines without figures are judged by their words."""
    parts = {
        "description": description,
        "unit_price": closeness(invoice.price(), order.price()),
        "quantity": closeness(invoice.quantity, order.quantity),
        "amount": closeness(invoice.total(), order.total()),
    }
    return sum(WEIGHTS[name] * (0.5 if value is None else value) for name, value in parts.items())


def assign(scores: np.ndarray) -> list[tuple[int, int]]:
    """The one-to-one assignment of rows to columns with the largest total score (Hungarian
    method, O(n^3); documents have tens of lines). Rectangular matrices are padded."""
    import numpy as np  # noqa: PLC0415 - as in match_lines

    rows, cols = scores.shape
    if rows == 0 or cols == 0:
        return []
    size = max(rows, cols)
    cost = np.zeros((size, size))
    cost[:rows, :cols] = -scores
    # Potentials u (rows) and v (columns); match[j] is the row assigned to column j, 1-based
    # with column 0 as the sentinel, following the classic shortest-augmenting-path form.
    u = np.zeros(size + 1)
    v = np.zeros(size + 1)
    match = np.zeros(size + 1, dtype=int)
    way = np.zeros(size + 1, dtype=int)
    for row in range(1, size + 1):
        match[0] = row
        col0 = 0
        minv = np.full(size + 1, np.inf)
        used = np.zeros(size + 1, dtype=bool)
        while True:
            used[col0] = True
            row0 = match[col0]
            reduced = cost[row0 - 1] - u[row0] - v[1:]
            free = ~used[1:]
            better = free & (reduced < minv[1:])
            minv[1:][better] = reduced[better]
            way[1:][better] = col0
            candidates = np.where(free, minv[1:], np.inf)
            col1 = int(np.argmin(candidates)) + 1
            delta = candidates[col1 - 1]
            u[match[used]] += delta
            v[used] -= delta
            minv[1:][free] -= delta
            col0 = col1
            if match[col0] == 0:
                break
        while col0:
            col1 = way[col0]
            match[col0] = match[col1]
            col0 = col1
    return [
        (int(match[col]) - 1, col - 1)
        for col in range(1, size + 1)
        if match[col] and match[col] - 1 < rows and col - 1 < cols
    ]


def match_lines(
    invoice: Sequence[Line],
    order: Sequence[Line],
    tolerances: Tolerances | None = None,
    invoiced_before: Mapping[int, Decimal] | None = None,
) -> LineMatch:
    """Pair the invoice's lines with the order's and report what goes beyond tolerance.

    invoiced_before: quantity per ordered line already billed by earlier invoices against
    the same purchase order, so partial deliveries accumulate.
    """
    import numpy as np  # noqa: PLC0415 - not at import: most processes never match lines

    tolerances = tolerances or Tolerances()
    invoice_words = [normalize_description(line.description) for line in invoice]
    order_words = [normalize_description(line.description) for line in order]
    similarity = np.array(
        [[description_similarity(a, b) for b in order_words] for a in invoice_words]
    ).reshape(len(invoice), len(order))
    scores = np.array(
        [
            [pair_score(inv, ordered, similarity[i, j]) for j, ordered in enumerate(order)]
            for i, inv in enumerate(invoice)
        ]
    ).reshape(len(invoice), len(order))

    pairs = [
        Pair(i, j, "one_to_one", float(scores[i, j]))
        for i, j in assign(scores)
        if _acceptable(invoice[i], order[j], float(similarity[i, j]), float(scores[i, j]))
    ]
    pairs = _without_stolen_parts(invoice, similarity, pairs)
    pairs += _splits(invoice, order, similarity, invoice_words, pairs)
    pairs += _leftovers(invoice, order, similarity, pairs)
    pairs += _lump_sums(invoice, order, pairs)
    words = _Words(invoice_words, order_words)
    pairs += _merges(invoice, order, words, scores, pairs)
    pairs += _named_extras(invoice, order, words, pairs, tolerances)
    pairs += _lump_remainders(invoice, order, words, pairs, tolerances)
    # pairs the words do not confirm are reconsidered with the lines left over, so a line
    # at the ordered price can take its ordered line back from an extra charge
    unconfirmed = [
        pair
        for pair in pairs
        if pair.kind == "one_to_one"
        and _unconfirmed(
            invoice[pair.invoice_line],
            order[pair.order_line],
            float(similarity[pair.invoice_line, pair.order_line]),
        )
    ]
    pairs = [pair for pair in pairs if pair not in unconfirmed]
    uncertain = _uncertain(invoice, order, similarity, invoice_words, pairs)
    if uncertain:
        # the other part of a split delivery of a line just paired uncertainly
        uncertain += [
            Pair(pair.invoice_line, pair.order_line, UNCERTAIN, pair.score)
            for pair in _splits(invoice, order, similarity, invoice_words, pairs + uncertain)
        ]
    retaken = {pair.order_line for pair in uncertain}
    paired_invoice = {pair.invoice_line for pair in pairs + uncertain}
    pairs += uncertain
    pairs += [
        Pair(pair.invoice_line, pair.order_line, UNCERTAIN, pair.score)
        for pair in unconfirmed
        if pair.invoice_line not in paired_invoice and pair.order_line not in retaken
    ]
    pairs.sort(key=lambda pair: (pair.invoice_line, pair.order_line))
    deviations, quantities = _deviations(invoice, order, pairs, tolerances, invoiced_before or {})
    return LineMatch(tuple(pairs), tuple(deviations), quantities)


def _acceptable(invoice: Line, order: Line, description: float, score: float) -> bool:
    """A one-to-one pair needs its score and some likeness of words; lines with unrelated
    words pair only when quantity and unit price agree exactly (a supplier's own name for
    the same thing), since prices alone coincide too often."""
    if score < PAIR_THRESHOLD:
        return False
    if description >= MIN_DESCRIPTION:
        return True
    return (
        invoice.price() is not None
        and invoice.price() == order.price()
        and invoice.quantity is not None
        and invoice.quantity == order.quantity
    )


def _without_stolen_parts(
    invoice: Sequence[Line], similarity: np.ndarray, pairs: list[Pair]
) -> list[Pair]:
    """One-to-one pairs less those of a split delivery's second part: a line at the same unit
    price as another, paired with an ordered line it reads like, that the assignment gave
    to a different ordered line it reads less like (each ordered line goes to one invoice
    line there). The split pass then joins it with its sibling."""
    order_of = {pair.invoice_line: pair.order_line for pair in pairs}
    kept = []
    for pair in pairs:
        i, j = pair.invoice_line, pair.order_line
        stolen = any(
            k != i
            and invoice[i].price() is not None
            and invoice[k].price() == invoice[i].price()
            and similarity[i, other] >= SPLIT_DESCRIPTION
            and similarity[i, other] > similarity[i, j]
            for k, other in order_of.items()
        )
        if not stolen:
            kept.append(pair)
    return kept


def _splits(
    invoice: Sequence[Line],
    order: Sequence[Line],
    similarity: np.ndarray,
    invoice_words: list[str],
    pairs: list[Pair],
) -> list[Pair]:
    """Unpaired invoice lines that bill part of an ordered line: the same words and price
    as the ordered line, or as a paired invoice line billing its other part."""
    order_of = {pair.invoice_line: pair.order_line for pair in pairs}
    found = []
    for i, line in enumerate(invoice):
        if i in order_of or not len(order):
            continue
        sibling = _sibling(i, line, invoice, invoice_words, order_of)
        if sibling is not None:
            found.append(
                Pair(i, order_of[sibling], "split", float(similarity[i, order_of[sibling]]))
            )
            continue
        ranked = sorted(
            range(len(order)),
            key=lambda j: (similarity[i, j], closeness(line.price(), order[j].price()) or 0),
            reverse=True,
        )
        j = ranked[0]
        price = closeness(line.price(), order[j].price())
        words = float(similarity[i, j])
        if words >= SPLIT_DESCRIPTION and (price is None or price >= SPLIT_PRICE):
            found.append(Pair(i, j, "split", words))
        elif words >= 0.92:
            # the same words at another price: a split whose price also changed
            found.append(Pair(i, j, "split", words))
    return found


def _leftovers(
    invoice: Sequence[Line], order: Sequence[Line], similarity: np.ndarray, pairs: list[Pair]
) -> list[Pair]:
    """Lines still unpaired on both sides that bill the same quantity at a nearby price:
    the supplier's own name for the ordered thing, at a changed price ("Notebook 14-inch"
    for "Laptop 14 inch"). A quantity of one coincides too often to count without words."""
    import numpy as np  # noqa: PLC0415 - as in match_lines

    open_invoice = sorted(set(range(len(invoice))) - {pair.invoice_line for pair in pairs})
    open_order = sorted(set(range(len(order))) - {pair.order_line for pair in pairs})
    if not open_invoice or not open_order:
        return []
    scores = np.zeros((len(open_invoice), len(open_order)))
    for a, i in enumerate(open_invoice):
        for b, j in enumerate(open_order):
            line, ordered = invoice[i], order[j]
            words = float(similarity[i, j])
            price = closeness(line.price(), ordered.price())
            if (
                line.quantity is None
                or line.quantity != ordered.quantity
                or price is None
                or price < LEFTOVER_PRICE
                or (line.quantity == 1 and words < LEFTOVER_DESCRIPTION_SINGLE)
                or words < LEFTOVER_DESCRIPTION
            ):
                continue
            scores[a, b] = words + price
    return [
        Pair(open_invoice[a], open_order[b], "one_to_one", float(scores[a, b]) / 2)
        for a, b in assign(scores)
        if scores[a, b] > 0
    ]


def _unconfirmed(invoice: Line, order: Line, description: float) -> bool:
    """A single unit paired on words that barely agree with anything but a single unit at
    the same price: a quantity of one coincides too often to confirm a pair, and an extra
    charge ("Rush delivery") pairs this way with an ordered line left unbilled."""
    return (
        description < UNCONFIRMED_DESCRIPTION
        and invoice.quantity == 1
        and (order.quantity != 1 or invoice.price() != order.price())
    )


def _uncertain(
    invoice: Sequence[Line],
    order: Sequence[Line],
    similarity: np.ndarray,
    invoice_words: list[str],
    pairs: list[Pair],
) -> list[Pair]:
    """Lines still unpaired on both sides after every other pass, paired by whatever still
    agrees: a line renamed beyond recognition whose price and quantity changed too is more
    likely the open ordered line at a nearby unit price than no ordered line at all. Such a
    pair is compared like any other, and flagged for review even when its figures agree,
    since it may as well be an extra charge (see _deviations)."""
    import numpy as np  # noqa: PLC0415 - as in match_lines

    open_invoice = sorted(set(range(len(invoice))) - {pair.invoice_line for pair in pairs})
    open_order = sorted(set(range(len(order))) - {pair.order_line for pair in pairs})
    if not open_invoice or not open_order:
        return []
    split_parts = {
        i
        for i in open_invoice
        for k in open_invoice
        if k != i
        and invoice[i].price() is not None
        and invoice[i].price() == invoice[k].price()
        and description_similarity(invoice_words[i], invoice_words[k]) >= SIBLING_DESCRIPTION
    }
    scores = np.zeros((len(open_invoice), len(open_order)))
    for a, i in enumerate(open_invoice):
        for b, j in enumerate(open_order):
            line, ordered = invoice[i], order[j]
            price = closeness(line.price(), ordered.price())
            if price is None or price < UNCERTAIN_PRICE:
                continue
            if line.quantity == 1 and ordered.quantity != 1 and i not in split_parts:
                # one unit against a bulk line at a like price is how a flat fee looks,
                # unless the line is one part of a split delivery
                continue
            # words weigh most, as in pair_score; amounts follow from price and quantity
            same_quantity = line.quantity is not None and line.quantity == ordered.quantity
            scores[a, b] = 2 * float(similarity[i, j]) + price + (1.0 if same_quantity else 0.0)
    return [
        Pair(open_invoice[a], open_order[b], UNCERTAIN, float(scores[a, b]) / 4)
        for a, b in assign(scores)
        if scores[a, b] > 0
    ]


def _sibling(
    i: int,
    line: Line,
    invoice: Sequence[Line],
    invoice_words: list[str],
    order_of: Mapping[int, int],
) -> int | None:
    """A paired invoice line that reads like this one at the same unit price: the other
    part of a split delivery ("Cable (delivery 1)", "Cable (delivery 2)")."""
    best: tuple[float, int] | None = None
    for k in order_of:
        if line.price() is None or line.price() != invoice[k].price():
            continue
        words = description_similarity(invoice_words[i], invoice_words[k])
        if words >= SIBLING_DESCRIPTION and (best is None or words > best[0]):
            best = (words, k)
    return None if best is None else best[1]


def _lump_sums(invoice: Sequence[Line], order: Sequence[Line], pairs: list[Pair]) -> list[Pair]:
    """Unpaired invoice lines whose amount is exactly that of two or three unpaired ordered
    lines together: lines billed as one lump sum under words of the supplier's own."""
    paired_invoice = {pair.invoice_line for pair in pairs}
    open_orders = [j for j in range(len(order)) if order[j].total() is not None]
    open_orders = [j for j in open_orders if j not in {pair.order_line for pair in pairs}]
    found: list[Pair] = []
    for i, line in enumerate(invoice):
        total = line.total()
        if i in paired_invoice or total is None or len(open_orders) < 2:
            continue
        for size in (2, 3):
            hit = next(
                (
                    group
                    for group in combinations(open_orders[:LUMP_SUM_POOL], size)
                    if abs(total - _sum_totals(order, group)) <= abs(total) * LUMP_SUM_SHARE
                ),
                None,
            )
            if hit is not None:
                found += [Pair(i, j, "merge", 0.0) for j in hit]
                open_orders = [j for j in open_orders if j not in hit]
                break
    return found


def _sum_totals(order: Sequence[Line], group: Sequence[int]) -> Decimal:
    return sum((order[j].total() or Decimal(0) for j in group), Decimal(0))


@dataclass(frozen=True)
class _Words:
    """Both documents' normalized descriptions, by line."""

    invoice: list[str]
    order: list[str]


def _merges(
    invoice: Sequence[Line],
    order: Sequence[Line],
    words: _Words,
    scores: np.ndarray,
    pairs: list[Pair],
) -> list[Pair]:
    """Unpaired ordered lines billed inside another invoice line: named in its description,
    or completing its amount."""
    paired_orders = {pair.order_line for pair in pairs}
    orders_of: dict[int, list[int]] = defaultdict(list)
    for pair in pairs:
        orders_of[pair.invoice_line].append(pair.order_line)
    found = []
    for j, ordered in enumerate(order):
        if j in paired_orders:
            continue
        best: tuple[float, int] | None = None
        for i, line in enumerate(invoice):
            contained = _contained(words.order[j], words.invoice[i])
            # only a lump sum bills several ordered lines by amount; a line of several
            # units at a unit price bills one thing
            completes = line.quantity in (None, 1) and _completes_amount(
                line, [order[k] for k in orders_of[i]] + [ordered]
            )
            if contained < MERGE_CONTAINED and not completes:
                continue
            evidence = contained + (1.0 if completes else 0.0) + float(scores[i, j]) / 10
            if best is None or evidence > best[0]:
                best = (evidence, i)
        if best is not None:
            found.append(Pair(best[1], j, "merge", float(scores[best[1], j])))
            orders_of[best[1]].append(j)
    return found


def _named_extras(
    invoice: Sequence[Line],
    order: Sequence[Line],
    words: _Words,
    pairs: list[Pair],
    tolerances: Tolerances,
) -> list[Pair]:
    """An invoice line paired with one ordered line but billing more than it allows may bill
    another ordered line with it ("Installation and project management"), even one whose
    other part is billed elsewhere; it joins every ordered line it names."""
    orders_of: dict[int, list[int]] = defaultdict(list)
    for pair in pairs:
        orders_of[pair.invoice_line].append(pair.order_line)
    factor = 1 + tolerances.price_percent / 100
    found = []
    for i, ordered in orders_of.items():
        total, agreed = invoice[i].total(), order[ordered[0]].total()
        if len(ordered) != 1 or total is None or agreed is None or total <= agreed * factor:
            continue
        found += [
            Pair(i, k, "merge", 0.0)
            for k in range(len(order))
            if k != ordered[0] and _contained(words.order[k], words.invoice[i]) >= MERGE_CONTAINED
        ]
    return found


def _lump_remainders(
    invoice: Sequence[Line],
    order: Sequence[Line],
    words: _Words,
    pairs: list[Pair],
    tolerances: Tolerances,
) -> list[Pair]:
    """A lump sum (one unit) paired with one ordered line of several units, whose words say
    more than that line's and whose amount goes beyond it, bills another ordered line with
    it under words not recognised: the open ordered line that its remainder fits in,
    tightest first. Its amount is then compared with both together."""
    orders_of: dict[int, list[int]] = defaultdict(list)
    for pair in pairs:
        orders_of[pair.invoice_line].append(pair.order_line)
    open_orders = set(range(len(order))) - {pair.order_line for pair in pairs}
    factor = 1 + tolerances.price_percent / 100
    found = []
    for i, ordered in sorted(orders_of.items()):
        line, j = invoice[i], ordered[0]
        total, agreed = line.total(), order[j].total()
        if (
            len(ordered) != 1
            or line.quantity != 1
            or order[j].quantity in (None, 1)
            or total is None
            or agreed is None
            or total <= agreed * factor + tolerances.amount
            or len(words.invoice[i]) < len(words.order[j]) * 1.3
        ):
            continue
        fits = [
            (agreed + part - total, k)
            for k in open_orders
            if (part := order[k].total()) is not None
            and total <= (agreed + part) * factor + tolerances.amount
        ]
        if fits:
            k = min(fits)[1]
            found.append(Pair(i, k, "merge", 0.0))
            open_orders.discard(k)
    return found


def _contained(short: str, long: str) -> float:
    """How fully the ordered line's words appear inside a longer merged description."""
    if not short or len(long) < len(short) * 1.3:
        return 0.0
    return fuzz.partial_ratio(short, long) / 100.0


def _completes_amount(line: Line, ordered: list[Line]) -> bool:
    """Whether the last ordered line brings the others' amount to this line's: it must
    close a gap, not hide inside the rounding of a large amount."""
    total = line.total()
    parts = [item.total() for item in ordered]
    if total is None or len(parts) < 2 or any(part is None for part in parts):
        return False
    expected = sum((part for part in parts if part is not None), Decimal(0))
    without = expected - (parts[-1] or Decimal(0))
    gap = abs(total - expected)
    return gap <= abs(expected) * MERGE_AMOUNT_SHARE and gap * 4 < abs(total - without)


def _deviations(
    invoice: Sequence[Line],
    order: Sequence[Line],
    pairs: list[Pair],
    tolerances: Tolerances,
    invoiced_before: Mapping[int, Decimal],
) -> tuple[list[Deviation], dict[int, Decimal]]:
    orders_of: dict[int, list[int]] = defaultdict(list)
    invoices_of: dict[int, list[int]] = defaultdict(list)
    for pair in pairs:
        orders_of[pair.invoice_line].append(pair.order_line)
        invoices_of[pair.order_line].append(pair.invoice_line)
    factor = 1 + tolerances.price_percent / 100
    deviations: list[Deviation] = []
    quantities: dict[int, Decimal] = {}

    uncertain = {pair.invoice_line: pair.order_line for pair in pairs if pair.kind == UNCERTAIN}
    for i, line in enumerate(invoice):
        ordered = orders_of.get(i)
        if i in uncertain:
            # paired only for want of anything better: it may as well bill nothing ordered
            deviations.append(
                Deviation(
                    UNMATCHED_LINE,
                    _braces(
                        f"Line {i + 1} ({line.description!r}) is not on the quote or order "
                        f"by its description; it may bill {order[uncertain[i]].description!r}."
                    ),
                    invoice_line=i,
                    order_line=uncertain[i],
                )
            )
        if not ordered:
            deviations.append(
                Deviation(
                    UNMATCHED_LINE,
                    _braces(f"Line {i + 1} ({line.description!r}) is not on the quote or order."),
                    invoice_line=i,
                )
            )
            continue
        if len(ordered) == 1:
            price, agreed = line.price(), order[ordered[0]].price()
            if price is not None and agreed is not None and price > agreed * factor:
                deviations.append(
                    Deviation(
                        PRICE_ABOVE_QUOTE,
                        f"Line {i + 1} is billed at {{billed}} a unit, above the agreed "
                        "{agreed}.",
                        invoice_line=i,
                        order_line=ordered[0],
                        billed=price,
                        agreed=agreed,
                    )
                )
            continue
        # a merged line: its amount against the amounts of the lines it bills together
        total = line.total()
        parts = [order[j].total() for j in ordered]
        if total is None or any(part is None for part in parts):
            continue
        agreed_total = sum((part for part in parts if part is not None), Decimal(0))
        if total > agreed_total * factor + tolerances.amount:
            deviations.append(
                Deviation(
                    PRICE_ABOVE_QUOTE,
                    f"Line {i + 1} is billed at {{billed}}, above the agreed {{agreed}} for "
                    "the lines it combines.",
                    invoice_line=i,
                    order_line=ordered[0],
                    billed=total,
                    agreed=agreed_total,
                )
            )

    for j, billed in sorted(invoices_of.items()):
        ordered_line = order[j]
        # quantities only compare when this ordered line is billed on lines of its own
        if any(len(orders_of[i]) > 1 for i in billed):
            continue
        amounts = [invoice[i].quantity for i in billed]
        if any(amount is None for amount in amounts):
            continue
        quantity = sum((amount for amount in amounts if amount is not None), Decimal(0))
        quantities[j] = quantity
        cumulative = quantity + invoiced_before.get(j, Decimal(0))
        if (
            ordered_line.quantity is not None
            and cumulative > ordered_line.quantity + tolerances.quantity
        ):
            deviations.append(
                Deviation(
                    QUANTITY_ABOVE_ORDER,
                    _braces(
                        f"{cumulative} of {ordered_line.description!r} billed, "
                        f"{ordered_line.quantity} ordered."
                    ),
                    invoice_line=billed[0],
                    order_line=j,
                )
            )
    return deviations, quantities


def over_invoiced(
    order_total: Decimal | None,
    invoiced_before: Decimal,
    invoice_total: Decimal | None,
    tolerances: Tolerances | None = None,
) -> Deviation | None:
    """The `over_invoiced` deviation when earlier invoices and this one together exceed the
    order's total by more than the amount tolerance; None otherwise or without totals."""
    tolerances = tolerances or Tolerances()
    if order_total is None or invoice_total is None:
        return None
    billed = invoiced_before + invoice_total
    if billed <= order_total + tolerances.amount:
        return None
    return Deviation(
        OVER_INVOICED,
        "Invoices against this order total {billed}, above its {agreed}.",
        billed=billed,
        agreed=order_total,
    )


def _braces(text: str) -> str:
    """A description's own braces kept literal in a message template."""
    return text.replace("{", "{{").replace("}", "}}")
