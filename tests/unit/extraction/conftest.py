"""Invoices drawn with PyMuPDF: words placed where a real layout would put them; pages
drawn with Pillow for OCR."""

import pymupdf
import pytest
from PIL import Image, ImageDraw, ImageFont


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


# RapidOCR's detector scales a short side below 736 px up to it: a page this size is read
# as drawn.
OCR_PAGE = (736, 736)


def drawn_page(
    lines: list[str], size: tuple[int, int] = OCR_PAGE, font_size: int = 28
) -> Image.Image:
    """Black text on white, one line every 1.6 font heights, like a clean scan."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_size)
    for number, text in enumerate(lines):
        draw.text((30, 30 + int(number * font_size * 1.6)), text, fill=0, font=font)
    return image


@pytest.fixture
def pdf():
    return draw_pdf
