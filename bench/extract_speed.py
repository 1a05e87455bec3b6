"""How fast extraction is: text PDFs (ms per page) and OCR (s per page, peak memory).

    python bench/extract_speed.py [--corpus DIR] [--ocr-pages N] [--configs a,b] [--skip-text]

Prints figures and asserts nothing. Each OCR configuration runs in its own child process
(spawned one after another, never in parallel) that loads the model, warms up on a small
page, reads the same pages, and reports its wall time per page and its peak RSS. Word
accuracy is the share of reference words read (accents dropped, case folded, split at
punctuation): against stock EasyOCR's words, and against the text layer of the born-digital
PDF a rasterized page was made from, where the corpus has it.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import re
import resource
import statistics
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_CORPUS = Path("/work/shared/corpus")

# Invex's OCR with one change each, to show what each measure is worth.
CONFIGS: dict[str, dict[str, Any] | None] = {
    "stock": None,  # easyocr.Reader.readtext with its defaults
    "invex": {},
    "invex-fp32-detector": {"detector_bf16": False},
    "invex-no-crop": {"crop_margins": False},
    "invex-batched-only": {
        "detector_bf16": False,
        "channels_last": False,
        "crop_margins": False,
        "deskew": False,
    },
    "invex-detect-text-12px": {"detection_text_height": 12.0},
}
DEFAULT_CONFIGS = ("stock", "invex", "invex-fp32-detector", "invex-batched-only")


def word_counts(texts: list[str]) -> collections.Counter[str]:
    words: list[str] = []
    for text in texts:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        words.extend(w for w in re.split(r"[^0-9a-z]+", plain.casefold()) if w)
    return collections.Counter(words)


def share_read(reference: collections.Counter[str], read: collections.Counter[str]) -> float:
    total = sum(reference.values())
    return sum((reference & read).values()) / total if total else 0.0


# --- text PDFs -------------------------------------------------------------------------------


def bench_text_pdfs(corpus: Path, documents: list[dict[str, Any]]) -> None:
    import pymupdf

    try:
        from workers.extraction.pdf_text import extract_pdf_text
    except ImportError:
        extract_pdf_text = None
    paths = [corpus / d["file"] for d in documents if d["kind"] == "pdf-text"]
    if not paths:
        print("text PDFs: none in the corpus")
        return
    bare, parsed, pages = 0.0, 0.0, 0
    for path in paths:
        data = path.read_bytes()
        started = time.perf_counter()
        with pymupdf.open(stream=data, filetype="pdf") as doc:
            for page in doc:
                page.get_text("words")
            pages += doc.page_count
        bare += time.perf_counter() - started
        if extract_pdf_text is not None:
            started = time.perf_counter()
            extract_pdf_text(data)
            parsed += time.perf_counter() - started
    print(f"text PDFs: {len(paths)} files, {pages} pages")
    print(f"  PyMuPDF get_text('words') only       {1000 * bare / pages:8.2f} ms/page")
    if extract_pdf_text is not None:
        print(f"  extract_pdf_text (words + fields)    {1000 * parsed / pages:8.2f} ms/page")


# --- OCR -------------------------------------------------------------------------------------


def ocr_sample(corpus: Path, documents: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """First pages of scans, alternating A4 invoices (with a text-layer twin where there is
    one) and receipts, so both shapes are measured."""
    twins = {d["source_path"]: d["file"] for d in documents if d["kind"] == "pdf-facturx"}
    invoices = sorted(
        (d for d in documents if d["kind"] == "pdf-scan" and "rasterized" in d["file"]),
        key=lambda d: d["source_path"] not in twins,
    )
    receipts = [
        d for d in documents if d["kind"] in ("image-scan", "pdf-scan") and "sroie" in d["file"]
    ]
    sample = []
    for invoice, receipt in zip(invoices, receipts, strict=False):
        sample.append(
            {
                "file": str(corpus / invoice["file"]),
                "twin": str(corpus / twins[invoice["source_path"]])
                if invoice["source_path"] in twins
                else None,
            }
        )
        sample.append({"file": str(corpus / receipt["file"]), "twin": None})
    return sample[:count]


def run_config(name: str, settings: dict[str, Any] | None, files: list[str], results: Any) -> None:
    """In a child process: load, warm up, read each page, report times, words and RSS."""
    import cv2
    import numpy as np

    from workers.extraction import sniff
    from workers.extraction.images import load_scan_images
    from workers.extraction.ocr import OcrTuning, ocr_engine, ocr_pages

    started = time.perf_counter()
    engine = ocr_engine()
    load_seconds = time.perf_counter() - started
    warm = np.full((200, 400), 255, dtype=np.uint8)
    cv2.putText(warm, "Total 12.50", (20, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
    tuning = OcrTuning(**settings) if settings is not None else None
    if tuning is None:
        engine.reader.readtext(cv2.cvtColor(warm, cv2.COLOR_GRAY2BGR))
    else:
        ocr_pages([warm], tuning)
    pages = []
    for path in files:
        data = Path(path).read_bytes()
        scan = load_scan_images(data, sniff.sniff_content_type(data[:4096]) or "")[0]
        started, cpu_started = time.perf_counter(), time.process_time()
        if tuning is None:
            texts = [
                text
                for _, text, _ in engine.reader.readtext(
                    cv2.cvtColor(scan.pixels, cv2.COLOR_GRAY2BGR)
                )
            ]
        else:
            (page,) = ocr_pages([scan], tuning)
            texts = [word.text for word in page.words]
        pages.append(
            {
                "file": path,
                "seconds": time.perf_counter() - started,
                "cpu_seconds": time.process_time() - cpu_started,
                "texts": texts,
            }
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.put({"name": name, "load_seconds": load_seconds, "peak_mb": peak_mb, "pages": pages})


def bench_ocr(corpus: Path, documents: list[dict[str, Any]], count: int, names: list[str]) -> None:
    import pymupdf

    sample = ocr_sample(corpus, documents, count)
    files = [item["file"] for item in sample]
    context = multiprocessing.get_context("spawn")
    reports = {}
    for name in names:
        queue = context.Queue()
        child = context.Process(target=run_config, args=(name, CONFIGS[name], files, queue))
        child.start()
        reports[name] = queue.get()
        child.join()
        print(f"  measured {name}", file=sys.stderr, flush=True)

    truth = {}
    for item in sample:
        if item["twin"]:
            with pymupdf.open(item["twin"]) as doc:
                truth[item["file"]] = word_counts([w[4] for w in doc[0].get_text("words")])
    stock = reports.get("stock")
    stock_words = {p["file"]: word_counts(p["texts"]) for p in stock["pages"]} if stock else {}
    print(
        f"OCR: {len(files)} pages ({sum(1 for f in files if f in truth)} with a text-layer "
        "twin), wall seconds per page, one child process per configuration"
    )
    header = (
        f"  {'configuration':24} {'s/page':>7} {'cpu s':>7} {'vs stock':>8} "
        f"{'peak RSS':>9} {'load s':>6} {'words vs stock':>14} {'words vs truth':>14}"
    )
    print(header)
    stock_mean = statistics.mean(p["seconds"] for p in stock["pages"]) if stock else None
    stock_cpu = statistics.mean(p["cpu_seconds"] for p in stock["pages"]) if stock else None
    for name, report in reports.items():
        seconds = [p["seconds"] for p in report["pages"]]
        mean = statistics.mean(seconds)
        cpu = statistics.mean(p["cpu_seconds"] for p in report["pages"])
        speedup = f"{stock_mean / mean:7.2f}x" if stock_mean else "       -"
        cpu_speedup = f"{stock_cpu / cpu:.2f}x" if stock_cpu else "-"
        read = {p["file"]: word_counts(p["texts"]) for p in report["pages"]}
        vs_stock = (
            statistics.mean(share_read(stock_words[f], read[f]) for f in files)
            if stock_words
            else None
        )
        hits = sum(sum((truth[f] & read[f]).values()) for f in truth)
        total = sum(sum(truth[f].values()) for f in truth)
        vs_truth = hits / total if total else None
        print(
            f"  {name:24} {mean:7.2f} {cpu:7.2f} {speedup:>8} "
            f"{report['peak_mb']:7.0f}MB {report['load_seconds']:6.1f} "
            f"{(f'{vs_stock:.3f}' if vs_stock is not None else '-'):>14} "
            f"{(f'{vs_truth:.3f}' if vs_truth is not None else '-'):>14}   "
            f"(cpu {cpu_speedup}, median {statistics.median(seconds):.2f} s)"
        )
    print(
        "  per page (s): "
        + json.dumps(
            {
                Path(f).name: {
                    name: round(r["pages"][i]["seconds"], 2) for name, r in reports.items()
                }
                for i, f in enumerate(files)
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--ocr-pages", type=int, default=4)
    parser.add_argument(
        "--configs",
        default=",".join(DEFAULT_CONFIGS),
        help=f"comma-separated, from: {', '.join(CONFIGS)}",
    )
    parser.add_argument("--skip-text", action="store_true")
    parser.add_argument("--skip-ocr", action="store_true")
    args = parser.parse_args()
    documents = [json.loads(line) for line in (args.corpus / "manifest.jsonl").open()]
    if not args.skip_text:
        bench_text_pdfs(args.corpus, documents)
    if not args.skip_ocr:
        bench_ocr(args.corpus, documents, args.ocr_pages, args.configs.split(","))


if __name__ == "__main__":
    main()
