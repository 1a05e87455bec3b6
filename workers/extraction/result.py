"""What one extraction produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The key under which OCR hands the text it read to extract_document along with the fields
# (taken out again there: it is not an invoice field), for custom fields.
OCR_TEXT_KEY = "ocr_text"
# Likewise, the page ranges of the documents a split file holds (see Extraction.documents).
DOCUMENTS_KEY = "documents"


@dataclass(frozen=True)
class Extraction:
    """`fields` holds the contract's invoice fields, JSON-ready (see API.md "The invoice"):
    amounts as integer minor units, dates "YYYY-MM-DD", rates as decimal strings, plus
    `document_type`, `source`, `extraction_confidence`, `field_confidence` and `warnings`;
    from positioned words (text layers, OCR) also `field_sources`: {field: {page, x, y, w,
    h}}, the line each value was read from as fractions of its page (not part of the API's
    invoice; the review app outlines it)."""

    fields: dict[str, Any]
    pages: int
    content_type: str
    # Where the XML came from inside a PDF ("factur-x.xml"), for the record; None otherwise.
    embedded_xml_name: str | None = field(default=None)
    # Asked to split and the file holds several documents: each one's (first, last) page
    # index, inclusive; `fields` is then empty (each document is extracted on its own).
    documents: tuple[tuple[int, int], ...] = field(default=())
