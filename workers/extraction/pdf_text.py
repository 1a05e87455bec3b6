"""Text-layer PDFs: positioned words from PyMuPDF, read by the layout field parser."""

from __future__ import annotations

from typing import Any

import pymupdf

from workers.extraction.errors import EncryptedPdf, UnprocessableInvoice
from workers.extraction.fields import parse_invoice_pages
from workers.extraction.layout import Page, Word
from workers.extraction.result import DOCUMENTS_KEY
from workers.extraction.splitting import split_pages

# A page with fewer characters than this but an image on it is a scan with a stray text
# object (a page number, a "scanned by" stamp), not a text page.
MIN_TEXT_CHARS = 40


def page_words(page: pymupdf.Page, textpage: pymupdf.TextPage | None = None) -> Page:
    """The page's words; `textpage` is one already made of the page (`text_page`)."""
    # Word boxes from the glyphs' own ascender and descender, as the models were trained on.
    # The switch is process-wide, read when words are taken from a text page, and
    # pymupdf4llm flips it when imported: set on every read.
    pymupdf.TOOLS.unset_quad_corrections(True)
    words = tuple(
        Word(text, x0, y0, x1, y1, page.number or 0)
        for x0, y0, x1, y1, text, *_ in page.get_text("words", sort=False, textpage=textpage)
        if text.strip()
    )
    return Page(
        number=page.number or 0, width=page.rect.width, height=page.rect.height, words=words
    )


def text_page(page: pymupdf.Page) -> pymupdf.TextPage:
    """The page's text as MuPDF lays it out, made once for both `page_has_text_layer` and
    `page_words`: making it is most of the cost of either. get_text makes the same one for
    "text" and for "words" (TEXTFLAGS_TEXT and TEXTFLAGS_WORDS are the same flags)."""
    return page.get_textpage(flags=pymupdf.TEXTFLAGS_WORDS)


def page_has_text_layer(page: pymupdf.Page, textpage: pymupdf.TextPage | None = None) -> bool:
    text = page.get_text("text", textpage=textpage)
    characters = len(text) - sum(map(str.isspace, text))
    if characters >= MIN_TEXT_CHARS:
        return True
    return characters > 0 and not page.get_images(full=False)


def open_pdf(pdf_bytes: bytes) -> pymupdf.Document:
    """The opened PDF. Its page count was checked by the pipeline (`max_pages`)."""
    try:
        doc = pymupdf.open(stream=pdf_bytes, filetype="pdf")
    except (RuntimeError, ValueError) as error:  # PyMuPDF raises these for broken files
        raise UnprocessableInvoice("The PDF could not be opened.") from error
    if doc.needs_pass:
        raise EncryptedPdf
    return doc


def extract_pdf_text(pdf_bytes: bytes, *, split: bool = False) -> dict[str, Any]:
    """Invoice fields read from the PDF's text layer (source "pdf_text"). Pages without a
    text layer are left out and named in a warning; the OCR path reads those.

    `split`: when the pages hold several documents, only their page ranges, under
    DOCUMENTS_KEY (a file with pages that need OCR is not split)."""
    layers: list[bool] = []
    pages: list[Page] = []
    with open_pdf(pdf_bytes) as doc:
        for page in doc:
            textpage = text_page(page)
            layers.append(page_has_text_layer(page, textpage))
            if layers[-1]:
                pages.append(page_words(page, textpage))
    if split and len(pages) > 1 and all(layers):
        documents = split_pages(pages, "pdf_text")
        if len(documents) > 1:
            return {DOCUMENTS_KEY: documents}
    fields = parse_invoice_pages(pages, source="pdf_text")
    missing = [str(number + 1) for number, text in enumerate(layers) if not text]
    if missing:
        fields["warnings"].append(
            {
                "code": "pages_without_text",
                "message": f"Page(s) {', '.join(missing)} have no text layer and were not read.",
                "field": None,
            }
        )
    return fields
