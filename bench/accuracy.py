"""Extraction accuracy on a corpus, per kind, and how well confidences are calibrated.

    python bench/accuracy.py [--corpus DIR] [--kinds xml-ubl,xml-cii] [--jobs N]
                             [--reuse RESULTS.jsonl] [--show-misses]
                             [--no-lopo] [--dataset ROWS.pkl]

Extracts every document once (`python -m workers.extraction.batch --format jsonl`), lets the
shared scorer print its per-kind table from those results, then prints a calibration table:
for each confidence band, how often a field with that `field_confidence` is right. The goal
is that fields with confidence >= 0.9 are right at least 95% of the time. Correctness uses
the scorer's own comparison, so both tables agree on what "right" means.

Then, unless --no-lopo, the generalization figures of `bench/generalization.py`: each
producer of both development corpora (and each generated layout family) scored by field
ranker models that never saw it, beside in-sample and the rules alone, with the calibration
of those out-of-producer confidences (it reads every visual document once and trains six
sets of models: minutes, not seconds; --dataset keeps the rows for the next run).

Prints figures only; nothing here is asserted in tests.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(os.environ.get("INVEX_CORPUS", "/work/shared/corpus"))
SCORER = Path(os.environ.get("INVEX_SCORER", "/work/shared/tools/score_extraction.py"))
BANDS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01))
TRUSTED_CONFIDENCE, TRUSTED_ACCURACY = 0.9, 0.95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--kinds", help="comma-separated kinds (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--reuse", type=Path, help="score earlier results instead of extracting")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--no-lopo", action="store_true", help="skip leave-producers-out")
    parser.add_argument("--dataset", type=Path, help="ranker rows to reuse (see generalization)")
    args = parser.parse_args()

    docs = [json.loads(line) for line in (args.corpus / "manifest.jsonl").open()]
    if args.kinds:
        docs = [doc for doc in docs if doc["kind"] in args.kinds.split(",")]
    paths = [str((args.corpus / doc["file"]).resolve()) for doc in docs]

    results_file = args.reuse or extract(paths, args.jobs)
    print_scorer_table(args, results_file)
    results = {}
    for line in results_file.read_text().splitlines():
        if line.startswith("{"):
            result = json.loads(line)
            results[str(Path(result["file"]).resolve())] = result
    print_calibration(docs, paths, results, load_scorer())
    if not args.no_lopo:
        print("\nleave producers out (bench/generalization.py)\n")
        command = [sys.executable, str(Path(__file__).with_name("generalization.py"))]
        if args.dataset:
            command += ["--dataset", str(args.dataset)]
        subprocess.run(command, check=False)
    return 0


def extract(paths: list[str], jobs: int) -> Path:
    handle, name = tempfile.mkstemp(prefix="invex-accuracy-", suffix=".jsonl")
    started = time.monotonic()
    with os.fdopen(handle, "w") as out:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "workers.extraction.batch",
                "--format",
                "jsonl",
                "--jobs",
                str(jobs),
                *paths,
            ],
            stdout=out,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
    seconds = time.monotonic() - started
    print(
        f"extracted {len(paths)} documents in {seconds:.1f} s "
        f"({len(paths) / seconds:.2f} docs/s; the scorer's docs/s below times a replay); "
        f"results in {name}\n"
    )
    return Path(name)


def print_scorer_table(args: argparse.Namespace, results_file: Path) -> None:
    """The scorer runs a command and appends the paths; replaying the saved results keeps
    its table and ours from the same single extraction."""
    replay = [
        sys.executable,
        "-c",
        "import sys; sys.stdout.write(open(sys.argv[1]).read())",
        str(results_file),
    ]
    command = [
        sys.executable,
        str(SCORER),
        *(["--kinds", args.kinds] if args.kinds else []),
        *(["--show-misses"] if args.show_misses else []),
        str(args.corpus),
        "--",
        *replay,
    ]
    subprocess.run(command, check=False)


def load_scorer():
    spec = importlib.util.spec_from_file_location("score_extraction", SCORER)
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    return scorer


def print_calibration(docs, paths, results, scorer) -> None:
    # (band, kind) -> [right, total]; band None = a value given without any confidence.
    cells = collections.defaultdict(lambda: [0, 0])
    for doc, path in zip(docs, paths, strict=True):
        result = results.get(path) or {}
        if result.get("error"):
            continue
        confidences = result.get("field_confidence") or {}
        currency = doc["truth"].get("currency") or result.get("currency")
        for field in scorer.FIELDS:
            if field not in doc["truth"] or scorer.skipped(doc, field):
                continue
            if result.get(field) in (None, ""):
                continue  # nothing claimed, nothing to calibrate
            right = scorer.field_matches(field, doc["truth"][field], result.get(field), currency)
            band = band_of(confidences.get(field))
            for kind in (doc["kind"], "all"):
                cells[(band, kind)][0] += right
                cells[(band, kind)][1] += 1

    kinds = [*sorted({doc["kind"] for doc in docs}), "all"]
    print()
    print("confidence calibration (fields given a value: right/total)")
    print(f"{'confidence':16}" + "".join(f"{kind:>13}" for kind in kinds))
    for band in [*BANDS, None]:
        label = "none" if band is None else f"{band[0]:.1f}-{min(band[1], 1.0):.1f}"
        row = f"{label:16}"
        for kind in kinds:
            right, total = cells.get((band, kind), (0, 0))
            row += f"{(f'{right}/{total} {right / total:.2f}' if total else '-'):>13}"
        print(row)
    right, total = cells.get((BANDS[-1], "all"), (0, 0))
    accuracy = right / total if total else 1.0
    verdict = "ok" if accuracy >= TRUSTED_ACCURACY else "TOO OPTIMISTIC"
    print(
        f"CALIBRATION confidence>={TRUSTED_CONFIDENCE} right={accuracy:.3f} "
        f"({right}/{total}) target>={TRUSTED_ACCURACY} {verdict}"
    )


def band_of(confidence):
    if not isinstance(confidence, (int, float)):
        return None
    return next(band for band in BANDS if band[0] <= confidence < band[1])


if __name__ == "__main__":
    sys.exit(main())
