"""PyMuPDF keeps every MuPDF warning and error message in a module-level list that nothing
empties unless asked (`TOOLS.mupdf_warnings()`): in a long-lived API or worker process each
damaged PDF would add its messages for good. Invex reads none of them;
`forget_mupdf_warnings()` empties the list after each use of MuPDF that can warn."""

from __future__ import annotations

import pymupdf


def forget_mupdf_warnings() -> None:
    if pymupdf.JM_mupdf_warnings_store:
        pymupdf.TOOLS.reset_mupdf_warnings()
