"""An invoice's pages as PNG images for the review app: rendered once (PyMuPDF for PDFs and
XML e-invoices, Pillow for images), kept in `page_images` by file hash, page and resolution,
then served from there. An XML e-invoice's page is drawn from its fields each time."""

from __future__ import annotations

import io
from dataclasses import dataclass

from common import db
from common.accounts.service import Principal
from common.errors import ResourceNotFound
from common.invoices import downloads, repository
from common.invoices.service import get_invoice, read_invoice_file

DPI = 110
# A page larger than this (a poster-sized PDF page, a huge scan) is scaled down to fit.
MAX_SIDE = 2200


@dataclass(frozen=True)
class PageImage:
    png: bytes
    width: int
    height: int


def _render_pdf_page(data: bytes, page: int, dpi: int) -> PageImage:
    import pymupdf  # noqa: PLC0415 - PyMuPDF loads on a first view only

    from common.mupdf_warnings import forget_mupdf_warnings  # noqa: PLC0415

    try:
        with pymupdf.open(stream=data, filetype="pdf") as document:
            if not 1 <= page <= document.page_count:
                raise ResourceNotFound(f"The document has no page {page}.", param="page")
            rect = document[page - 1].rect
            zoom = min(dpi / 72, MAX_SIDE / max(rect.width, rect.height, 1))
            pixmap = document[page - 1].get_pixmap(matrix=pymupdf.Matrix(zoom, zoom))
            return PageImage(pixmap.tobytes("png"), pixmap.width, pixmap.height)
    finally:
        forget_mupdf_warnings()


def _render_image_page(data: bytes, page: int) -> PageImage:
    from PIL import Image  # noqa: PLC0415

    with Image.open(io.BytesIO(data)) as image:
        frames = getattr(image, "n_frames", 1)
        if not 1 <= page <= frames:
            raise ResourceNotFound(f"The document has no page {page}.", param="page")
        image.seek(page - 1)
        frame = image.convert("RGB")
    frame.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    frame.save(out, format="PNG", optimize=False)
    return PageImage(out.getvalue(), frame.width, frame.height)


def page_image(principal: Principal, invoice_id: str, page: int, dpi: int = DPI) -> PageImage:
    """Page `page` (from 1) of the invoice's document as a PNG, from the cache when it was
    rendered before. An XML e-invoice's pages are those of the PDF rendered from its fields."""
    invoice = get_invoice(principal, invoice_id)  # 404 for another organisation's
    if invoice.content_type == "application/xml":
        # Drawn from the fields, which corrections change: not cached (and cheap to draw).
        return _render_pdf_page(downloads.invoice_pdf(principal, invoice_id).data, page, dpi)
    with db.connection() as conn:
        cached = repository.get_page_image(conn, invoice.file_sha256, page, dpi)
    if cached is not None:
        return PageImage(**cached)
    _, data = read_invoice_file(principal, invoice_id)
    if invoice.content_type == "application/pdf":
        image = _render_pdf_page(data, page, dpi)
    else:
        image = _render_image_page(data, page)
    with db.connection() as conn:
        repository.insert_page_image(
            conn,
            invoice.file_sha256,
            page,
            dpi,
            png=image.png,
            width=image.width,
            height=image.height,
        )
    return image
