"""The extraction engine: `extract_document(data)` turns one invoice file (PDF, image, UBL or
CII XML) into the contract's invoice fields. Pure code: no database, queue or web framework.

Importing this package is cheap, because the API imports `workers.extraction.sniff` on
every upload: PyMuPDF, lxml and the validators load on first use of `extract_document`, and
OCR (torch, easyocr) only when a scan needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workers.extraction.errors import (
    EncryptedPdf,
    ExtractionError,
    ExtractionTimeout,
    ImageTooLarge,
    TooManyPages,
    UnprocessableInvoice,
    UnsupportedFileType,
)
from workers.extraction.result import Extraction

if TYPE_CHECKING:
    from workers.extraction.pipeline import extract_document

__all__ = [
    "EncryptedPdf",
    "Extraction",
    "ExtractionError",
    "ExtractionTimeout",
    "ImageTooLarge",
    "TooManyPages",
    "UnprocessableInvoice",
    "UnsupportedFileType",
    "extract_document",
]


def __getattr__(name: str) -> Any:
    if name == "extract_document":
        from workers.extraction.pipeline import extract_document  # noqa: PLC0415

        return extract_document
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
