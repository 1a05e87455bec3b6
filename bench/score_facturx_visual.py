"""Score the text-layer reader on the Factur-X PDFs as if their XML were not there.

    python bench/score_facturx_visual.py [--show-misses] [--json FILE]

Runs the shared scorer on the `pdf-facturx` kind with `bench/score_pdf_text.py` as the
extractor (`extract_pdf_text` reads only the page text, never the embedded XML). The scorer
skips fields that the corpus flags as not printed (`visual_check`) only for the visual
kinds, so `pdf-facturx` is counted as one here: an invoice number or total that is not on
the page cannot be read from it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

CORPUS = Path(os.environ.get("INVEX_CORPUS", "/work/shared/corpus"))
SCORER = Path(os.environ.get("INVEX_SCORER", "/work/shared/tools/score_extraction.py"))
DRIVER = Path(__file__).resolve().parent / "score_pdf_text.py"


def main() -> int:
    spec = importlib.util.spec_from_file_location("score_extraction", SCORER)
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    scorer.VISUAL = (*scorer.VISUAL, "pdf-facturx")
    options = [arg for arg in sys.argv[1:] if arg != "--"]
    sys.argv = [
        str(SCORER),
        "--kinds",
        "pdf-facturx",
        *options,
        str(CORPUS),
        "--",
        sys.executable,
        str(DRIVER),
    ]
    return scorer.main()


if __name__ == "__main__":
    sys.exit(main())
