"""A learned ranker over the candidates of `candidates.py`: for each header field it scores
every candidate of the field's kind and takes the likeliest, where the rules' choice is one
input among the others (so the model learns when the rules can be trusted on a layout and
when a value elsewhere is likelier).

The models are gradient-boosted trees (LightGBM) trained by `make train`
(`training/ranker.py`) on generated invoices of many layouts and the development corpora,
kept as LightGBM's text model files beside this module, CPU only, loaded once per process.
`INVEX_RANKER_DIR` points at another set of models (the leave-one-producer-out bench
trains one set per held-out producer); `INVEX_RANKER=0` turns the ranker off (rules only).
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from common import money
from workers.extraction import candidates as cands_module
from workers.extraction.candidates import FIELD_KINDS, Cand

MODEL_DIR = Path(__file__).with_name("models")
# Below this probability the model's best candidate does not replace what the rules read;
# where the rules read nothing, a less sure candidate still fills the field (its confidence
# says how sure).
ACCEPT = 0.5
FILL = 0.1


def model_decides(probability: float, rules_found_a_value: bool) -> bool:
    """Whether the model's best candidate, at this probability, becomes the field's value."""
    return probability >= ACCEPT or (not rules_found_a_value and probability >= FILL)


_lock = threading.Lock()


class _Models:
    def __init__(self, directory: Path) -> None:
        import lightgbm  # noqa: PLC0415  (a process that never ranks never loads it)

        self.meta = json.loads((directory / "ranker.json").read_text())
        self.boosters = {
            name: lightgbm.Booster(model_file=str(directory / spec["file"]))
            for name, spec in self.meta["fields"].items()
        }

    def probabilities(self, name: str, rows: np.ndarray) -> np.ndarray:
        # One thread: the workers already run one extraction per core.
        return np.asarray(
            self.boosters[name].predict(np.asarray(rows, dtype=np.float64), num_threads=1)
        )


@cache
def _models(directory: str) -> _Models | None:
    path = Path(directory)
    if not (path / "ranker.json").exists():
        return None
    return _Models(path)


def models() -> _Models | None:
    if os.environ.get("INVEX_RANKER", "1") == "0":
        return None
    with _lock:
        return _models(os.environ.get("INVEX_RANKER_DIR") or str(MODEL_DIR))


def candidate_table(
    doc: Any,
    blocks: list[Any],
    day_first: bool,
    fields: dict[str, Any],
    confidence: dict[str, float],
) -> dict[str, tuple[list[Cand], np.ndarray]]:
    """Per ranked field, its candidates and their feature rows (the model's input)."""
    found = cands_module.generate(doc, day_first)
    cands_module.describe(doc, found, blocks)
    currency = fields.get("currency")
    # The features of a candidate are the same for every field of its kind; only the two
    # columns saying what the rules chose differ per field.
    by_kind: dict[str, tuple[list[Cand], np.ndarray]] = {}
    for kind in set(FIELD_KINDS.values()):
        of_kind = [cand for cand in found if cand.kind == kind]
        names = cands_module.feature_names(kind)[:-2]
        absent = [0.0] * len(names)  # a feature a candidate lacks reads 0
        matrix = np.array(
            [list(map(cand.features.get, names, absent)) for cand in of_kind],
            dtype=np.float64,
        ).reshape(len(of_kind), len(names))
        by_kind[kind] = (of_kind, matrix)
    table: dict[str, tuple[list[Cand], np.ndarray]] = {}
    for name, kind in FIELD_KINDS.items():
        of_kind, matrix = by_kind[kind]
        rule_value = candidate_value(name, fields.get(name), currency)
        rule_confidence = confidence.get(name, 0.0) if rule_value is not None else 0.0
        agrees = [cands_module.agreement(cand, name, rule_value) for cand in of_kind]
        rows = np.column_stack(
            [matrix, np.asarray(agrees, dtype=np.float64), np.full(len(of_kind), rule_confidence)]
        )
        table[name] = (of_kind, rows)
    return table


def candidate_value(name: str, value: Any, currency: str | None) -> Any:
    """A field's value as its candidates hold it (amounts in major units, not minor)."""
    if value is None:
        return None
    if FIELD_KINDS[name] == "amount":
        return money.from_minor_units(value, currency)
    return value


AMOUNT_FIELDS = ("subtotal_amount", "tax_amount", "total_amount")
# How much likelier, by the models' own odds, a subtotal + tax = total reading must be made
# before it replaces fields chosen one by one that do not add up.
BALANCE_ODDS = 8.0
# The distinct values of each amount field tried together.
BALANCE_TOP = 4


@dataclass
class FieldScores:
    """One field's candidates as the model scored them: their values, probabilities and
    whether the rules chose each (`agrees`), beside the rules' own value and confidence."""

    values: list[Any]
    probabilities: np.ndarray
    agrees: np.ndarray
    rule_value: Any
    rule_confidence: float


def decide(scores: dict[str, FieldScores]) -> dict[str, tuple[Any, float]]:
    """Per field, its value and confidence: the model's best candidate where it is sure
    enough, else the rules' value with the model's doubt about it as its confidence; then
    subtotal, tax and total are made to add up where the model's odds allow."""
    decided: dict[str, tuple[Any, float]] = {}
    for name, field in scores.items():
        if not len(field.values):
            continue
        best = int(np.argmax(field.probabilities))
        p = float(field.probabilities[best])
        if model_decides(p, field.rule_value is not None):
            decided[name] = (_as_the_rules_wrote(field.values[best], field.rule_value), p)
        elif field.rule_value is not None:
            agreeing = field.probabilities[field.agrees > 0]
            doubt = float(agreeing.max()) if len(agreeing) else p
            decided[name] = (field.rule_value, min(field.rule_confidence, doubt))
    return _balance_totals(scores, decided)


def _balance_totals(
    scores: dict[str, FieldScores], decided: dict[str, tuple[Any, float]]
) -> dict[str, tuple[Any, float]]:
    if not all(name in scores and name in decided for name in AMOUNT_FIELDS):
        return decided
    chosen = [abs(decided[name][0]) for name in AMOUNT_FIELDS]
    if _adds_up(*chosen):
        return decided
    options = {name: _value_odds(scores[name], decided[name]) for name in AMOUNT_FIELDS}
    current = math.prod(options[name].get(abs(decided[name][0]), _FLOOR) for name in AMOUNT_FIELDS)
    best: tuple[float, tuple[Decimal, ...]] | None = None
    for triple in product(*(options[name] for name in AMOUNT_FIELDS)):
        if not _adds_up(*triple):
            continue
        odds = math.prod(
            options[name][value] for name, value in zip(AMOUNT_FIELDS, triple, strict=True)
        )
        if best is None or odds > best[0]:
            best = (odds, triple)
    if best is None or best[0] * BALANCE_ODDS < current:
        return decided
    balanced = dict(decided)
    for name, value in zip(AMOUNT_FIELDS, best[1], strict=True):
        if value == abs(decided[name][0]):
            continue
        balanced[name] = (_as_the_rules_wrote(value, scores[name].rule_value), options[name][value])
    return balanced


def _as_the_rules_wrote(value: Any, rule_value: Any) -> Any:
    """The rules' spelling of the value the model chose, where it is the same value: they
    know a credit note's sign and keep an invoice number's "#"."""
    if rule_value is None:
        return value
    if isinstance(value, Decimal):
        return rule_value if abs(rule_value) == abs(value) else value
    if isinstance(value, str) and isinstance(rule_value, str):
        same = value.lstrip("#").casefold() == rule_value.lstrip("#").casefold()
        return rule_value if same else value
    return value


_FLOOR = 1e-3


def _value_odds(field: FieldScores, decided: tuple[Any, float]) -> dict[Decimal, float]:
    """The likeliest distinct values of an amount field, each with its best probability."""
    odds: dict[Decimal, float] = {}
    for value, p in zip(field.values, field.probabilities, strict=True):
        key = abs(value)
        odds[key] = max(odds.get(key, _FLOOR), float(p), _FLOOR)
    top = dict(sorted(odds.items(), key=lambda item: -item[1])[:BALANCE_TOP])
    top.setdefault(abs(decided[0]), max(_FLOOR, decided[1]))
    return top


def _adds_up(subtotal: Decimal, tax: Decimal, total: Decimal) -> bool:
    return subtotal > 0 and tax < subtotal and abs(subtotal + tax - total) <= Decimal("0.01")


def apply(
    doc: Any,
    blocks: list[Any],
    day_first: bool,
    fields: dict[str, Any],
    confidence: dict[str, float],
) -> None:
    """Replace the rules' header fields by the model's choice where the model is surer;
    set each ranked field's confidence to the model's probability."""
    loaded = models()
    if loaded is None or not doc.lines:
        return
    table = candidate_table(doc, blocks, day_first, fields, confidence)
    currency = fields.get("currency")
    scores = {}
    for name, (found, rows) in table.items():
        if name not in loaded.boosters or not len(rows):
            continue
        scores[name] = FieldScores(
            values=[cand.value for cand in found],
            probabilities=loaded.probabilities(name, rows),
            agrees=rows[:, -2],
            rule_value=candidate_value(name, fields.get(name), currency),
            rule_confidence=confidence.get(name, 0.0),
        )
    for name, (value, p) in decide(scores).items():
        if value is not scores[name].rule_value:
            fields[name] = _field_value(name, value, currency)
        confidence[name] = round(p, 3)


def _field_value(name: str, value: Any, currency: str | None) -> Any:
    if FIELD_KINDS[name] == "amount":
        return money.to_minor_units(value, currency)
    return value
