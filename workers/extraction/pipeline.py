"""One document in, invoice fields out: sniff -> e-invoice XML / Factur-X / PDF text / OCR
-> checks. Pure code: no database, no queue.

Time: `deadline` is a `time.monotonic()` instant. It is checked between stages (a stage
itself, e.g. OCR of a page, is not interrupted here); callers that need a hard stop run the
extraction in a process they can kill (`batch.py` does, Celery's hard time limit does).
"""

from __future__ import annotations

import io
import time
import warnings
from typing import Any

import pymupdf
from PIL import Image

from common.documents import DEFAULT_MAX_PAGES, MAX_IMAGE_PIXELS
from common.mupdf_warnings import forget_mupdf_warnings
from common.pdf_attachments import PDF_ERRORS
from workers.extraction import sniff
from workers.extraction.checks import apply_checks, drop_out_of_range_values
from workers.extraction.custom_fields import extract_custom_fields
from workers.extraction.einvoice import parse_einvoice, read_xml
from workers.extraction.errors import (
    EncryptedPdf,
    ExtractionTimeout,
    ImageTooLarge,
    TooManyPages,
    UnprocessableInvoice,
    UnsupportedFileType,
)
from workers.extraction.facturx import extract_facturx
from workers.extraction.invoice_fields import empty_fields, warning
from workers.extraction.result import DOCUMENTS_KEY, OCR_TEXT_KEY, Extraction

Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# A text layer with fewer visible characters than this is a scan with stray marks.
MIN_TEXT_LAYER_CHARS = 20
IMAGE_TYPES = frozenset({sniff.PNG, sniff.JPEG, sniff.TIFF, sniff.WEBP})


def extract_document(
    data: bytes,
    *,
    filename: str | None = None,
    deadline: float | None = None,
    custom_fields: list[dict[str, Any]] | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    split: bool = False,
) -> Extraction:
    """Extract the invoice fields of one uploaded document.

    The file is recognised by its content, never by `filename` (used only in messages).
    Raises an ExtractionError subclass (with a stable `code`) when the document cannot be
    extracted, e.g. TooManyPages past `max_pages`.

    `split`: a PDF or multi-page image that holds several documents (`splitting.py`) comes
    back with their page ranges in `documents` and no fields; one with an e-invoice inside
    is one document.
    """
    try:
        return _extract_document(
            data,
            filename=filename,
            deadline=deadline,
            custom_fields=custom_fields,
            max_pages=max_pages,
            split=split,
        )
    finally:
        forget_mupdf_warnings()  # what MuPDF said about this file, kept by PyMuPDF


def _extract_document(
    data: bytes,
    *,
    filename: str | None,
    deadline: float | None,
    custom_fields: list[dict[str, Any]] | None,
    max_pages: int,
    split: bool,
) -> Extraction:
    _check_deadline(deadline)
    if not data:
        raise UnprocessableInvoice("The file is empty.")
    content_type = sniff.sniff_content_type(data[: sniff.SNIFF_BYTES])
    if content_type is None:
        raise UnsupportedFileType(
            f"{filename or 'The file'} is not a PDF, PNG, JPEG, TIFF, WebP or UBL/CII XML "
            "e-invoice."
        )
    embedded_xml_name = None
    if content_type == sniff.XML:
        fields, pages = parse_einvoice(data), 1
    elif content_type == sniff.PDF:
        fields, pages = _extract_pdf(data, deadline, max_pages, split)
        embedded_xml_name = fields.pop("embedded_xml_name", None)
    else:
        fields, pages = _extract_image(data, content_type, deadline, max_pages, split)
    documents = fields.pop(DOCUMENTS_KEY, None)
    if documents:
        return Extraction(
            fields={}, pages=pages, content_type=content_type, documents=tuple(documents)
        )
    ocr_text = fields.pop(OCR_TEXT_KEY, None)  # scans: the text OCR read
    _check_deadline(deadline)
    if custom_fields:
        text = ocr_text if ocr_text is not None else _document_text(data, content_type)
        fields["custom_fields"] = extract_custom_fields(text, custom_fields, fields.get("currency"))
    return Extraction(
        fields=drop_out_of_range_values(apply_checks(_complete(fields))),
        pages=pages,
        content_type=content_type,
        embedded_xml_name=embedded_xml_name,
    )


def _document_text(data: bytes, content_type: str) -> str:
    """The document as lines of text, for custom fields: an XML e-invoice's element texts,
    a PDF's text layer (scans bring the text OCR read with their fields)."""
    if content_type == sniff.XML:
        root = read_xml(data)
        return "\n".join(t.strip() for t in root.itertext() if t.strip())
    if content_type == sniff.PDF:
        with open_pdf(data) as doc:
            return "\n".join(page.get_text("text") for page in doc.pages())
    return ""


def _extract_pdf(
    data: bytes, deadline: float | None, max_pages: int, split: bool = False
) -> tuple[dict[str, Any], int]:
    doc = open_pdf(data, max_pages)
    with doc:
        pages = doc.page_count
        repaired = doc.is_repaired
        _check_deadline(deadline)
        fields = extract_facturx(doc)
        if fields is None:
            has_text_layer = _has_text_layer(doc)
    if fields is None:
        _check_deadline(deadline)
        if has_text_layer:
            from workers.extraction.pdf_text import extract_pdf_text  # noqa: PLC0415

            fields = extract_pdf_text(data, split=split)
        else:
            fields = _extract_scanned(data, sniff.PDF, split)
    if repaired:
        # MuPDF rebuilt a broken structure (a truncated file, a bad xref): what it read
        # may be missing pages or objects, so a person should look before trusting it.
        fields.setdefault("warnings", []).append(
            warning("damaged_file", "The PDF was damaged; MuPDF repaired it to read it.")
        )
    return fields, pages


def open_pdf(data: bytes, max_pages: int = DEFAULT_MAX_PAGES) -> pymupdf.Document:
    """The opened PDF, refusing what the contract refuses: unreadable, password-protected,
    empty, or longer than `max_pages`."""
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except PDF_ERRORS:
        raise UnprocessableInvoice("The PDF is damaged and cannot be read.") from None
    # An "encrypted" PDF with an empty user password opens without one (permissions only).
    if doc.needs_pass and not doc.authenticate(""):
        doc.close()
        raise EncryptedPdf
    if doc.page_count == 0:
        doc.close()
        raise UnprocessableInvoice("The PDF has no pages.")
    if doc.page_count > max_pages:
        count = doc.page_count
        doc.close()
        raise TooManyPages(f"The PDF has {count} pages; at most {max_pages} are accepted.")
    return doc


def _has_text_layer(doc: pymupdf.Document) -> bool:
    characters = 0
    for page in doc.pages():
        try:
            text = page.get_text("text")
        except PDF_ERRORS:
            continue  # a damaged page: the other paths decide what to make of it
        characters += sum(not c.isspace() for c in text)
        if characters >= MIN_TEXT_LAYER_CHARS:
            return True
    return False


def _extract_image(
    data: bytes, content_type: str, deadline: float | None, max_pages: int, split: bool = False
) -> tuple[dict[str, Any], int]:
    pages = check_image(data, max_pages)
    _check_deadline(deadline)
    return _extract_scanned(data, content_type, split), pages


def check_image(data: bytes, max_pages: int = DEFAULT_MAX_PAGES) -> int:
    """The number of frames (pages) of an image, after refusing images that are damaged,
    too many pages, or too large to decode (decompression bombs). Reads headers only."""
    try:
        with warnings.catch_warnings():
            # Sizes between our limit and Pillow's hard limit only warn; we refuse them below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                frames = getattr(image, "n_frames", 1)
    except Image.DecompressionBombError:
        raise ImageTooLarge from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnprocessableInvoice(f"The image is damaged and cannot be read ({exc}).") from None
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageTooLarge(
            f"The image is {width}x{height} pixels; at most "
            f"{MAX_IMAGE_PIXELS:,} pixels are accepted."
        )
    if frames > max_pages:
        raise TooManyPages(f"The image has {frames} pages; at most {max_pages} are accepted.")
    return frames


def _extract_scanned(data: bytes, content_type: str, split: bool = False) -> dict[str, Any]:
    # Imported here: the OCR module loads torch and a model, which only scans need.
    from workers.extraction.ocr import extract_scanned  # noqa: PLC0415

    return extract_scanned(data, content_type, split=split)


def _complete(fields: dict[str, Any]) -> dict[str, Any]:
    """Every contract field present, missing ones as null or empty."""
    complete = empty_fields(fields.get("source") or "pdf_text")
    complete.update(fields)
    return complete


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise ExtractionTimeout
