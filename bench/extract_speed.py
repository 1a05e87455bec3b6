"""How fast extraction is: text PDFs (ms per page) and OCR (s per page, peak memory).

    python bench/extract_speed.py [--corpus DIR] [--ocr-pages N] [--configs a,b] [--skip-text]
                                  [--skip-ocr] [--large-photo rapidocr,easyocr]

Prints figures and asserts nothing. Each OCR configuration (an engine, or stock EasyOCR
`readtext` as the baseline) runs in its own child process (spawned one after another, never
in parallel) that loads the model, warms up on a small page, reads the same pages, and
reports its wall time per page and its peak RSS. Word accuracy is the share of reference
words read (accents dropped, case folded, split at punctuation): against stock EasyOCR's
words, and against the text layer of the born-digital PDF a rasterized page was made from,
where the corpus has it. "values found" is the share of the pages' true invoice numbers,
dates, totals and vendor names that appear anywhere in the text read.
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
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_CORPUS = Path("/work/shared/corpus")

# Each OCR configuration: an engine of workers/extraction/ocr.py with constructor options,
# or stock EasyOCR (`easyocr.Reader.readtext` with its defaults) as the baseline.
CONFIGS: dict[str, dict[str, Any]] = {
    "stock-easyocr": {"engine": "stock"},
    "easyocr": {"engine": "easyocr"},
    "rapidocr": {"engine": "rapidocr"},
    "rapidocr-line-boxes": {"engine": "rapidocr", "word_boxes": False},
    "rapidocr-with-cls": {"engine": "rapidocr", "classify": True},
}
DEFAULT_CONFIGS = ("stock-easyocr", "easyocr", "rapidocr")


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


def bench_text_pdfs(corpus: Path, documents: list[dict[str, Any]], rounds: int = 3) -> None:
    """PyMuPDF's own word extraction beside ours, with and without the field ranker, each
    document in turn (the model is loaded before the clock starts, once per process)."""
    import os

    import pymupdf

    from workers.extraction import ranker
    from workers.extraction.pdf_text import extract_pdf_text

    paths = [corpus / d["file"] for d in documents if d["kind"] == "pdf-text"]
    if not paths:
        print("text PDFs: none in the corpus")
        return
    ranker.models()
    times = {"bare": 0.0, "rules": 0.0, "ranked": 0.0}
    pages = 0
    for _ in range(rounds):
        for path in paths:
            data = path.read_bytes()
            started = time.perf_counter()
            with pymupdf.open(stream=data, filetype="pdf") as doc:
                for page in doc:
                    page.get_text("words")
                pages += doc.page_count
            times["bare"] += time.perf_counter() - started
            for mode, switch in (("rules", "0"), ("ranked", "1")):
                os.environ["INVEX_RANKER"] = switch
                started = time.perf_counter()
                extract_pdf_text(data)
                times[mode] += time.perf_counter() - started
    os.environ.pop("INVEX_RANKER", None)
    print(f"text PDFs: {len(paths)} files, {pages // rounds} pages, {rounds} rounds")
    print(f"  PyMuPDF get_text('words') only       {1000 * times['bare'] / pages:8.2f} ms/page")
    print(f"  extract_pdf_text, rules only          {1000 * times['rules'] / pages:8.2f} ms/page")
    print(f"  extract_pdf_text, rules + ranker      {1000 * times['ranked'] / pages:8.2f} ms/page")


# --- OCR -------------------------------------------------------------------------------------


def ocr_sample(corpus: Path, documents: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """First pages of the corpus scans, alternating A4 invoices (those with a text-layer
    twin first) and everything else (receipts, photos), so that a short run measures both
    shapes and `--ocr-pages 60` measures every scan."""
    twins = {d["source_path"]: d["file"] for d in documents if d["kind"] == "pdf-facturx"}
    scans = [d for d in documents if d["kind"] in ("pdf-scan", "image-scan")]
    invoices = sorted(
        (d for d in scans if "rasterized" in d["file"]),
        key=lambda d: d["source_path"] not in twins,
    )
    others = [d for d in scans if "rasterized" not in d["file"]]
    ordered = []
    for index in range(max(len(invoices), len(others))):
        ordered.extend(group[index] for group in (invoices, others) if index < len(group))
    return [
        {
            "file": str(corpus / d["file"]),
            "twin": str(corpus / twins[d["source_path"]]) if d["source_path"] in twins else None,
            "truth": d.get("truth", {}),
        }
        for d in ordered[:count]
    ]


def values_found(truth: dict[str, Any], texts: list[str]) -> tuple[int, int]:
    """How many of the page's true invoice number, date, total and vendor name appear
    anywhere in the text read (spaces and case ignored; any common date and decimal
    format), and how many there were."""
    flat = re.sub(r"\s+", "", " ".join(texts)).casefold()
    digits_only = re.sub(r"[^0-9]", "", flat)
    wanted: list[list[str]] = []
    if truth.get("invoice_number"):
        wanted.append([re.sub(r"\s+", "", str(truth["invoice_number"])).casefold()])
    if truth.get("vendor_name"):
        wanted.append([re.sub(r"\s+", "", truth["vendor_name"]).casefold()])
    if truth.get("total_amount") is not None:
        units, cents = divmod(abs(int(Decimal(str(truth["total_amount"])) * 100)), 100)
        wanted.append(
            [
                f"{units}.{cents:02d}",
                f"{units},{cents:02d}",
                f"{units:,}.{cents:02d}",
                f"{units:,}.{cents:02d}".replace(",", "X").replace(".", ",").replace("X", "."),
            ]
        )
    if truth.get("invoice_date"):
        year, month, day = truth["invoice_date"].split("-")
        wanted.append(
            [
                "DATE:" + day + month + year,
                "DATE:" + year + month + day,
                "DATE:" + day + month + year[2:],
                "DATE:" + month + day + year,
                "DATE:" + str(int(day)) + str(int(month)) + year,
            ]
        )
    found = 0
    for options in wanted:
        for option in options:
            if option.startswith("DATE:"):
                if option[5:] in digits_only:
                    found += 1
                    break
            elif option.casefold() in flat:
                found += 1
                break
    return found, len(wanted)


def run_config(name: str, config: dict[str, Any], files: list[str], results: Any) -> None:
    """In a child process: load, warm up, read each page, report times, texts and RSS."""
    import cv2
    import numpy as np

    from workers.extraction import sniff
    from workers.extraction.images import load_scan_images
    from workers.extraction.ocr import load_engine, ocr_pages

    stock = config["engine"] == "stock"
    started = time.perf_counter()
    options = {key: value for key, value in config.items() if key != "engine"}
    engine = load_engine("easyocr" if stock else config["engine"], **options)
    load_seconds = time.perf_counter() - started
    warm = np.full((200, 400), 255, dtype=np.uint8)
    cv2.putText(warm, "Total 12.50", (20, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
    if stock:
        engine.reader.readtext(cv2.cvtColor(warm, cv2.COLOR_GRAY2BGR))
    else:
        ocr_pages([warm], engine)
    pages = []
    for path in files:
        data = Path(path).read_bytes()
        scan = load_scan_images(data, sniff.sniff_content_type(data[:4096]) or "")[0]
        started, cpu_started = time.perf_counter(), time.process_time()
        if stock:
            texts = [
                text
                for _, text, _ in engine.reader.readtext(
                    cv2.cvtColor(scan.pixels, cv2.COLOR_GRAY2BGR)
                )
            ]
        else:
            (page,) = ocr_pages([scan], engine)
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
    stock = reports.get("stock-easyocr")
    stock_words = {p["file"]: word_counts(p["texts"]) for p in stock["pages"]} if stock else {}
    print(
        f"OCR: {len(files)} pages ({sum(1 for f in files if f in truth)} with a text-layer "
        "twin), wall seconds per page, one child process per configuration"
    )
    header = (
        f"  {'configuration':24} {'s/page':>7} {'cpu s':>7} {'vs stock':>8} "
        f"{'peak RSS':>9} {'load s':>6} {'words vs stock':>14} {'words vs truth':>14} "
        f"{'values found':>12}"
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
        found = [
            values_found(item["truth"], p["texts"])
            for item, p in zip(sample, report["pages"], strict=True)
        ]
        values = sum(f for f, _ in found) / max(1, sum(t for _, t in found))
        print(
            f"  {name:24} {mean:7.2f} {cpu:7.2f} {speedup:>8} "
            f"{report['peak_mb']:7.0f}MB {report['load_seconds']:6.1f} "
            f"{(f'{vs_stock:.3f}' if vs_stock is not None else '-'):>14} "
            f"{(f'{vs_truth:.3f}' if vs_truth is not None else '-'):>14} {values:12.3f}   "
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


# --- a huge photo ----------------------------------------------------------------------------


def run_large_photo(engine_name: str, path: str, megapixels: float, results: Any) -> None:
    """In a child process: a corpus receipt photo enlarged to `megapixels`, saved as JPEG
    like a phone would, read by the whole scan path (decode, fit, deskew, OCR, words)."""
    import io

    from PIL import Image

    from workers.extraction import sniff
    from workers.extraction.images import load_scan_images
    from workers.extraction.ocr import ocr_engine, ocr_pages

    with Image.open(path) as image:
        scale = (megapixels * 1e6 / (image.width * image.height)) ** 0.5
        big = image.convert("RGB").resize(
            (round(image.width * scale), round(image.height * scale)), Image.Resampling.BICUBIC
        )
    buffer = io.BytesIO()
    big.save(buffer, format="JPEG", quality=90)
    data = buffer.getvalue()
    engine = ocr_engine(engine_name)
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    (page,) = ocr_pages(load_scan_images(data, sniff.JPEG), engine)
    results.put(
        {
            "engine": engine_name,
            "size": f"{big.width}x{big.height}",
            "seconds": time.perf_counter() - started,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "loaded_mb": before_mb,
            "words": len(page.words),
        }
    )


def bench_large_photo(corpus: Path, documents: list[dict[str, Any]], engines: list[str]) -> None:
    photo = next(d for d in documents if d["kind"] == "image-scan" and d["file"].endswith(".jpg"))
    print(f"Huge photo: {photo['file']} enlarged to 35 megapixels (JPEG), whole scan path")
    context = multiprocessing.get_context("spawn")
    for name in engines:
        queue = context.Queue()
        child = context.Process(
            target=run_large_photo, args=(name, str(corpus / photo["file"]), 35.0, queue)
        )
        child.start()
        report = queue.get()
        child.join()
        print(
            f"  {name:10} {report['size']}: {report['seconds']:.1f} s, peak RSS "
            f"{report['peak_mb']:.0f} MB (model loaded: {report['loaded_mb']:.0f} MB), "
            f"{report['words']} words"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--ocr-pages", type=int, default=4, help="60: every corpus scan")
    parser.add_argument(
        "--configs",
        default=",".join(DEFAULT_CONFIGS),
        help=f"comma-separated, from: {', '.join(CONFIGS)}",
    )
    parser.add_argument("--skip-text", action="store_true")
    parser.add_argument("--skip-ocr", action="store_true")
    parser.add_argument(
        "--large-photo",
        metavar="ENGINES",
        default="",
        help="also read a 35-megapixel photo with these engines (e.g. rapidocr,easyocr)",
    )
    args = parser.parse_args()
    documents = [json.loads(line) for line in (args.corpus / "manifest.jsonl").open()]
    if not args.skip_text:
        bench_text_pdfs(args.corpus, documents)
    if not args.skip_ocr:
        bench_ocr(args.corpus, documents, args.ocr_pages, args.configs.split(","))
    if args.large_photo:
        bench_large_photo(args.corpus, documents, args.large_photo.split(","))


if __name__ == "__main__":
    main()
