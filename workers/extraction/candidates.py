"""Every value a field could take on a page, and what a reader would notice about each.

Rules find a field through its label; on a layout they were not written for, the label is
worded differently or the value stands elsewhere. Here every date, amount, identifier and
name-like phrase of the document becomes a candidate with a vector of generic features:
where it stands, how it is written, which labels stand left of it or above it (the
multilingual label lists of `labels.py`), which party block holds it, how it relates to
the other values (the largest amount, the earliest date) and whether the rules chose it.
`ranker.py` scores the vectors with a model trained on varied layouts; the same code
builds the training rows (`training/ranker.py`), so training and use cannot drift apart.

Pure code: no model, no I/O.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median
from typing import Any

from workers.extraction.dates import find_dates
from workers.extraction.labels import (
    DOCUMENT_TITLES,
    LEGAL_FORM,
    PART_SEPARATOR,
    sender_line_name,
)
from workers.extraction.layout import Line, fold
from workers.extraction.numbers import ISO_CURRENCIES, find_amounts

LABEL_FIELDS = (
    "invoice_number",
    "invoice_date",
    "due_date",
    "subtotal_amount",
    "tax_amount",
    "total_amount",
    "amount_due",
    "discount_amount",
    "purchase_order",
)
PARTY_ROLES = ("vendor", "customer", "other")
# Which kind of candidate each ranked field takes.
FIELD_KINDS = {
    "invoice_number": "id",
    "invoice_date": "date",
    "due_date": "date",
    "subtotal_amount": "amount",
    "tax_amount": "amount",
    "total_amount": "amount",
    "vendor_name": "name",
    "customer_name": "name",
}
FAR = 99.0  # "no such label near": far beyond any real distance, the same for every model
# A two-to-four capital series code right before a number ("FT 2022/322"), not a currency.
_SERIES_BEFORE = re.compile(r"(?<![\w])([A-Z]{2,4}) $")
_ID_TOKEN = re.compile(r"#?[A-Za-z0-9][\w/.\-]*\d[\w/.\-]*|#?\d+")
_POSTCODE = re.compile(r"(?<![\w])(?:[A-Z]{1,2}-?)?\d{4,6}(?![\w])|[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}")
_CONTACT = re.compile(r"@|www\.|https?:|\btel\b|\bfax\b|phone|iban|bic|swift", re.IGNORECASE)
_STREET = re.compile(
    r"\d+\s*\w*\s*(?:str|strasse|straße|weg|street|st\.|road|rd\.|avenue|ave|rue|via|calle"
    r"|straat|laan|rua|avenida|allee|platz|gasse|lane|boulevard|blvd)\b|(?:rue|via|calle|rua)\s",
    re.IGNORECASE,
)
# Every match of _STREET holds one of these (each of its words begins with one): a search
# for them alone, without _STREET's backtracking over digits and words, rules most out.
_STREET_WORD = re.compile(
    r"str|weg|st\.|road|rd\.|ave|rue|via|calle|laan|rua|allee|platz|gasse|lane|boulevard|blvd",
    re.IGNORECASE,
)
_LABEL_COLON = re.compile(r":\s*$")
_SEPARATOR_MARK = re.compile(r"[|●•·]")


@dataclass
class Cand:
    """One possible value: `kind` is id | date | amount | name; `value` is the value as the
    field would hold it (str for ids, names and ISO dates; Decimal for amounts)."""

    kind: str
    value: Any
    text: str
    line: Line
    x0: float
    x1: float
    features: dict[str, float] = field(default_factory=dict)
    before: str = ""  # the text of its phrase before it (an inline label, "Invoice #:")


def _word_span_x(phrase: Line, start: int, end: int) -> tuple[float, float]:
    words = phrase.words_in_span(start, end) or phrase.words
    return words[0].x0, words[-1].x1


def generate(doc: Any, day_first: bool) -> list[Cand]:
    """Every candidate of the document (`doc` is a `fields.Document`)."""
    found: list[Cand] = []
    for line, line_phrases in zip(doc.lines, doc.phrases_by_line, strict=True):
        for phrase in line_phrases:
            text = phrase.text
            date_spans = []
            for match in find_dates(text):
                value = match.value(day_first)
                if value is None:
                    continue
                date_spans.append((match.start, match.end))
                x0, x1 = _word_span_x(phrase, match.start, match.end)
                found.append(
                    Cand(
                        "date",
                        value.isoformat(),
                        text[match.start : match.end],
                        line,
                        x0,
                        x1,
                        before=text[: match.start],
                    )
                )
            for amount in find_amounts(text, doc.decimal_separator):
                if any(a < amount.end and amount.start < b for a, b in date_spans):
                    continue
                x0, x1 = _word_span_x(phrase, amount.start, amount.end)
                cand = Cand(
                    "amount", amount.value, amount.raw, line, x0, x1, before=text[: amount.start]
                )
                cand.features["has_decimals"] = float(amount.has_decimals)
                cand.features["has_symbol"] = float(amount.symbol is not None)
                found.append(cand)
            for id_match in _ID_TOKEN.finditer(text):
                token = id_match.group(0).rstrip(".,;:-/")
                if len(token) > 30:
                    continue
                x0, x1 = _word_span_x(phrase, id_match.start(), id_match.end())
                cand = Cand(
                    "id", token.lstrip("#"), token, line, x0, x1, before=text[: id_match.start()]
                )
                # An ISO date can be an invoice number ("2015-11-04"): the model decides.
                cand.features["date_like"] = float(
                    any(a < id_match.end() and id_match.start() < b for a, b in date_spans)
                )
                found.append(cand)
                series = _SERIES_BEFORE.search(text, 0, id_match.start())
                if series and token[:1].isdigit() and series.group(1) not in ISO_CURRENCIES:
                    # "FT 2022/322": the series code is part of the number, as a candidate too
                    start = series.start(1)
                    x0, _ = _word_span_x(phrase, start, id_match.end())
                    whole = f"{series.group(1)} {token}"
                    prefixed = Cand("id", whole, whole, line, x0, x1, before=text[:start])
                    prefixed.features["date_like"] = cand.features["date_like"]
                    prefixed.features["series_prefix"] = 1.0
                    found.append(prefixed)
            if line.page == 0 or len(doc.pages) == 1:
                name = text.strip(" ,;:")
                letters = sum(ch.isalpha() for ch in name)
                if 2 <= len(name) <= 80 and letters >= 2 and len(phrase.words) <= 10:
                    found.append(Cand("name", name, name, line, phrase.x0, phrase.x1))
                    found.extend(_name_parts(phrase, text))
    return found


_NAME_SEPARATOR = re.compile(rf"{PART_SEPARATOR.pattern}|\s+-\s+")


def _name_parts(phrase: Line, text: str) -> list[Cand]:
    """A name inside a phrase: after its label ("Denominazione: ALPHA SRL", "Client: Acme")
    or before a separator ("Muster GmbH · Hauptstr. 1 · Berlin", a sender line)."""
    parts = []
    label, colon, rest = text.partition(":")
    rest = rest.strip(" ,;")
    if colon and rest and len(label.split()) <= 4 and sum(ch.isalpha() for ch in rest) >= 2:
        x0, x1 = _word_span_x(phrase, len(text) - len(rest), len(text))
        parts.append(Cand("name", rest, rest, phrase, x0, x1, before=label + colon))
    head = _NAME_SEPARATOR.split(text, maxsplit=1)
    sender = head[0] if len(head) == 2 else sender_line_name(text)
    if sender and sum(ch.isalpha() for ch in sender) >= 2:
        name = sender.strip(" ,;:")
        x0, x1 = _word_span_x(phrase, 0, len(sender))
        parts.append(Cand("name", name, name, phrase, x0, x1))
    return parts


def _has_street(text: str) -> bool:
    return bool(_STREET_WORD.search(text) and _STREET.search(text))


class _Found(dict[str, bool]):
    """Whether `search` finds something in a text, searched once per text of a document:
    the phrases under one name candidate are mostly those under its neighbours too."""

    def __init__(self, search: Callable[[str], object]) -> None:
        super().__init__()
        self.search = search

    def __missing__(self, text: str) -> bool:
        found = self[text] = bool(self.search(text))
        return found


@dataclass
class _Context:
    """What is computed once per document for the features of all its candidates."""

    median_height: float
    n_lines: int
    # Per page, in reading order: field, strength, line, x0, x1, at start.
    label_hits: dict[int, list[tuple[str, float, Line, float, float, bool]]]
    block_lines: dict[int, tuple[str, int]]  # line index -> (role, position in block)
    name_counts: Counter[str]
    name_repeats: dict[str, int]  # folded name -> lines that hold it, filled as asked
    value_counts: Counter[tuple[str, Any]]
    amounts: list[Decimal]
    amount_set: set[Decimal]
    pair_sums: set[Decimal]  # a + b of two different amounts of the document
    summands: set[Decimal]  # amounts that, added to another, make a third
    amounts_per_line: Counter[int]
    dates: list[str]
    max_height_first_page: float
    facing: tuple[Line, Line] | None
    page_aspect: float
    has_postcode: _Found = field(default_factory=lambda: _Found(_POSTCODE.search))
    has_street: _Found = field(default_factory=lambda: _Found(_has_street))
    has_contact: _Found = field(default_factory=lambda: _Found(_CONTACT.search))


def _context(doc: Any, cands: list[Cand], blocks: list[Any]) -> _Context:
    heights = [word.height for page in doc.pages for word in page.words if word.height > 0]
    hits: dict[int, list[tuple[str, float, Line, float, float, bool]]] = {}
    for hit in doc.hits:
        words = hit.phrase.words_in_span(hit.start, hit.end) or hit.phrase.words
        hits.setdefault(hit.line.page, []).append(
            (
                hit.label.field,
                hit.label.strength,
                hit.line,
                words[0].x0,
                words[-1].x1,
                hit.at_phrase_start,
            )
        )
    block_lines: dict[int, tuple[str, int]] = {}
    for block in blocks:
        block_lines.setdefault(block.heading.index, (block.role, -1))
        for position, line in enumerate(block.lines):
            block_lines.setdefault(line.index, (block.role, position))
    first_page = [w.height for w in doc.pages[0].words] if doc.pages else []
    # Postcodes and quantities read as amounts too; money is written with decimals.
    amounts = sorted(
        {abs(c.value) for c in cands if c.kind == "amount" and c.features.get("has_decimals")}
    ) or sorted({abs(c.value) for c in cands if c.kind == "amount"})
    # The largest amounts are where totals are; a quadratic look at 80 of them stays cheap.
    largest = amounts[-80:]
    known = set(largest)
    pair_sums: set[Decimal] = set()
    summands: set[Decimal] = set()
    for i, a in enumerate(largest):
        for b in largest[i + 1 :]:
            total = a + b
            pair_sums.add(total)
            if total in known:
                summands.update((a, b))
    return _Context(
        median_height=median(heights) if heights else 10.0,
        n_lines=max(1, len(doc.lines)),
        label_hits=hits,
        block_lines=block_lines,
        name_counts=Counter(doc.folded),
        name_repeats={},
        value_counts=Counter((c.kind, c.value) for c in cands),
        amounts=amounts,
        amount_set=set(amounts),
        pair_sums=pair_sums,
        summands=summands,
        amounts_per_line=Counter(c.line.index for c in cands if c.kind == "amount"),
        dates=sorted({c.value for c in cands if c.kind == "date"}),
        max_height_first_page=max(first_page) if first_page else 10.0,
        facing=doc.facing,
        page_aspect=doc.pages[0].width / max(1.0, doc.pages[0].height) if doc.pages else 0.0,
    )


_LABEL_KEYS = tuple((name, f"left_{name}", f"above_{name}") for name in LABEL_FIELDS)
_BLOCK_KEYS = tuple((role, f"in_{role}_block") for role in PARTY_ROLES)


def _label_features(cand: Cand, ctx: _Context, out: dict[str, float]) -> None:
    """For each label field: how far left on the same line, and how far above, the nearest
    label of it stands (in line heights)."""
    line = cand.line
    height = max(1.0, line.height)
    left = dict.fromkeys(LABEL_FIELDS, FAR)
    above = dict.fromkeys(LABEL_FIELDS, FAR)
    strength = 0.0
    nearest_left = FAR
    for name, power, hit_line, x0, x1, _ in ctx.label_hits.get(line.page, ()):
        if hit_line.index > line.index:
            break  # the hits are in reading order: none further on is left or above
        if hit_line.index == line.index:
            if x1 <= cand.x0 + 1:
                distance = (cand.x0 - x1) / height
                if distance < left.get(name, FAR):
                    left[name] = distance
                if distance < nearest_left:
                    nearest_left, strength = distance, power
        else:
            rows = (line.y0 - hit_line.y1) / height
            if rows < 8 and x0 - 3 * height <= cand.x1 and cand.x0 <= x1 + 3 * height:
                above[name] = min(above.get(name, FAR), rows)
    # Both only ever come down from FAR.
    for name, left_key, above_key in _LABEL_KEYS:
        out[left_key] = left[name]
        out[above_key] = above[name]
    out["left_label_strength"] = strength
    out["nearest_left_label"] = nearest_left


def _common_features(doc: Any, cand: Cand, ctx: _Context, out: dict[str, float]) -> None:
    line = cand.line
    page = doc.pages[line.page] if line.page < len(doc.pages) else doc.pages[-1]
    width, height = max(1.0, page.width), max(1.0, page.height)
    out["page"] = float(line.page)
    out["last_page"] = float(line.page == len(doc.pages) - 1)
    out["x0"] = cand.x0 / width
    out["x1"] = cand.x1 / width
    out["y"] = (line.y0 + line.y1) / 2 / height
    out["line_position"] = line.index / ctx.n_lines
    out["height"] = line.height / ctx.median_height
    out["line_words"] = float(len(line.words))
    text = cand.text
    out["length"] = float(len(text))
    letters = sum(map(str.isalpha, text))
    out["digits"] = sum(map(str.isdigit, text)) / max(1, len(text))
    out["letters"] = letters / max(1, len(text))
    out["upper"] = sum(map(str.isupper, text)) / max(1, letters)
    out["repeats"] = float(ctx.value_counts[(cand.kind, cand.value)])
    role, position = ctx.block_lines.get(line.index, ("", -2))
    for name, key in _BLOCK_KEYS:
        out[key] = float(role == name)
    out["block_position"] = float(position)
    # The words before the value on its line: a label the lists do not know still ends in ":".
    before = line.text[: max(0, line.text.find(text))] if text in line.text else ""
    out["colon_before"] = float(bool(_LABEL_COLON.search(before)))
    out["words_before"] = float(len(before.split()))


HASH_BUCKETS = 32
_TOKEN = re.compile(r"[a-z]+|[#°№]")


_BUCKET_KEYS = {
    prefix: [f"{prefix}{bucket}" for bucket in range(HASH_BUCKETS)] for prefix in ("lh", "ah")
}


def _hash_tokens(text: str, prefix: str, out: dict[str, float]) -> None:
    """The words of a nearby text, hashed into buckets: a label the lists of `labels.py` do
    not know ("ID", "Beleg", "Fattura n.") is still learnt from the generated documents."""
    keys = _BUCKET_KEYS[prefix]
    for bucket in _buckets(text):
        out[keys[bucket]] = 1.0


@functools.lru_cache(maxsize=4096)
def _buckets(text: str) -> tuple[int, ...]:
    return tuple(
        zlib.crc32(token.encode()) % HASH_BUCKETS for token in _TOKEN.findall(fold(text))[-6:]
    )


def _neighbour_features(doc: Any, cand: Cand, ctx: _Context, out: dict[str, float]) -> None:
    line = cand.line
    left = cand.before
    if not left.strip(" :#.-"):
        phrases_left = [p for p in doc.phrases_by_line[line.index] if p.x1 <= cand.x0 + 1]
        left = phrases_left[-1].text if phrases_left else ""
    _hash_tokens(left, "lh", out)
    out["above_gap"] = FAR
    height = max(1.0, line.height)
    for index in range(line.index - 1, max(-1, line.index - 5), -1):
        above_line = doc.lines[index]
        if above_line.page != line.page:
            break
        near = [
            p
            for p in doc.phrases_by_line[index]
            if p.x0 - 2 * height <= cand.x1 and cand.x0 <= p.x1 + 2 * height
        ]
        if near:
            _hash_tokens(near[0].text, "ah", out)
            out["above_gap"] = (line.y0 - above_line.y1) / height
            break
    if cand.kind != "name":
        return
    # A party's name stands over its address and contacts, in the same column.
    below: list[str] = []
    for index in range(line.index + 1, min(len(doc.lines), line.index + 6)):
        below_line = doc.lines[index]
        if below_line.page != line.page or below_line.y0 - line.y1 > 8 * height:
            break
        below.extend(p.text for p in doc.phrases_by_line[index] if abs(p.x0 - cand.x0) < 2 * height)
    out["postcode_below"] = float(sum(ctx.has_postcode[text] for text in below[:4]))
    out["street_below"] = float(sum(ctx.has_street[text] for text in below[:4]))
    out["contact_below"] = float(sum(ctx.has_contact[text] for text in below[:5]))
    out["lines_below"] = float(len(below))


def _kind_features(cand: Cand, ctx: _Context, out: dict[str, float]) -> None:
    if cand.kind == "amount":
        value = abs(cand.value)
        out["log_value"] = math.log10(float(value) + 1.0)
        out["negative"] = float(cand.value < 0)
        amounts = ctx.amounts
        above = len(amounts) - bisect.bisect_right(amounts, value)
        rank = above if value in ctx.amount_set else len(amounts)
        out["rank_desc"] = float(rank)
        out["rank_desc_share"] = rank / max(1, len(amounts))
        out["is_sum_of_two"] = float(value in ctx.pair_sums)
        out["part_of_sum"] = float(value in ctx.summands)
        out["amounts_on_line"] = float(ctx.amounts_per_line[cand.line.index])
        out["last_on_line"] = float(cand.x1 >= cand.line.x1 - 1)
        out.setdefault("has_decimals", 0.0)
        out.setdefault("has_symbol", 0.0)
        out["integer"] = float(value == value.to_integral_value())
    elif cand.kind == "date":
        dates = ctx.dates
        position = dates.index(cand.value)
        out["date_rank"] = float(position)
        out["date_rank_desc"] = float(len(dates) - 1 - position)
        out["n_dates"] = float(len(dates))
        first = _ordinal(dates[0])
        out["days_after_first"] = min(400.0, float(_ordinal(cand.value) - first))
    elif cand.kind == "id":
        token = cand.text
        out["hash"] = float(token.startswith("#"))
        out["has_letters"] = float(any(ch.isalpha() for ch in token))
        out["n_digits"] = float(sum(ch.isdigit() for ch in token))
        out["separators"] = float(sum(ch in "-/." for ch in token))
        out["decimal_like"] = float(bool(re.fullmatch(r"\d+[.,]\d{2}", token)))
        out["all_digits"] = float(token.isdigit())
        out["token_is_line"] = float(token == cand.line.text.strip())
        out.setdefault("series_prefix", 0.0)
    else:
        folded = fold(cand.text)
        out["legal_form"] = float(bool(LEGAL_FORM.search(folded)))
        out["name_words"] = float(len(cand.text.split()))
        repeats = ctx.name_repeats.get(folded)
        if repeats is None:
            repeats = ctx.name_repeats[folded] = sum(
                1 for text in ctx.name_counts if folded in text
            )
        out["name_repeats"] = float(repeats)
        out["contact"] = float(ctx.has_contact[cand.text])
        out["postcode"] = float(ctx.has_postcode[cand.text])
        out["street"] = float(ctx.has_street[cand.text])
        out["title"] = float(any(pattern.search(folded) for _, pattern in DOCUMENT_TITLES))
        out["largest_font"] = cand.line.height / max(1.0, ctx.max_height_first_page)
        out["has_digits"] = float(any(ch.isdigit() for ch in cand.text))
        out["separator_mark"] = float(bool(_SEPARATOR_MARK.search(cand.text)))
        out["facing"] = _facing_side(cand, ctx.facing)
        # US Letter or A4: where each party stands differs between the two traditions
        out["page_aspect"] = ctx.page_aspect


def _facing_side(cand: Cand, facing: tuple[Line, Line] | None) -> float:
    """1 for the left name of two unheaded blocks side by side, -1 for the right one."""
    if facing is None:
        return 0.0
    for side, phrase in zip((1.0, -1.0), facing, strict=True):
        if cand.line.index == phrase.index and abs(cand.x0 - phrase.x0) < 2:
            return side
    return 0.0


def _ordinal(iso: str) -> int:
    year, month, day = (int(part) for part in iso.split("-"))
    return year * 372 + month * 31 + day


def describe(doc: Any, cands: list[Cand], blocks: list[Any]) -> None:
    """Fill every candidate's `features` (in place)."""
    if not cands:
        return
    ctx = _context(doc, cands, blocks)
    for cand in cands:
        _common_features(doc, cand, ctx, cand.features)
        _label_features(cand, ctx, cand.features)
        _neighbour_features(doc, cand, ctx, cand.features)
        _kind_features(cand, ctx, cand.features)


def agreement(cand: Cand, field_name: str, rule_value: Any) -> float:
    """1 when the rules chose this candidate's value for the field."""
    if rule_value is None:
        return 0.0
    if cand.kind == "amount":
        return float(abs(cand.value) == abs(rule_value))
    if cand.kind == "name":
        return float(fold(cand.value) == fold(str(rule_value)))
    return float(str(cand.value).casefold() == str(rule_value).casefold())


def feature_names(kind: str) -> list[str]:
    """The fixed column order of a kind's feature vector (the model's input)."""
    common = [
        "page", "last_page", "x0", "x1", "y", "line_position", "height", "line_words",
        "length", "digits", "letters", "upper", "repeats",
        *(f"in_{role}_block" for role in PARTY_ROLES),
        "block_position", "colon_before", "words_before",
        *(f"left_{name}" for name in LABEL_FIELDS),
        *(f"above_{name}" for name in LABEL_FIELDS),
        "left_label_strength", "nearest_left_label", "above_gap",
        *(f"lh{bucket}" for bucket in range(HASH_BUCKETS)),
        *(f"ah{bucket}" for bucket in range(HASH_BUCKETS)),
    ]  # fmt: skip
    specific = {
        "amount": [
            "log_value", "negative", "rank_desc", "rank_desc_share", "is_sum_of_two",
            "part_of_sum", "amounts_on_line", "last_on_line", "has_decimals", "has_symbol",
            "integer",
        ],
        "date": ["date_rank", "date_rank_desc", "n_dates", "days_after_first"],
        "id": [
            "hash", "has_letters", "n_digits", "separators", "decimal_like", "all_digits",
            "token_is_line", "date_like", "series_prefix",
        ],
        "name": [
            "legal_form", "name_words", "name_repeats", "contact", "postcode", "street", "title",
            "largest_font", "has_digits", "separator_mark", "postcode_below", "street_below",
            "contact_below", "lines_below", "facing", "page_aspect",
        ],
    }[kind]  # fmt: skip
    return [*common, *specific, "rule_agrees", "rule_confidence"]
