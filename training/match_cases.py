"""Generated quote/PO-to-invoice cases with the truth known by construction.

An order (a quote or purchase order) is drawn from a catalogue; its invoice is derived the
way suppliers change things: lines reordered, renamed (a supplier's own wording, an
abbreviation, a typo, a reference appended), prices and quantities changed under and over
the tolerance, lines split into deliveries, lines merged, lines not billed yet, and extra
lines the order never had (freight, surcharges). Each change records what a matcher should
find: the line pairs and the deviations over tolerance.

The renames are written here independently of the matcher's abbreviation table; several
(synonyms, typos) are nowhere in it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from common.matching.lines import (
    OVER_INVOICED,
    PRICE_ABOVE_QUOTE,
    QUANTITY_ABOVE_ORDER,
    UNMATCHED_LINE,
    Line,
    Tolerances,
)

CENT = Decimal("0.01")

# description, the supplier's other wordings, unit price range (currency units)
CATALOGUE: tuple[tuple[str, tuple[str, ...], tuple[int, int]], ...] = (
    (
        "Ergonomic office chair",
        ("Office chair, ergonomic", "Desk chair ergonomic model"),
        (120, 480),
    ),
    ("Height-adjustable desk", ("Standing desk adjustable", "Sit-stand desk"), (300, 900)),
    ("A4 copy paper, 500 sheets", ("Copy paper A4 500 sh.", "Printer paper A4 ream"), (3, 9)),
    ("Toner cartridge black", ("Black toner cartridge", "Toner, black, high yield"), (40, 140)),
    ("Laptop 14 inch", ('Notebook computer 14"', "14-inch laptop"), (700, 1900)),
    ("USB-C docking station", ("Docking station USB C", "USB-C dock"), (90, 260)),
    ("27 inch monitor", ('Monitor 27"', "27-inch display"), (180, 520)),
    (
        "Wireless keyboard and mouse set",
        ("Keyboard/mouse combo wireless", "Wireless desktop set"),
        (30, 90),
    ),
    (
        "Software licence, annual",
        ("Annual software license", "Subscription licence 12 months"),
        (60, 600),
    ),
    ("On-site installation", ("Installation on site", "Onsite setup and installation"), (80, 900)),
    (
        "Consulting hours, senior",
        ("Senior consultant hours", "Consulting services senior level"),
        (110, 190),
    ),
    ("Project management", ("PM services", "Project coordination and management"), (90, 160)),
    ("Network cabling Cat6", ("Cat 6 network cable installation", "Cabling, Cat6"), (6, 25)),
    ("Server rack 42U", ("42U rack cabinet", "Rack enclosure 42 U"), (700, 1600)),
    (
        "Maintenance contract, monthly",
        ("Monthly maintenance", "Maintenance fee per month"),
        (150, 700),
    ),
    ("Cleaning service, office", ("Office cleaning", "Cleaning of office premises"), (25, 60)),
    ("Catering lunch buffet", ("Lunch buffet catering", "Buffet lunch per person"), (15, 45)),
    ("Coffee beans 1kg", ("1 kg coffee beans", "Whole bean coffee, 1kg bag"), (14, 32)),
    ("Bottled water crate", ("Crate of mineral water", "Water, 12 x 1L crate"), (5, 12)),
    ("Safety helmet", ("Hard hat", "Protective helmet EN397"), (9, 35)),
    ("Work gloves, pair", ("Gloves work pair", "Protective work gloves"), (3, 15)),
    ("Concrete C25/30 per m3", ("Ready-mix concrete C25/30", "Concrete m3 C25"), (90, 160)),
    ("Steel rebar 12mm", ("Rebar 12 mm steel", "Reinforcing bar 12mm"), (1, 4)),
    ("Excavator hire, daily", ("Daily excavator rental", "Excavator rental per day"), (250, 650)),
    ("Skip container 7m3", ("7 m3 skip hire", "Waste container 7 cubic m"), (180, 420)),
    (
        "Interior painting per m2",
        ("Painting interior walls m2", "Wall painting, interior"),
        (8, 22),
    ),
    ("LED panel light 60x60", ("LED panel 600x600", "Ceiling light LED 60 x 60"), (35, 110)),
    ("Electrician hours", ("Electrical work hours", "Electrician labour"), (55, 95)),
    ("Translation, per word", ("Per-word translation", "Translation services (word)"), (0, 1)),
    ("Web hosting, annual plan", ("Annual hosting plan", "Website hosting 12 months"), (60, 400)),
    ("SSL certificate", ("TLS/SSL certificate 1 year", "Certificate SSL"), (20, 200)),
    ("Firewall appliance", ("Hardware firewall", "Firewall device"), (400, 3000)),
    ("Backup storage 1TB", ("1 TB backup storage", "Cloud backup, 1TB"), (5, 30)),
    (
        "Training workshop, one day",
        ("One-day training workshop", "Workshop training 1 day"),
        (600, 2400),
    ),
    ("Travel expenses lump sum", ("Lump-sum travel costs", "Travel costs flat rate"), (50, 400)),
    ("Forklift pallet truck", ("Pallet truck manual", "Hand pallet jack"), (250, 700)),
    (
        "Shelving unit galvanised",
        ("Galvanised steel shelving", "Shelf unit, galvanized"),
        (80, 260),
    ),
    ("Printing brochures A5", ("A5 brochure printing", "Brochures printed, A5"), (0, 2)),
    ("Graphic design hours", ("Design work hours", "Graphic designer hours"), (60, 120)),
    ("Photography half day", ("Half-day photo shoot", "Photographer, half day"), (300, 900)),
)

# Lines an invoice adds that no order had.
EXTRAS = (
    "Freight charges",
    "Express surcharge",
    "Fuel surcharge",
    "Pallet deposit",
    "Small order fee",
    "Packaging and handling",
    "Environmental levy",
    "Card payment fee",
    "Rush delivery",
    "Insurance in transit",
)

# Short forms a supplier writes, chosen independently of the matcher's own table.
SHORT_FORMS = {
    "installation": "instal.",
    "hours": "hrs",
    "monthly": "mthly",
    "maintenance": "maint.",
    "management": "mgmt",
    "including": "incl.",
    "consulting": "consult.",
    "software": "SW",
    "licence": "lic.",
    "annual": "ann.",
    "service": "svc",
    "per": "/",
    "training": "trng",
    "container": "cont.",
    "cartridge": "cart.",
}

SUFFIXES = (" - as quoted", " (see PO)", " Nov 2026", ", as agreed", " acc. to quote", "")
TAX_RATES = (Decimal("19.00"), Decimal("7.00"), Decimal("20.00"), Decimal("21.00"))
# amounts here are in currency units, like the generated lines
TOLERANCE_PRESETS = (
    Tolerances(Decimal(0), Decimal(0), Decimal(0)),
    Tolerances(Decimal("1.00"), Decimal(0), Decimal("1.00")),
    Tolerances(Decimal("2.00"), Decimal(1), Decimal("5.00")),
    Tolerances(Decimal("5.00"), Decimal(2), Decimal("10.00")),
)


@dataclass
class Case:
    order: list[Line]
    invoice: list[Line]
    tolerances: Tolerances
    pairs: set[tuple[int, int]]
    # (code, line index): invoice line for price/unmatched, ordered line for quantity, -1 for
    # the whole invoice (over_invoiced)
    deviations: set[tuple[str, int]]
    invoiced_before: Decimal = Decimal(0)
    changes: list[str] = field(default_factory=list)
    # "quote" or "purchase_order": only orders are checked for over-invoicing
    kind: str = "quote"


@dataclass
class _Draft:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    order_lines: list[int]
    amount: Decimal | None = None
    price_over: bool = False

    def line(self) -> Line:
        amount = self.amount
        if amount is None:
            amount = (self.quantity * self.unit_price).quantize(CENT, ROUND_HALF_UP)
        return Line(self.description, self.quantity, self.unit_price, amount, self.tax_rate)


def typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    long_words = [k for k, word in enumerate(words) if len(word) >= 5]
    if not long_words:
        return text
    k = rng.choice(long_words)
    word = words[k]
    p = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:  # swapped letters
        word = word[:p] + word[p + 1] + word[p] + word[p + 2 :]
    elif kind == 1:  # a dropped letter
        word = word[:p] + word[p + 1 :]
    else:  # a doubled letter
        word = word[:p] + word[p] + word[p:]
    words[k] = word
    return " ".join(words)


def shorten(text: str) -> str:
    out = []
    for word in text.split(" "):
        bare = word.lower().strip(",")
        out.append(SHORT_FORMS.get(bare, word) + ("," if word.endswith(",") else ""))
    return " ".join(out)


def rename(rng: random.Random, base: str, alternates: tuple[str, ...]) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(alternates), "synonym"
    if roll < 0.55:
        return shorten(base), "abbreviation"
    if roll < 0.8:
        return typo(rng, base), "typo"
    return base + rng.choice(SUFFIXES), "suffix"


def money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(max(low, 0) * 100 + 5, high * 100 + 100)) / 100


def generate_case(rng: random.Random, kind: str) -> Case:
    """One order and its invoice; kind is "quote" or "purchase_order" (POs carry a billing
    history, so over-invoicing can happen)."""
    tolerances = rng.choice(TOLERANCE_PRESETS)
    factor = 1 + tolerances.price_percent / 100
    items = rng.sample(CATALOGUE, rng.randint(1, 12))
    order: list[Line] = []
    for description, _, (low, high) in items:
        quantity = Decimal(rng.choice((1, 1, 2, 3, 5, 8, 10, 12, 20, 40, 100)))
        price = money(rng, low, high)
        amount = (quantity * price).quantize(CENT, ROUND_HALF_UP)
        order.append(Line(description, quantity, price, amount, rng.choice(TAX_RATES)))

    changes: list[str] = []
    deviations: set[tuple[str, int]] = set()
    drafts: list[_Draft] = []
    for j, (line, (_, alternates, _)) in enumerate(zip(order, items, strict=True)):
        assert line.quantity is not None
        assert line.unit_price is not None
        if rng.random() < 0.07:
            changes.append("not_billed")
            continue
        description = line.description
        if rng.random() < 0.45:
            description, how = rename(rng, line.description, alternates)
            changes.append(how)
        quantity, price = line.quantity, line.unit_price
        price_over = False
        roll = rng.random()
        if roll < 0.12:  # over tolerance
            price = (price * factor * Decimal(1 + rng.uniform(0.01, 0.25))).quantize(
                CENT, ROUND_HALF_UP
            )
            price_over = price > line.unit_price * factor
            changes.append("price_over")
        elif roll < 0.27:  # within tolerance, or lower
            price = (price * Decimal(rng.uniform(0.85, float(factor)))).quantize(
                CENT, ROUND_HALF_UP
            )
            price = min(price, (line.unit_price * factor).quantize(CENT, rounding="ROUND_DOWN"))
            changes.append("price_within")
        roll = rng.random()
        if roll < 0.08:
            quantity = quantity + tolerances.quantity + rng.randint(1, 5)
            deviations.add((QUANTITY_ABOVE_ORDER, j))
            changes.append("quantity_over")
        elif roll < 0.16 and quantity > 1:
            quantity = Decimal(rng.randint(1, int(quantity) - 1))
            changes.append("quantity_under")
        drafts.append(
            _Draft(
                description,
                quantity,
                price,
                line.tax_rate or Decimal(0),
                [j],
                price_over=price_over,
            )
        )

    # splits: one ordered line delivered on two invoice lines, same price
    split: list[_Draft] = []
    for draft in drafts:
        if draft.quantity >= 2 and rng.random() < 0.12:
            first = Decimal(rng.randint(1, int(draft.quantity) - 1))
            label = rng.choice(("", " (delivery 1)", " - part 1"))
            split.append(
                _Draft(
                    draft.description + label,
                    first,
                    draft.unit_price,
                    draft.tax_rate,
                    draft.order_lines,
                    price_over=draft.price_over,
                )
            )
            label = label.replace("1", "2")
            split.append(
                _Draft(
                    draft.description + label,
                    draft.quantity - first,
                    draft.unit_price,
                    draft.tax_rate,
                    draft.order_lines,
                    price_over=draft.price_over,
                )
            )
            changes.append("split")
        else:
            split.append(draft)
    drafts = split

    # merges: two neighbouring unchanged-price lines billed as one lump sum
    merged: list[_Draft] = []
    k = 0
    while k < len(drafts):
        a = drafts[k]
        b = drafts[k + 1] if k + 1 < len(drafts) else None
        if (
            b is not None
            and rng.random() < 0.10
            and not a.price_over
            and not b.price_over
            and a.order_lines != b.order_lines
            and not any(
                code == QUANTITY_ABOVE_ORDER and j in a.order_lines + b.order_lines
                for code, j in deviations
            )
        ):
            total = a.line().amount + b.line().amount  # type: ignore[operator]
            joiner = rng.choice((" and ", ", ", " + ", " incl. "))
            merged.append(
                _Draft(
                    a.description + joiner + b.description,
                    Decimal(1),
                    total,
                    a.tax_rate,
                    a.order_lines + b.order_lines,
                    amount=total,
                )
            )
            changes.append("merge")
            k += 2
        else:
            merged.append(a)
            k += 1
    drafts = merged

    for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
        drafts.append(
            _Draft(rng.choice(EXTRAS), Decimal(1), money(rng, 5, 80), rng.choice(TAX_RATES), [])
        )
        changes.append("extra")

    rng.shuffle(drafts)
    invoice = [draft.line() for draft in drafts]
    pairs = {(i, j) for i, draft in enumerate(drafts) for j in draft.order_lines}
    for i, draft in enumerate(drafts):
        if not draft.order_lines:
            deviations.add((UNMATCHED_LINE, i))
        if draft.price_over:
            deviations.add((PRICE_ABOVE_QUOTE, i))

    invoiced_before = Decimal(0)
    if kind == "purchase_order":
        order_total = sum((line.amount for line in order if line.amount is not None), Decimal(0))
        invoiced_before = (order_total * Decimal(rng.choice((0, 0, 0.3, 0.6, 0.9)))).quantize(CENT)
        invoice_total = sum(
            (line.amount for line in invoice if line.amount is not None), Decimal(0)
        )
        if invoiced_before + invoice_total > order_total + tolerances.amount:
            deviations.add((OVER_INVOICED, -1))
    return Case(order, invoice, tolerances, pairs, deviations, invoiced_before, changes, kind)


def generate_cases(count: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    return [generate_case(rng, rng.choice(("quote", "purchase_order"))) for _ in range(count)]
