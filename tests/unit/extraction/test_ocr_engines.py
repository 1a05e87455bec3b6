"""Both OCR engines behind the one interface, on pages drawn here. The EasyOCR cases
run when the `easyocr` extra is installed (`make test-easyocr` in CI installs it)."""

from __future__ import annotations

import socket

import numpy as np
import pymupdf
import pytest
from PIL import Image

from tests.unit.extraction.conftest import OCR_PAGE, drawn_page
from workers.extraction import ocr
from workers.extraction.images import ScanImage
from workers.extraction.ocr import (
    ENGINES,
    MAX_OCR_SIDE,
    engine_available,
    fit_for_ocr,
    ocr_engine,
    ocr_pages,
    text_height,
)

pytestmark = pytest.mark.slow

ENGINE_PARAMS = [
    pytest.param(
        name,
        marks=[
            pytest.mark.skipif(not engine_available(name), reason=f"{name} is not installed"),
            *([pytest.mark.easyocr] if name == "easyocr" else []),
        ],
    )
    for name in ENGINES
]


def drawn(lines: list[str], size: tuple[int, int] = OCR_PAGE, font_size: int = 30) -> np.ndarray:
    return np.asarray(drawn_page(lines, size, font_size))


def words_read(engine_name: str, pixels: np.ndarray) -> list[str]:
    (page,) = ocr_pages([ScanImage(pixels, 0.0)], ocr_engine(engine_name))
    return [word.text for word in page.words]


@pytest.mark.parametrize("engine_name", ENGINE_PARAMS)
def test_each_engine_reads_the_words_and_amounts_of_a_page(engine_name):
    words = words_read(engine_name, drawn(["Invoice No 12345", "Total 99.50"]))

    assert "Invoice" in words
    assert "12345" in words
    assert "Total" in words
    assert "99.50" in words


@pytest.mark.parametrize("engine_name", ENGINE_PARAMS)
def test_each_engine_keeps_the_spaces_between_words(engine_name):
    words = words_read(engine_name, drawn(["Total Amount Due 1,234.56"]))

    assert "Amount" in words
    assert "Due" in words
    assert "1,234.56" in words


@pytest.mark.parametrize("engine_name", ENGINE_PARAMS)
def test_each_engine_reports_its_name_and_boxes_in_page_pixels(engine_name):
    engine = ocr_engine(engine_name)
    pixels = drawn(["Invoice No 12345"])

    boxes = engine.read_page(pixels)

    assert engine.name == engine_name
    assert boxes
    for box in boxes:
        assert 0 <= box.x0 < box.x1 <= pixels.shape[1]
        assert 0 <= box.y0 < box.y1 <= pixels.shape[0]
        assert 0.0 < box.confidence <= 1.0


def rendered(lines: list[str]) -> np.ndarray:
    """Lines set in Helvetica by PyMuPDF (Pillow's built-in font has no accented letters),
    rendered at 150 dpi like a scanned page."""
    with pymupdf.open() as doc:
        page = doc.new_page(width=360, height=max(360, 40 + 24 * len(lines)))
        for number, text in enumerate(lines):
            page.insert_text((20, 30 + 24 * number), text, fontname="helv", fontsize=14)
        pixmap = page.get_pixmap(dpi=150, colorspace=pymupdf.csGRAY)
        return np.frombuffer(pixmap.samples, dtype=np.uint8).reshape(pixmap.h, pixmap.w).copy()


def test_rapidocr_keeps_german_and_french_accents():
    if not engine_available("rapidocr"):
        pytest.skip("rapidocr is not installed")
    words = words_read("rapidocr", rendered(["Müller Straße 5", "Société Générale"]))

    assert "Müller" in words
    assert "Straße" in words
    assert "Société" in words


@pytest.mark.parametrize("engine_name", ENGINE_PARAMS)
def test_each_engine_loads_its_models_without_touching_the_network(engine_name, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network connection attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)

    engine = ocr.load_engine(engine_name)  # a fresh instance, not the cached one

    assert engine.read_page(drawn(["Total 99.50"]))


def test_an_unknown_engine_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown OCR engine 'tesseract'"):
        ocr.use_engine("tesseract")


def test_a_huge_photo_is_shrunk_to_the_text_size_the_detector_needs():
    # A 35-megapixel photo of a receipt: text about 90 pixels high.
    photo = np.full((7000, 5000), 255, dtype=np.uint8)
    big = np.asarray(
        Image.fromarray(drawn(["TOTAL 12.50", "CASH 20.00"] * 3, size=(500, 700), font_size=9))
    )
    photo[:, :] = np.asarray(Image.fromarray(big).resize((5000, 7000), Image.Resampling.NEAREST))

    fitted, factor = fit_for_ocr(photo)

    assert factor < 0.5
    assert max(fitted.shape) <= MAX_OCR_SIDE
    assert text_height(fitted) is not None
    assert 16 <= text_height(fitted) <= 40


def test_a_page_at_scanning_resolution_is_left_as_it_is():
    page = drawn([f"Line {n} Widget 2 x 12.50" for n in range(12)], size=(1240, 1754), font_size=22)

    fitted, factor = fit_for_ocr(page)

    assert factor == 1.0
    assert fitted is page


@pytest.mark.parametrize("engine_name", ENGINE_PARAMS)
def test_each_engine_reads_a_huge_photo_in_its_original_coordinates(engine_name):
    small = drawn(["TOTAL 12.50"], size=(400, 120), font_size=30)
    photo = np.asarray(Image.fromarray(small).resize((4000, 1200), Image.Resampling.BICUBIC))

    # ocr_pages' two steps, so that the photo is read once
    scan = ScanImage(photo, 0.0)
    boxes = ocr.read_boxes(scan, ocr_engine(engine_name))
    page = ocr.page_of_boxes(scan, boxes)

    assert "12.50" in [word.text for word in page.words]
    assert max(box.x1 for box in boxes) > 1000  # mapped back to the photo's pixels
