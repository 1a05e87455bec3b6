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
import os
import threading
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from workers.extraction import candidates as cands_module
from workers.extraction import money
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
        matrix = np.array(
            [[cand.features.get(name, 0.0) for name in names] for cand in of_kind],
            dtype=np.float64,
        ).reshape(len(of_kind), len(names))
        by_kind[kind] = (of_kind, matrix)
    table: dict[str, tuple[list[Cand], np.ndarray]] = {}
    for name, kind in FIELD_KINDS.items():
        of_kind, matrix = by_kind[kind]
        rule_value = _rule_value(name, fields.get(name), currency)
        rule_confidence = confidence.get(name, 0.0) if rule_value is not None else 0.0
        agrees = [cands_module.agreement(cand, name, rule_value) for cand in of_kind]
        rows = np.column_stack(
            [matrix, np.asarray(agrees, dtype=np.float64), np.full(len(of_kind), rule_confidence)]
        )
        table[name] = (of_kind, rows)
    return table


def _rule_value(name: str, value: Any, currency: str | None) -> Any:
    if value is None:
        return None
    if FIELD_KINDS[name] == "amount":
        return money.from_minor_units(value, currency)
    return value


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
    for name, (found, rows) in table.items():
        if name not in loaded.boosters or not len(rows):
            continue
        probabilities = loaded.probabilities(name, rows)
        best = int(np.argmax(probabilities))
        p = float(probabilities[best])
        rule_value = _rule_value(name, fields.get(name), currency)
        if model_decides(p, rule_value is not None):
            fields[name] = _field_value(name, found[best], rule_value, currency)
            confidence[name] = round(p, 3)
        elif rule_value is not None:
            agreeing = [
                float(prob)
                for cand, prob in zip(found, probabilities, strict=True)
                if cands_module.agreement(cand, name, rule_value)
            ]
            # The rules' value stays; the model's doubt about it is its confidence.
            confidence[name] = round(min(confidence.get(name, 0.0), max(agreeing, default=p)), 3)


def _field_value(name: str, cand: Cand, rule_value: Any, currency: str | None) -> Any:
    if cand.kind == "amount":
        value = cand.value
        if rule_value is not None and abs(rule_value) == abs(value):
            value = rule_value  # the rules know a credit note's sign
        return money.to_minor_units(value, currency)
    return cand.value
