"""Uploads are recognised by their first bytes, whatever their name says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.extraction.einvoice_documents import (
    cii_invoice,
    pdf_with_text,
    ubl_credit_note,
    ubl_invoice,
    zugferd_1_invoice,
)
from workers.extraction.sniff import sniff_content_type

REPO_ROOT = Path(__file__).resolve().parents[3]


def head(data: bytes) -> bytes:
    return data[:4096]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    ],
)
def test_binary_formats_are_recognised_by_their_signature(data, content_type):
    assert sniff_content_type(data) == content_type


def test_a_real_pdf_is_recognised():
    assert sniff_content_type(head(pdf_with_text("Invoice"))) == "application/pdf"


def test_a_pdf_header_after_leading_junk_is_still_a_pdf():
    assert sniff_content_type(b"\r\n\x00junk" + b"%PDF-1.4\n") == "application/pdf"


@pytest.mark.parametrize("document", [ubl_invoice, ubl_credit_note, cii_invoice])
def test_einvoice_xml_is_recognised(document):
    assert sniff_content_type(head(document())) == "application/xml"


def test_zugferd_1_xml_whose_root_is_past_the_head_is_left_to_the_parser():
    data = zugferd_1_invoice()
    assert data.index(b"CrossIndustryDocument") > 4096

    assert sniff_content_type(head(data)) == "application/xml"


def test_xml_with_a_byte_order_mark_is_recognised():
    assert sniff_content_type(b"\xef\xbb\xbf" + head(cii_invoice())) == "application/xml"


def test_utf16_xml_is_recognised():
    data = ubl_invoice().decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert sniff_content_type(head(data.encode("utf-16"))) == "application/xml"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is a text file",
        b"PK\x03\x04\x14\x00\x00\x00",  # ZIP, DOCX, XLSX
        b"<!DOCTYPE html><html><body>invoice</body></html>",
        b'<?xml version="1.0"?><Order xmlns="urn:x"><ID>1</ID></Order>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b"GIF89a\x01\x00\x01\x00",
    ],
)
def test_anything_else_is_not_accepted(data):
    assert sniff_content_type(data) is None


@pytest.mark.parametrize("module", ["workers.extraction.sniff", "common.documents"])
def test_importing_sniff_loads_only_the_standard_library(module):
    probe = (
        f"import sys, {module} as s; "
        "heavy = [m for m in ('lxml', 'pymupdf', 'PIL', 'torch', 'easyocr', 'schwifty', "
        "'stdnum') if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )

    assert result.stdout.strip() == "[]"
