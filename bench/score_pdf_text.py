"""Print one JSON line per PDF with the fields `extract_pdf_text` reads (for
shared/tools/score_extraction.py); the last stderr line gives the median time per page."""

import json
import statistics
import sys
import time
from pathlib import Path

import pymupdf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workers.extraction.pdf_text import extract_pdf_text


def main() -> None:
    per_page = []
    for path in sys.argv[1:]:
        with open(path, "rb") as handle:
            data = handle.read()
        started = time.perf_counter()
        try:
            fields = extract_pdf_text(data)
        except Exception as error:  # noqa: BLE001 - any crash is that file's error line
            print(
                json.dumps(
                    {"file": path, "error": {"code": type(error).__name__, "message": str(error)}}
                )
            )
            continue
        elapsed = time.perf_counter() - started
        with pymupdf.open(path) as doc:
            per_page.append(elapsed / max(1, doc.page_count))
        print(json.dumps({"file": path, **fields}, ensure_ascii=False, default=str))
    if per_page:
        print(f"median ms/page {1000 * statistics.median(per_page):.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
