"""Pages of an upload as credits count them, known before the upload is accepted.

Headers only: PyMuPDF's page count for a PDF, Pillow's frame count for an image, 1 for an
XML e-invoice. A file these cannot open counts 1 page (extraction then fails it, after the
work of trying); a longer one than INVEX_MAX_PAGES counts the maximum (extraction refuses
it with `too_many_pages`).
"""

from __future__ import annotations

import io
import warnings

import pymupdf
from PIL import Image

PDF = "application/pdf"
IMAGES = frozenset({"image/png", "image/jpeg", "image/tiff", "image/webp"})


def count_pages(data: bytes, content_type: str, max_pages: int) -> int:
    pages = 1
    if content_type == PDF:
        try:
            with pymupdf.open(stream=data, filetype="pdf") as doc:
                pages = doc.page_count
        except (RuntimeError, ValueError):  # PyMuPDF's errors for a damaged file
            pages = 1
    elif content_type in IMAGES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as image:
                    pages = getattr(image, "n_frames", 1)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            pages = 1
    return min(max(pages, 1), max_pages)
