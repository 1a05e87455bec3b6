"""Line-item F1 per layout family and per kind, scored as the shared scorer scores it.

    python bench/line_items.py CORPUS_DIR [--kinds pdf-text] [--families L01,L02] [--misses N]

Runs `invex extract --format jsonl` once over the corpus's documents and prints the mean
line-item F1 (the scorer's `line_f1`, one value per document) per producer (the synthetic
layout family `synth-Lnn`, or the corpus producer) and per kind. `--misses N` prints the
true and read lines of the N worst documents.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

SCORER = Path("/work/shared/tools/score_extraction.py")


def load_scorer():
    spec = importlib.util.spec_from_file_location("score_extraction", SCORER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--kinds", default="pdf-text")
    parser.add_argument("--families", help="only these producers (comma-separated, e.g. L01)")
    parser.add_argument("--misses", type=int, default=0)
    args = parser.parse_args()
    scorer = load_scorer()
    docs = [json.loads(line) for line in (args.corpus / "manifest.jsonl").open()]
    docs = [d for d in docs if d["kind"] in args.kinds.split(",") and d["truth"].get("line_items")]
    if args.families:
        wanted = args.families.split(",")
        docs = [d for d in docs if any(f in family(d) for f in wanted)]
    paths = [str((args.corpus / d["file"]).resolve()) for d in docs]
    invex = Path(sys.executable).with_name("invex")
    proc = subprocess.run(
        [str(invex), "extract", "--format", "jsonl", *paths],
        check=False,
        capture_output=True,
        text=True,
    )
    results = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            obj = json.loads(line)
            results[str(Path(obj["file"]).resolve())] = obj
    by_family: dict[str, list[float]] = collections.defaultdict(list)
    by_kind: dict[str, list[float]] = collections.defaultdict(list)
    scored = []
    for doc, path in zip(docs, paths, strict=True):
        pred = results.get(path, {})
        currency = doc["truth"].get("currency")
        f1 = scorer.line_f1(doc["truth"]["line_items"], pred.get("line_items"), currency)
        by_family[family(doc)].append(f1)
        by_kind[doc["kind"]].append(f1)
        scored.append((f1, doc, pred))
    for name, values in sorted(by_family.items()):
        print(f"{name[:60]:60} {len(values):4} {sum(values) / len(values):.3f}")
    for name, values in sorted(by_kind.items()):
        print(f"{'kind ' + name:60} {len(values):4} {sum(values) / len(values):.3f}")
    everything = [f1 for f1, _, _ in scored]
    print(f"{'all':60} {len(everything):4} {sum(everything) / max(1, len(everything)):.3f}")
    for f1, doc, pred in sorted(scored, key=lambda s: s[0])[: args.misses]:
        print(f"\n== {doc['file']} F1={f1:.3f}")
        for item in doc["truth"]["line_items"]:
            print(f"  T {item.get('total')!s:>12}  {item.get('description')}")
        for item in pred.get("line_items") or []:
            print(f"  R {item.get('total_price')!s:>12}  {item.get('description')}")


def family(doc: dict) -> str:
    return str((doc.get("truth_extra") or {}).get("producer") or doc.get("source_repo") or "?")


if __name__ == "__main__":
    main()
