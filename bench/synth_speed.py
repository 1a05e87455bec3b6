"""Text PDFs per second that training.synth generates on one core (CPU time), and scans per
second per variant: python bench/synth_speed.py [COUNT]"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.synth import generate, render_scan


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    generate(0)  # font registration and imports
    started = time.process_time()
    docs = [generate(seed) for seed in range(count)]
    seconds = time.process_time() - started
    pages = sum(d.page_count for d in docs)
    print(f"text: {count / seconds:.1f} docs/s ({pages} pages, {seconds:.2f} s CPU)")
    for variant in ("standard", "phone", "fax"):
        started = time.process_time()
        for doc in docs[:20]:
            render_scan(doc.pdf, doc.seed, variant)
        seconds = time.process_time() - started
        print(f"scan {variant}: {20 / seconds:.1f} docs/s")


if __name__ == "__main__":
    main()
