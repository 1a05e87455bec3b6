"""Train the field ranker (`workers/extraction/ranker.py`) and measure it leave one producer
out.

    INVEX_CORPORA=dir1:dir2 python -m training.ranker [--synth N] [--scans N] [--seed S]
                                                      [--out DIR] [--dataset ROWS.pkl]

The training documents are generated invoices (`training.synth`, N of them from the seed,
every layout family) and the visual documents of the corpora named by `INVEX_CORPORA`
(directories with a `manifest.jsonl`; `make train` names the development corpora), each read
exactly as the service reads it: the text layer, or RapidOCR for a scan (OCR pages are
cached under `~/.cache/invex/ocr-pages`, keyed by the file's hash). Every candidate of every
document becomes a row; its label is whether its value is the document's true value.

One gradient-boosted tree model per field (LightGBM, one thread, deterministic mode, a fixed
seed: the same data gives the same model), saved as LightGBM's text model files into
`workers/extraction/models/`. `make train` runs this with the defaults.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import pickle
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from workers.extraction import candidates as cands_module
from workers.extraction import ranker
from workers.extraction.candidates import FIELD_KINDS
from workers.extraction.dates import infer_day_first
from workers.extraction.fields import Document, parse_invoice_pages
from workers.extraction.layout import Page, Word
from workers.extraction.ocr_words import split_glued_words
from workers.extraction.receipts import RECEIPT_FIELDS, refine_receipt_fields

OCR_CACHE = Path(os.environ.get("INVEX_OCR_CACHE", Path.home() / ".cache" / "invex" / "ocr-pages"))
VISUAL_KINDS = ("pdf-text", "pdf-scan")
SEED = 20261202
SYNTH_DOCUMENTS = 1500
# Generated scans go through RapidOCR like real ones (seconds each, cached afterwards).
SYNTH_SCANS = 150
# Small trees with many documents per leaf: chosen by leave-producers-out accuracy
# (bench/generalization.py), where deeper trees learnt the producers themselves.
MODEL_PARAMS = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 7,
    "min_data_in_leaf": 50,
    "lambda_l2": 1.0,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}
ROUNDS = 150
# A real document counts as several generated ones: there are few, and they carry the
# habits of real producers that the generator does not know.
CORPUS_WEIGHT = float(os.environ.get("INVEX_RANKER_CORPUS_WEIGHT", "5"))


@dataclass
class TrainDoc:
    name: str
    group: str  # the producer: nothing trained on a group may score it
    kind: str  # pdf-text | pdf-scan
    truth: dict[str, Any]
    source: str  # synth | corpus


@dataclass
class Rows:
    """Every candidate row of one field: features, label, the document it came from."""

    x: list[list[float]] = field(default_factory=list)
    y: list[int] = field(default_factory=list)
    doc: list[int] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)


@dataclass
class Dataset:
    docs: list[TrainDoc]
    rows: dict[str, Rows]
    rule_values: list[dict[str, Any]]  # per document: what the rules alone read
    # per document: what the service's receipt reading puts over the ranker's choice
    receipt_values: list[dict[str, Any]] = field(default_factory=list)

    def arrays(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = self.rows[name]
        return (
            np.asarray(rows.x, dtype=np.float32).reshape(len(rows.y), -1),
            np.asarray(rows.y, dtype=np.int8),
            np.asarray(rows.doc, dtype=np.int32),
        )


# --- documents ---------------------------------------------------------------------------


def own_group(entry: dict[str, Any]) -> str:
    """A corpus document's group when the caller knows no better: the manifest's `producer`,
    else the document itself."""
    return str((entry.get("truth_extra") or {}).get("producer") or entry["file"])


def corpus_entries(
    corpora: list[Path], kinds: tuple[str, ...] = VISUAL_KINDS
) -> Iterator[tuple[Path, dict[str, Any]]]:
    for corpus in corpora:
        manifest = corpus / "manifest.jsonl"
        if not manifest.exists():
            continue
        for line in manifest.open():
            entry = json.loads(line)
            if entry["kind"] in kinds:
                yield corpus, entry


def pages_of_pdf(data: bytes) -> tuple[list[Page], str]:
    """The pages as the service reads them: the text layer, else OCR (cached)."""
    import pymupdf  # noqa: PLC0415

    from workers.extraction.pdf_text import page_has_text_layer, page_words  # noqa: PLC0415

    with pymupdf.open(stream=data, filetype="pdf") as pdf:
        if all(page_has_text_layer(page) for page in pdf):
            return [page_words(page) for page in pdf], "pdf_text"
    return ocr_pages_cached(data), "ocr"


def ocr_pages_cached(data: bytes) -> list[Page]:
    from workers.extraction import sniff  # noqa: PLC0415
    from workers.extraction.images import load_scan_images  # noqa: PLC0415
    from workers.extraction.ocr import ocr_pages, selected_engine  # noqa: PLC0415

    key = hashlib.sha256(data).hexdigest()
    path = OCR_CACHE / selected_engine() / f"{key}.json"
    if path.exists():
        stored = json.loads(path.read_text())
        # Cut again: the cut rules may have grown since the page was cached.
        return [
            split_glued_words(
                Page(p["number"], p["width"], p["height"], tuple(Word(*w) for w in p["words"]))
            )
            for p in stored
        ]
    pages = ocr_pages(load_scan_images(data, sniff.PDF))
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = [
        {
            "number": p.number,
            "width": p.width,
            "height": p.height,
            "words": [[w.text, w.x0, w.y0, w.x1, w.y1, w.page, w.confidence] for w in p.words],
        }
        for p in pages
    ]
    path.write_text(json.dumps(stored))
    return pages


# --- labels --------------------------------------------------------------------------------


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\s,.;:'\"()\[\]-]+", " ", text).strip()


def names_match(truth: str, value: str) -> bool:
    a, b = _norm(truth), _norm(value)
    if not a or not b:
        return False
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if short in long_ and len(short) >= 0.6 * len(long_):
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.85


def is_true(kind: str, value: Any, truth: Any) -> bool:
    if truth in (None, ""):
        return False
    if kind == "amount":
        try:
            return abs(value) == abs(Decimal(str(truth)))
        except InvalidOperation:
            return False
    if kind == "name":
        return names_match(str(truth), str(value))
    if kind == "id":
        clean = lambda v: re.sub(r"\s", "", str(v)).lstrip("#").casefold()  # noqa: E731
        return clean(value) == clean(truth)
    return str(value) == str(truth)


# --- rows ----------------------------------------------------------------------------------


def document_rows(pages: list[Page], source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the rules' fields, per field its candidates and rows) for one document."""
    fields = parse_invoice_pages(pages, source=source, rank=False)
    doc = Document(pages)
    blocks = doc.blocks
    day_first = infer_day_first(doc.texts, doc.language, fields.get("currency"))
    table = ranker.candidate_table(doc, blocks, day_first, fields, fields["field_confidence"])
    return fields, table


def receipt_values(fields: dict[str, Any], pages: list[Page], source: str) -> dict[str, Any]:
    """The fields the service re-reads the receipt way after the ranker chose (OCR'd
    receipts only, `ocr.fields_of_ocr_pages`): field -> (value, confidence), amounts in
    major units, so a bench scores what the service returns."""
    if source != "ocr":
        return {}
    # the fields blanked first, so what comes back was read the receipt way
    refined = refine_receipt_fields({**fields, **dict.fromkeys(RECEIPT_FIELDS)}, pages)
    if refined.get("document_type") != "receipt":
        return {}
    confidence = refined.get("field_confidence") or {}
    found = {}
    for name in RECEIPT_FIELDS:
        value = refined.get(name)
        if value is not None:
            value = ranker.candidate_value(name, value, refined.get("currency"))
            found[name] = (value, confidence.get(name))
    return found


def add_document(dataset: Dataset, doc: TrainDoc, pages: list[Page], source: str) -> None:
    fields, table = document_rows(pages, source)
    index = len(dataset.docs)
    dataset.docs.append(doc)
    dataset.rule_values.append({name: fields.get(name) for name in FIELD_KINDS})
    dataset.receipt_values.append(receipt_values(fields, pages, source))
    for name, (found, rows) in table.items():
        kind = FIELD_KINDS[name]
        target = dataset.rows.setdefault(name, Rows())
        for cand, row in zip(found, rows, strict=True):
            target.x.append(row)
            target.y.append(int(is_true(kind, cand.value, doc.truth.get(name))))
            target.doc.append(index)
            target.values.append(cand.value)


def build_dataset(
    *,
    synth: int,
    scans: int,
    seed: int,
    corpora: list[Path],
    kinds: tuple[str, ...] = VISUAL_KINDS,
    group_of: Callable[[dict[str, Any]], str] = own_group,
    log: Any = print,
) -> Dataset:
    """The rows of every document; `group_of` names a corpus document's producer, the unit
    that `fit(exclude=...)` leaves out (generated ones are grouped by layout family)."""
    dataset = Dataset([], {}, [])
    started = time.monotonic()
    if synth:
        from training import synth as generator  # noqa: PLC0415

        for number in range(synth):
            made = generator.generate(seed + number)
            group = f"synth-{made.layout}"
            truth = made.truth
            pages, source = pages_of_pdf(made.pdf)
            add_document(
                dataset,
                TrainDoc(f"synth-{number}", group, "pdf-text", truth, "synth"),
                pages,
                source,
            )
            if number < scans:
                variant = ("standard", "phone", "fax")[number % 3]
                scan = generator.render_scan(made.pdf, seed + number, variant)
                pages, source = pages_of_pdf(scan)
                add_document(
                    dataset,
                    TrainDoc(f"synth-{number}-scan", group, "pdf-scan", truth, "synth"),
                    pages,
                    source,
                )
            if (number + 1) % 200 == 0:
                log(f"  {number + 1} generated documents read ({time.monotonic() - started:.0f} s)")
    for corpus, entry in corpus_entries(corpora, kinds):
        pages, source = pages_of_pdf((corpus / entry["file"]).read_bytes())
        truth = dict(entry["truth"])
        add_document(
            dataset,
            TrainDoc(entry["file"], group_of(entry), entry["kind"], truth, "corpus"),
            pages,
            source,
        )
    log(f"dataset: {len(dataset.docs)} documents in {time.monotonic() - started:.0f} s")
    return dataset


# --- models --------------------------------------------------------------------------------


def fit(dataset: Dataset, *, exclude: set[str] = frozenset(), seed: int = SEED) -> dict[str, Any]:
    """One model per field, trained on every document whose group is not excluded."""
    import lightgbm  # noqa: PLC0415

    keep = np.asarray([doc.group not in exclude for doc in dataset.docs])
    weight_of = np.asarray(
        [CORPUS_WEIGHT if doc.source == "corpus" else 1.0 for doc in dataset.docs]
    )
    models = {}
    for name in FIELD_KINDS:
        x, y, doc = dataset.arrays(name)
        mask = keep[doc] if len(doc) else np.zeros(0, dtype=bool)
        if mask.sum() == 0 or y[mask].sum() == 0:
            continue
        params = {**MODEL_PARAMS, "seed": seed}
        data = lightgbm.Dataset(
            x[mask], label=y[mask], weight=weight_of[doc][mask], params={"verbosity": -1}
        )
        models[name] = lightgbm.train(params, data, num_boost_round=ROUNDS)
    return models


def predict(dataset: Dataset, models: dict[str, Any], docs: list[int]) -> list[dict[str, Any]]:
    """Per document: field -> (value, confidence) as `ranker.apply` would choose (amounts in
    major units), from the models' scores of its candidates and what the rules read."""
    wanted = np.asarray(sorted(set(docs)), dtype=np.int32)
    scores: list[dict[str, ranker.FieldScores]] = [{} for _ in dataset.docs]
    for name in FIELD_KINDS:
        model = models.get(name)
        x, _, doc = dataset.arrays(name)
        if model is None or not len(doc):
            continue
        mask = np.isin(doc, wanted)
        if not mask.any():
            continue
        probabilities = np.asarray(model.predict(x[mask]))
        indexes = np.nonzero(mask)[0]
        owners = doc[indexes]
        # A document's rows are contiguous: split at each change of owner.
        cuts = np.nonzero(np.diff(owners))[0] + 1
        for rows, probs in zip(np.split(indexes, cuts), np.split(probabilities, cuts), strict=True):
            owner = int(doc[rows[0]])
            currency = dataset.docs[owner].truth.get("currency")
            rule = dataset.rule_values[owner].get(name)
            scores[owner][name] = ranker.FieldScores(
                values=[dataset.rows[name].values[row] for row in rows],
                probabilities=probs,
                agrees=x[rows, -2],
                rule_value=ranker.candidate_value(name, rule, currency),
                rule_confidence=float(x[rows[0], -1]),
            )
    chosen = set(docs)
    return [ranker.decide(scores[i]) if i in chosen else {} for i in range(len(dataset.docs))]


def export(models: dict[str, Any], directory: Path, meta: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("ranker-*.txt"):
        stale.unlink()
    fields_meta = {}
    for name, model in models.items():
        file = f"ranker-{name}.txt"
        model.save_model(str(directory / file))
        columns = cands_module.feature_names(FIELD_KINDS[name])
        fields_meta[name] = {"file": file, "kind": FIELD_KINDS[name], "columns": len(columns)}
    (directory / "ranker.json").write_text(
        json.dumps({**meta, "fields": fields_meta}, indent=2, sort_keys=True) + "\n"
    )


def corpora_from_environment() -> list[Path]:
    return [Path(p) for p in os.environ.get("INVEX_CORPORA", "").split(os.pathsep) if p]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--synth", type=int, default=SYNTH_DOCUMENTS, help="generated documents")
    parser.add_argument(
        "--scans", type=int, default=SYNTH_SCANS, help="of them also as scans (OCR)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=ranker.MODEL_DIR)
    parser.add_argument("--dataset", type=Path, help="a pickle of the rows to reuse or write")
    args = parser.parse_args(argv)
    corpora = corpora_from_environment()
    missing = [str(path) for path in corpora if not (path / "manifest.jsonl").exists()]
    if missing or not corpora:
        # The shipped models were trained with both development corpora: without them the
        # files differ.
        print(f"WARNING: no corpus at {', '.join(missing) or '(none named)'}; see INVEX_CORPORA")
    if args.dataset and args.dataset.exists():
        dataset = pickle.loads(args.dataset.read_bytes())  # noqa: S301  (our own file)
    else:
        dataset = build_dataset(synth=args.synth, scans=args.scans, seed=args.seed, corpora=corpora)
        if args.dataset:
            args.dataset.write_bytes(pickle.dumps(dataset))
    models = fit(dataset, seed=args.seed)
    meta = {
        "seed": args.seed,
        "synth_documents": args.synth,
        "synth_scans": args.scans,
        "corpus_documents": sum(1 for doc in dataset.docs if doc.source == "corpus"),
        "params": MODEL_PARAMS,
        "rounds": ROUNDS,
        "corpus_weight": CORPUS_WEIGHT,
    }
    export(models, args.out, meta)
    print(f"models written to {args.out}: {', '.join(sorted(models))}")
    return 0


if __name__ == "__main__":
    # Run as training.ranker, not __main__: a saved dataset's classes then load anywhere.
    from training.ranker import main as run

    sys.exit(run())
