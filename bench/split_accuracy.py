"""Page-boundary accuracy of the document splitter on generated batches.

    python bench/split_accuracy.py [--batches N] [--seed S] [--kinds pdf-text,pdf-scan]
                                   [--synth N] [--show-misses]

Every PDF of the development corpora (text, scanned and Factur-X, their XML ignored) is
read once the way the service reads it (text layer, else RapidOCR, cached like
`make train`'s), and each page's signals are computed once. A batch is 2 to 10 documents
drawn at random, in random order, their pages concatenated as one scanned stack would be;
the truth is where each document starts. Printed: boundary precision, recall and F1 over
every page transition of every batch (goal F1 >= 0.97), per kind mix, and how many batches
were split exactly right. The splitter's rules were written against these corpora, so the
same figures follow for N generated invoices (`training/synth`, layouts and languages the
rules never saw one by one), the closer guess of how it does on unseen producers.

Prints figures only; nothing here is asserted in tests.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import pymupdf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generalization import DEFAULT_CORPORA, producer_of

from training import ranker as training
from workers.extraction.splitting import PageSignals, document_starts, page_signals

KINDS = ("pdf-text", "pdf-scan", "pdf-facturx")


def load_documents(
    kinds: tuple[str, ...],
) -> list[tuple[str, str, str, list[PageSignals]]]:
    """(file, kind, producer, per-page signals) of every document."""
    documents = []
    for corpus, entry in training.corpus_entries(DEFAULT_CORPORA, kinds):
        data = (corpus / entry["file"]).read_bytes()
        pages, source = training.pages_of_pdf(data)
        signals = [page_signals(page, source) for page in pages]
        documents.append((entry["file"], entry["kind"], producer_of(entry), signals))
    return documents


def synth_documents(count: int, seed: int) -> list[tuple[str, str, str, list[PageSignals]]]:
    from training import synth
    from workers.extraction.pdf_text import page_words

    documents = []
    for offset in range(count):
        invoice = synth.generate(seed + offset)
        with pymupdf.open(stream=invoice.pdf, filetype="pdf") as pdf:
            signals = [page_signals(page_words(page)) for page in pdf]
        name = f"synth-{invoice.seed}-{invoice.layout}"
        documents.append((name, "synth", invoice.layout, signals))
    return documents


def score(documents, batches: int, seed: int, show_misses: bool) -> dict[str, float]:
    rng = random.Random(seed)
    tp = fp = fn = exact = 0
    for _ in range(batches):
        chosen = rng.sample(documents, rng.randint(2, min(10, len(documents))))
        signals: list[PageSignals] = []
        truth: set[int] = set()
        for _, _, _, pages in chosen:
            truth.add(len(signals))
            signals.extend(pages)
        found = set(document_starts(signals))
        truth.discard(0)
        found.discard(0)
        tp += len(found & truth)
        fp += len(found - truth)
        fn += len(truth - found)
        exact += found == truth
        if show_misses and found != truth:
            names = [f"{name}({len(pages)}p)" for name, _, _, pages in chosen]
            print(f"  miss: truth {sorted(truth)} found {sorted(found)}: {' '.join(names)}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "exact": exact / batches}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--synth", type=int, default=300)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    documents = load_documents(tuple(args.kinds.split(",")))
    pages = sum(len(d[3]) for d in documents)
    print(
        f"{len(documents)} documents, {pages} pages read in {time.perf_counter() - started:.1f} s"
    )
    mixes = {"all": documents}
    for kind in sorted({d[1] for d in documents}):
        mixes[kind] = [d for d in documents if d[1] == kind]
    if args.synth:
        mixes["generated"] = synth_documents(args.synth, args.seed)
    print(f"{'batches of':<14} {'precision':>9} {'recall':>7} {'F1':>6} {'exact':>6}")
    for name, pool in mixes.items():
        if len(pool) < 2:
            continue
        figures = score(pool, args.batches, args.seed, args.show_misses and name == "all")
        print(
            f"{name:<14} {figures['precision']:>9.3f} {figures['recall']:>7.3f} "
            f"{figures['f1']:>6.3f} {figures['exact']:>6.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
