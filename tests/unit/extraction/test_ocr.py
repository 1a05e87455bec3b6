"""OCR of scans: small images drawn here (OCR costs seconds per page), a few pages each."""

from __future__ import annotations

import io
import struct
import threading
import zlib

import cv2
import numpy as np
import pymupdf
import pytest
from PIL import Image

from tests.unit.extraction.conftest import drawn_page
from workers.extraction import sniff
from workers.extraction.errors import ImageTooLarge, TooManyPages
from workers.extraction.images import ScanImage, deskew, load_scan_images, skew_angle
from workers.extraction.layout import Word
from workers.extraction.ocr import (
    TextBox,
    extract_scanned,
    join_split_numbers,
    ocr_engine,
    ocr_pages,
    repair_numbers,
    words_of_boxes,
)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def page_text(page) -> str:
    return " ".join(word.text for word in page.words)


@pytest.fixture(scope="module")
def invoice_image() -> Image.Image:
    return drawn_page(["Invoice No 12345", "Total 99.50"])


@pytest.mark.slow
def test_ocr_reads_the_words_of_a_drawn_page(invoice_image):
    (page,) = ocr_pages([invoice_image])

    texts = [word.text for word in page.words]
    assert "Invoice" in texts
    assert "12345" in texts
    assert "Total" in texts
    assert "99.50" in texts


@pytest.mark.slow
def test_ocr_words_have_confidences_and_left_to_right_boxes(invoice_image):
    (page,) = ocr_pages([invoice_image])

    by_text = {word.text: word for word in page.words}
    assert by_text["Total"].x1 <= by_text["99.50"].x0 + 1
    assert by_text["Invoice"].y1 <= by_text["Total"].y0 + 1
    assert all(0.0 < word.confidence <= 1.0 for word in page.words)


@pytest.mark.slow
def test_ocr_reads_a_page_photographed_askew():
    image = drawn_page(["Invoice No 12345", "Total 99.50"])
    tilted = image.rotate(4, resample=Image.Resampling.BICUBIC, fillcolor=255, expand=False)

    (page,) = ocr_pages([tilted])

    assert "12345" in page_text(page)
    assert "99.50" in page_text(page)


def test_skew_angle_measures_how_far_text_lines_are_tilted():
    image = drawn_page(
        [f"Line {n} of the page 12.50 EUR" for n in range(8)], size=(900, 600), font_size=24
    )
    pixels = np.asarray(image)
    matrix = cv2.getRotationMatrix2D((450, 300), 2.0, 1.0)
    tilted = cv2.warpAffine(pixels, matrix, (900, 600), borderValue=255)

    assert abs(skew_angle(pixels)) < 0.2
    assert abs(skew_angle(tilted) - 2.0) < 0.3
    straightened, undone = deskew(tilted)
    assert abs(undone - 2.0) < 0.3
    assert abs(skew_angle(straightened)) < 0.3


def test_a_blank_page_is_not_rotated():
    pixels = np.full((400, 300), 255, dtype=np.uint8)

    assert deskew(pixels) == (pixels, 0.0)


@pytest.mark.slow
def test_extract_scanned_parses_fields_from_an_ocr_read_image():
    image = drawn_page(
        ["ACME TRADING SDN BHD", "Invoice No 12345", "Date 25/12/2018", "TOTAL 99.50"],
    )

    fields = extract_scanned(png_bytes(image), sniff.PNG)

    assert fields["source"] == "ocr"
    assert fields["total_amount"] == 9950
    assert fields["invoice_date"] == "2018-12-25"


def test_a_multi_page_tiff_gives_one_image_per_page():
    first, second = drawn_page(["Page one"]), drawn_page(["Page two"])
    buffer = io.BytesIO()
    first.save(buffer, format="TIFF", save_all=True, append_images=[second])

    scans = load_scan_images(buffer.getvalue(), sniff.TIFF)

    assert [scan.number for scan in scans] == [0, 1]
    assert all(scan.pixels.shape == (736, 736) for scan in scans)


def test_a_tiff_of_more_than_fifty_pages_is_refused():
    from workers.extraction.pipeline import extract_document

    frames = [Image.new("L", (8, 8), 255) for _ in range(51)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])

    with pytest.raises(TooManyPages):
        extract_document(buffer.getvalue())


def png_declaring_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: a decompression bomb's first bytes."""
    data = bytearray(png_bytes(Image.new("L", (1, 1), 255)))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def test_an_image_declaring_a_huge_canvas_is_refused_before_decoding():
    with pytest.raises(ImageTooLarge):
        load_scan_images(png_declaring_size(40_000, 40_000), sniff.PNG)


def test_an_image_only_pdf_page_is_read_from_its_embedded_image_without_rendering():
    image = drawn_page(["Invoice No 12345"], size=(620, 877))
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_image(page.rect, stream=png_bytes(image))

    (scan,) = load_scan_images(doc.tobytes(), sniff.PDF)

    assert scan.pixels.shape == (877, 620)  # the stored pixels, not a 150 dpi rendering
    assert scan.points_per_pixel == pytest.approx(595 / 620, rel=1e-4)


def test_a_pdf_page_that_is_not_one_image_is_rendered_at_150_dpi():
    doc = pymupdf.open()
    page = doc.new_page(width=144, height=72)
    page.draw_rect(pymupdf.Rect(10, 10, 60, 40), color=(0, 0, 0))

    (scan,) = load_scan_images(doc.tobytes(), sniff.PDF)

    assert scan.pixels.shape == (150, 300)
    assert scan.points_per_pixel == pytest.approx(72 / 150)


def test_a_text_box_becomes_words_sharing_its_width():
    box = TextBox("Total 99.50", 0.9, x0=100, y0=10, x1=210, y1=30)

    words = words_of_boxes([box], page=0, points_per_pixel=0.5)

    assert [word.text for word in words] == ["Total", "99.50"]
    assert words[0].x0 == pytest.approx(50)
    assert words[1].x1 == pytest.approx(105)
    assert words[0].x1 < words[1].x0
    assert all(word.confidence == 0.9 and word.y0 == 5 for word in words)


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("Bruttosumme 529 , 87", "Bruttosumme 529,87"),
        ("Steuerbetrag 56;87", "Steuerbetrag 56,87"),
        ("9 ,.90", "9.90"),
        ("vom 05. 03 '2018", "vom 05.03.2018"),
        ("Invoice RE1OO1", "Invoice RE1001"),
        ("USt-IdNr DEI23456789", "USt-IdNr DE123456789"),
    ],
)
def test_common_misreadings_of_numbers_are_repaired(read, meant):
    assert repair_numbers(read) == meant


@pytest.mark.parametrize("text", ["Items 1, 2 and 3", "12:30", "DEUTSCHLAND", "1.234,56"])
def test_text_that_only_looks_like_a_misreading_is_left_alone(text):
    assert repair_numbers(text) == text


def test_pieces_of_a_date_read_as_separate_boxes_are_joined():
    words = [
        Word("vom", 10, 0, 28, 10),
        Word("05.", 32, 0, 46, 10),
        Word("03", 48, 0, 58, 10),
        Word("'2018", 60, 0, 84, 10),
    ]

    joined = join_split_numbers(words)

    assert [word.text for word in joined] == ["vom", "05.03.2018"]
    assert (joined[1].x0, joined[1].x1) == (32, 84)


def test_numbers_in_separate_columns_stay_apart():
    words = [Word("20", 10, 0, 20, 10), Word("19,00", 120, 0, 150, 10)]

    assert join_split_numbers(words) == words


@pytest.mark.slow
def test_the_model_is_loaded_once_however_many_threads_ask():
    engines: list[object] = []
    threads = [threading.Thread(target=lambda: engines.append(ocr_engine())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(engines) == 3
    assert all(engine is engines[0] for engine in engines)


def test_scan_images_report_their_size():
    scan = ScanImage(np.zeros((20, 30), dtype=np.uint8), 1.0)

    assert (scan.width, scan.height) == (30, 20)


@pytest.mark.slow
def test_custom_fields_are_read_from_the_text_of_a_scan():
    from workers.extraction.pipeline import extract_document

    image = drawn_page(
        ["ACME TRADING GMBH", "Invoice No 12345", "Cost centre: CC-4711", "TOTAL 99.50"],
    )

    extraction = extract_document(
        png_bytes(image),
        custom_fields=[
            {"name": "cost_centre", "labels": ["Cost centre"], "type": "string"},
            {"name": "reference", "pattern": r"CC-(\d+)", "type": "string"},
        ],
    )

    assert extraction.fields["custom_fields"] == {"cost_centre": "CC-4711", "reference": "4711"}
    assert "ocr_text" not in extraction.fields
