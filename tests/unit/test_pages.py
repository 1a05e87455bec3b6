"""Pages as credits count them, before an upload is accepted: what a damaged, encrypted or
overlong file counts."""

from __future__ import annotations

import io

import pymupdf
import pytest
from PIL import Image

from common.documents import count_pages
from common.errors import TooManyPages, UnreadableFile

PDF = "application/pdf"


def pdf_of(pages: int, **save: object) -> bytes:
    doc = pymupdf.open()
    for _ in range(pages):
        doc.new_page()
    return doc.tobytes(**save)


def test_a_pdf_counts_its_pages():
    assert count_pages(pdf_of(3), PDF, 200) == 3


def test_an_encrypted_pdf_counts_its_pages_without_the_password():
    encrypted = pdf_of(4, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    assert count_pages(encrypted, PDF, 200) == 4


def test_a_pdf_longer_than_the_limit_is_refused_with_its_real_count():
    with pytest.raises(TooManyPages) as refused:
        count_pages(pdf_of(5), PDF, 2)
    assert (refused.value.pages, refused.value.max_pages) == (5, 2)


def test_what_mupdf_cannot_open_is_refused_as_unreadable():
    for damaged in (b"%PDF-1.7\n" + b"\x00" * 500, b"not a pdf at all", pdf_of(1)[:100]):
        with pytest.raises(UnreadableFile):
            count_pages(damaged, PDF, 200)


def test_a_truncated_pdf_mupdf_can_repair_counts_its_pages():
    whole = pdf_of(2)
    assert count_pages(whole[: len(whole) - 40], PDF, 200) == 2


def test_a_multi_frame_tiff_counts_its_frames():
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:])
    assert count_pages(out.getvalue(), "image/tiff", 200) == 3


def test_an_xml_invoice_counts_one_page():
    assert count_pages(b"<Invoice/>", "application/xml", 200) == 1


def test_mupdf_messages_are_not_kept_for_the_life_of_the_process():
    # PyMuPDF stores every MuPDF warning in a list of its own; a damaged file adds several
    for _ in range(20):
        with pytest.raises(UnreadableFile):
            count_pages(b"%PDF-1.7\n" + b"\x00" * 500, PDF, 200)
    assert pymupdf.JM_mupdf_warnings_store == []
