"""Pages of an upload as credits count them, known before the upload is accepted.

Headers only: PyMuPDF's page count for a PDF, Pillow's frame count for an image, 1 for an
XML e-invoice (its parser decides in extraction). What is refused here is neither charged
nor stored: a PDF or image these cannot open (422 `unreadable_file`), and a document longer
than INVEX_MAX_PAGES (422 `too_many_pages`, naming its real count), which extraction would
only have failed after the credits were taken.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image
from pymupdf import mupdf

from common.errors import TooManyPages, UnreadableFile
from common.mupdf_warnings import forget_mupdf_warnings

PDF = "application/pdf"
IMAGES = frozenset({"image/png", "image/jpeg", "image/tiff", "image/webp"})


def _pdf_page_count(data: bytes) -> int:
    """MuPDF's own PDF calls (PyMuPDF's documented low-level binding): the page tree's
    count, without what `pymupdf.open` also does (reading the metadata, for one) and
    without `fz_open_document`'s asking every document handler whether the bytes are its
    own (they are a PDF: the sniffer said so). The `ll_` functions skip the binding's
    wrapper objects, so what they return is dropped here, each as soon as the next holds
    its own reference (the stream keeps the buffer, the document the stream). It runs on
    every upload, so it does only this (docs/performance.md has the figures)."""
    buffer = mupdf.ll_fz_new_buffer_from_copied_data(data)
    try:
        stream = mupdf.ll_fz_open_buffer(buffer)
    finally:
        mupdf.ll_fz_drop_buffer(buffer)
    try:
        document = mupdf.ll_pdf_open_document_with_stream(stream)
    finally:
        mupdf.ll_fz_drop_stream(stream)
    try:
        return mupdf.ll_pdf_count_pages(document)
    finally:
        mupdf.ll_pdf_drop_document(document)


def count_pages(data: bytes, content_type: str, max_pages: int) -> int:
    """The upload's pages, between 1 and `max_pages`; raises UnreadableFile or
    TooManyPages (common.errors) for what extraction could only fail."""
    pages = 1
    if content_type == PDF:
        try:
            pages = _pdf_page_count(data)
        except (mupdf.FzErrorBase, RuntimeError, ValueError):  # MuPDF's errors: a damaged file
            raise UnreadableFile("The PDF is damaged and cannot be read.", param="file") from None
        finally:
            forget_mupdf_warnings()
        if pages < 1:  # what MuPDF's repair makes of bytes with no page tree left
            raise UnreadableFile("The PDF has no page that can be read.", param="file")
    elif content_type in IMAGES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as image:
                    pages = getattr(image, "n_frames", 1)
        except Image.DecompressionBombError:
            pages = 1  # readable, only too large: extraction refuses it by its pixels
        except (OSError, ValueError, SyntaxError, EOFError):
            raise UnreadableFile("The image is damaged and cannot be read.", param="file") from None
    if pages > max_pages:
        raise TooManyPages(pages, max_pages)
    return max(pages, 1)
