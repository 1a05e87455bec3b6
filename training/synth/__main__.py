"""python -m training.synth --out DIR --count N --seed S [--scans 0.3] [--layouts L01,L02]

Writes DIR/pdf-text/*.pdf, DIR/pdf-scan/*.pdf (for the --scans fraction, each a scan of a text
PDF of the same set) and DIR/manifest.jsonl in the development corpus's manifest format."""

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

from . import LAYOUT_FAMILIES, generate, render_scan
from .layouts import FAMILIES
from .scan import VARIANTS


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m training.synth", description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0, help="first seed; documents use seed+i")
    parser.add_argument("--scans", type=float, default=0.0, help="fraction also scanned")
    parser.add_argument("--layouts", help="comma-separated family ids, e.g. L01,L07")
    parser.add_argument("--language", help="pin the language (en, de, fr, es, it, nl, pt)")
    args = parser.parse_args(argv)
    layouts = None
    if args.layouts:
        ids = [x.strip() for x in args.layouts.split(",") if x.strip()]
        unknown = [x for x in ids if x not in LAYOUT_FAMILIES]
        if unknown:
            parser.error(f"unknown layouts {unknown}; known: {', '.join(LAYOUT_FAMILIES)}")
        layouts = [FAMILIES.index(LAYOUT_FAMILIES[x]) + 1 for x in ids]
    (args.out / "pdf-text").mkdir(parents=True, exist_ok=True)
    (args.out / "pdf-scan").mkdir(parents=True, exist_ok=True)
    with (args.out / "manifest.jsonl").open("w") as manifest:
        for i in range(args.count):
            seed = args.seed + i
            layout = layouts[seed % len(layouts)] if layouts else None
            doc = generate(seed, layout=layout, language=args.language)
            name = f"synth-{seed:07d}-{doc.layout}-{doc.language}"
            text_file = f"pdf-text/{name}.pdf"
            (args.out / text_file).write_bytes(doc.pdf)
            manifest.write(json.dumps(_entry(text_file, "pdf-text", doc, doc.pdf, seed)) + "\n")
            chooser = random.Random(f"synth:{seed}:scan-choice")
            if chooser.random() < args.scans:
                variant = chooser.choice(VARIANTS)
                scan = render_scan(doc.pdf, seed, variant)
                scan_file = f"pdf-scan/{name}-{variant}.pdf"
                (args.out / scan_file).write_bytes(scan)
                entry = _entry(scan_file, "pdf-scan", doc, scan, seed)
                entry["truth_extra"] |= {"scan_of": text_file, "scan_variant": variant}
                manifest.write(json.dumps(entry) + "\n")
    return 0


def _entry(file, kind, doc, data, seed):
    return {
        "file": file,
        "kind": kind,
        "truth": doc.truth,
        "truth_extra": doc.truth_extra | {"seed": seed, "scan_of": None},
        "note": "synthetic (training.synth)",
        "sha256": hashlib.sha256(data).hexdigest(),
    }


if __name__ == "__main__":
    sys.exit(main())
