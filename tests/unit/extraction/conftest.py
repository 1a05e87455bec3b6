"""Invoices drawn with PyMuPDF: words placed where a real layout would put them."""

import pymupdf
import pytest


def draw_pdf(pages: list[list[tuple[float, float, str]]], font_size: float = 10) -> bytes:
    """A PDF whose pages hold the given texts at (x, baseline y), A4 size."""
    doc = pymupdf.open()
    for texts in pages:
        page = doc.new_page(width=595, height=842)
        for x, y, text in texts:
            page.insert_text((x, y), text, fontsize=font_size, fontname="helv")
    data = doc.tobytes()
    doc.close()
    return data


@pytest.fixture
def pdf():
    return draw_pdf
