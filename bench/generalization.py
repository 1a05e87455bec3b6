"""Leave-one-producer-out accuracy of the header fields, beside in-sample accuracy.

    python bench/generalization.py [--synth N] [--folds K] [--seed S] [--dataset CACHE.pkl]

Every visual document of the development corpora (and N generated ones) is read once, the
way the service reads it (text layer or RapidOCR), into the ranker's candidate rows
(`training/ranker.py`). Documents are grouped by producer (`producer` in
corpus-layouts' manifest; the renderer or company of a `../shared/corpus` file; the layout
family of a generated one), and the groups are split into K folds: each fold is scored by
models trained on the other folds only, so nothing trained on a producer scores it. That
is stricter than leaving one producer out at a time and costs K trainings instead of one
per producer.

Printed per kind (pdf-text, pdf-scan; the generated documents apart as "synth") and per
field: the rules alone, the ranker in-sample (trained on everything, as shipped), the
ranker out-of-producer, and the gap between the last two; then the out-of-producer
calibration table (how often a value with confidence >= 0.9 is right). Line items are
not ranked (the rules read them) and are scored by bench/accuracy.py.

Prints figures only; nothing here is asserted in tests.
"""

from __future__ import annotations

import argparse
import collections
import pickle
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accuracy import load_scorer  # bench/ is the script's own directory

from training import ranker as training
from workers.extraction import ranker
from workers.extraction.candidates import FIELD_KINDS

# The development corpora, as `make train` names them (INVEX_CORPORA overrides).
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPORA = [ROOT.parent / "shared" / "corpus", ROOT.parent / "shared" / "corpus-layouts"]


def producer_of(entry: dict) -> str:
    """The producer (layout source) of a corpus document: the manifest's `producer` where it
    has one, else the renderer named in the file name."""
    extra = entry.get("truth_extra") or {}
    if extra.get("producer"):
        return str(extra["producer"])
    name = Path(entry["file"]).name
    for renderer in ("intarsys", "symtrax", "mustang"):
        if renderer in name.lower():
            return f"zugferd-{renderer}"
    head, _, rest = name.partition("_")
    # invoice2data's and SROIE's documents each come from another company.
    return f"{head}-{rest.split('.')[0].split('_')[0]}"


BANDS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01))


def folds_of(groups: list[str], k: int) -> dict[str, int]:
    """Groups dealt round-robin into k folds, largest first, so folds are of similar size."""
    sizes = collections.Counter(groups)
    ordered = sorted(sizes, key=lambda g: (-sizes[g], g))
    return {group: index % k for index, group in enumerate(ordered)}


def chosen(prediction: dict, rules: dict, receipt: dict, currency: str | None) -> tuple[dict, dict]:
    """The value the service would return per field and its confidence (amounts as text):
    the ranker's choice, else the rules', and on a receipt what the receipt reading found."""
    values, confidence = {}, {}
    for name in FIELD_KINDS:
        if name in receipt:
            value, confidence[name] = receipt[name]
        elif name in prediction:
            value, confidence[name] = prediction[name]
        else:
            value = ranker.candidate_value(name, rules.get(name), currency)
        values[name] = str(value) if isinstance(value, Decimal) else value
    return values, confidence


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--synth", type=int, default=training.SYNTH_DOCUMENTS)
    parser.add_argument("--scans", type=int, default=training.SYNTH_SCANS)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=training.SEED)
    parser.add_argument("--kinds", default="pdf-text,pdf-scan", help="corpus kinds to read")
    parser.add_argument("--dataset", type=Path, help="a pickle to reuse (written if missing)")
    parser.add_argument(
        "--misses", action="store_true", help="list each corpus miss out of producer"
    )
    args = parser.parse_args()
    scorer = load_scorer()

    if args.dataset and args.dataset.exists():
        dataset = pickle.loads(args.dataset.read_bytes())
    else:
        dataset = training.build_dataset(
            synth=args.synth,
            scans=args.scans,
            seed=args.seed,
            corpora=training.corpora_from_environment() or DEFAULT_CORPORA,
            group_of=producer_of,
            kinds=tuple(args.kinds.split(",")),
        )
        if args.dataset:
            args.dataset.write_bytes(pickle.dumps(dataset))

    everything = list(range(len(dataset.docs)))
    started = time.monotonic()
    in_sample = training.predict(dataset, training.fit(dataset, seed=args.seed), everything)
    fold_of = folds_of([doc.group for doc in dataset.docs], args.folds)
    held_out: list[dict] = [{} for _ in dataset.docs]
    for fold in range(args.folds):
        groups = {group for group, f in fold_of.items() if f == fold}
        members = [i for i, doc in enumerate(dataset.docs) if doc.group in groups]
        models = training.fit(dataset, exclude=groups, seed=args.seed)
        for i, prediction in enumerate(training.predict(dataset, models, members)):
            if i in members:
                held_out[i] = prediction
    print(
        f"{len(dataset.docs)} documents, {len(fold_of)} producers in {args.folds} folds; "
        f"{args.folds + 1} trainings in {time.monotonic() - started:.0f} s\n"
    )

    # (section, field) -> [rules, in-sample, held-out, total]
    table = collections.defaultdict(lambda: [0, 0, 0, 0])
    calibration = collections.defaultdict(lambda: [0, 0])
    misses = []
    for i, doc in enumerate(dataset.docs):
        section = "synth" if doc.source == "synth" else doc.kind
        currency = doc.truth.get("currency")
        rules = dataset.rule_values[i]
        receipt = dataset.receipt_values[i]
        results = [
            chosen({}, rules, receipt, currency)[0],
            chosen(in_sample[i], rules, receipt, currency)[0],
        ]
        held_values, held_confidence = chosen(held_out[i], rules, receipt, currency)
        results.append(held_values)
        for name in FIELD_KINDS:
            if name not in doc.truth:
                continue
            row = table[(section, name)]
            for column, values in enumerate(results):
                row[column] += scorer.field_matches(
                    name, doc.truth[name], _scorer_value(values.get(name)), currency
                )
            row[3] += 1
            value = held_values.get(name)
            p = held_confidence.get(name)
            if doc.source == "corpus" and not scorer.field_matches(
                name, doc.truth[name], _scorer_value(value), currency
            ):
                misses.append((section, name, doc.name, doc.truth[name], value, rules.get(name), p))
            if value not in (None, "") and p is not None:
                band = next(b for b in BANDS if b[0] <= p < b[1])
                right = scorer.field_matches(name, doc.truth[name], _scorer_value(value), currency)
                calibration[(band, section)][0] += right
                calibration[(band, section)][1] += 1

    if args.misses:
        for miss in sorted(misses, key=lambda m: m[:3]):
            print("MISS", *miss, sep="\t")
        print()
    sections = [s for s in ("pdf-text", "pdf-scan", "synth") if any(k[0] == s for k in table)]
    for section in sections:
        print(f"== {section}: rules | ranker in-sample | ranker out-of-producer | gap")
        sums = [0, 0, 0, 0]
        for name in FIELD_KINDS:
            row = table.get((section, name))
            if not row or not row[3]:
                continue
            sums = [a + b for a, b in zip(sums, row, strict=True)]
            rates = [value / row[3] for value in row[:3]]
            print(
                f"  {name:16} {rates[0]:6.3f} {rates[1]:8.3f} {rates[2]:8.3f} "
                f"{rates[1] - rates[2]:+7.3f}   (n={row[3]})"
            )
        rates = [value / sums[3] for value in sums[:3]]
        print(
            f"  {'ALL':16} {rates[0]:6.3f} {rates[1]:8.3f} {rates[2]:8.3f} "
            f"{rates[1] - rates[2]:+7.3f}   (n={sums[3]})"
        )
        print(
            f"GENERALIZATION {section} rules={rates[0]:.3f} in_sample={rates[1]:.3f} "
            f"out_of_producer={rates[2]:.3f} gap={rates[1] - rates[2]:.3f}\n"
        )
    print("out-of-producer confidence calibration (right/total)")
    print(f"{'confidence':12}" + "".join(f"{s:>16}" for s in sections))
    for band in BANDS:
        row = f"{band[0]:.1f}-{min(band[1], 1.0):.1f}    "
        for section in sections:
            right, total = calibration.get((band, section), (0, 0))
            row += f"{(f'{right}/{total} {right / total:.2f}' if total else '-'):>16}"
        print(row)
    right = sum(calibration[(BANDS[-1], s)][0] for s in sections if s != "synth")
    total = sum(calibration[(BANDS[-1], s)][1] for s in sections if s != "synth")
    print(
        f"CALIBRATION corpora confidence>=0.9 right={right / total if total else 1:.3f} "
        f"({right}/{total}) target>=0.95"
    )
    return 0


def _scorer_value(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


if __name__ == "__main__":
    sys.exit(main())
