"""Documents the engine refuses, each with its stable error code, and PDFs that carry an
e-invoice inside them."""

from __future__ import annotations

import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pymupdf
import pytest

from tests.unit.extraction.einvoice_documents import (
    cii_invoice,
    encrypted_pdf,
    facturx_pdf,
    pdf_with_associated_file_only,
    pdf_with_text,
    ubl_invoice,
)
from workers.extraction import (
    EncryptedPdf,
    ExtractionTimeout,
    ImageTooLarge,
    TooManyPages,
    UnprocessableInvoice,
    UnsupportedFileType,
    extract_document,
)
from workers.extraction.facturx import find_embedded_einvoice

REPO_ROOT = Path(__file__).resolve().parents[3]


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a canvas of width x height but holds almost no data."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


# --- refused documents --------------------------------------------------------------------


def test_password_protected_pdf_is_refused_as_encrypted():
    with pytest.raises(EncryptedPdf) as raised:
        extract_document(encrypted_pdf())

    assert raised.value.code == "encrypted_pdf"


def test_pdf_with_an_empty_user_password_is_not_treated_as_encrypted():
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Invoice RE-2024-17 total 10,70")
    doc.embfile_add("factur-x.xml", cii_invoice())
    data = doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_128, owner_pw="owner", user_pw="")

    assert extract_document(data).fields["invoice_number"] == "RE-2024-17"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n this is not really a pdf \n%%EOF",
        b"%PDF-",
        pdf_with_text("Invoice")[:200],
    ],
)
def test_corrupt_pdf_is_unprocessable(data):
    with pytest.raises(UnprocessableInvoice) as raised:
        extract_document(data)

    assert raised.value.code == "unprocessable_invoice"
    # what MuPDF said about it is not kept by PyMuPDF for the life of the worker
    assert pymupdf.JM_mupdf_warnings_store == []


def test_empty_file_is_unprocessable():
    with pytest.raises(UnprocessableInvoice):
        extract_document(b"")


def test_pdf_with_more_than_50_pages_is_refused():
    with pytest.raises(TooManyPages) as raised:
        extract_document(pdf_with_text(*(f"page {n}" for n in range(51))))

    assert raised.value.code == "too_many_pages"


def test_the_page_limit_is_the_callers():
    three_pages = pdf_with_text("Invoice 42", "page 2", "page 3")
    with pytest.raises(TooManyPages) as raised:
        extract_document(three_pages, max_pages=2)
    assert "at most 2" in raised.value.message
    assert extract_document(pdf_with_text(*(f"page {n}" for n in range(51))), max_pages=60)


def test_a_pdf_mupdf_had_to_repair_is_extracted_with_a_damaged_file_warning():
    whole = pdf_with_text("Invoice RE-2024-17\nTotal 10.70 EUR")
    truncated = whole[: whole.rindex(b"startxref")]  # no cross-reference table left to find

    fields = extract_document(truncated).fields

    assert "damaged_file" in [w["code"] for w in fields["warnings"]]
    assert "damaged_file" not in [w["code"] for w in extract_document(whole).fields["warnings"]]


def test_unknown_file_type_is_unsupported_whatever_its_name():
    with pytest.raises(UnsupportedFileType) as raised:
        extract_document(b"PK\x03\x04\x14\x00 a zip file", filename="invoice.pdf")

    assert raised.value.code == "unsupported_file_type"


def test_pixel_bomb_png_is_refused_before_decoding():
    with pytest.raises(ImageTooLarge) as raised:
        extract_document(png_header(100_000, 100_000))

    assert raised.value.code == "unprocessable_invoice"


def test_image_just_over_the_pixel_limit_is_refused():
    with pytest.raises(ImageTooLarge):
        extract_document(png_header(9_000, 9_000))


def test_damaged_image_is_unprocessable():
    with pytest.raises(UnprocessableInvoice):
        extract_document(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)


def test_a_passed_deadline_stops_the_extraction():
    with pytest.raises(ExtractionTimeout) as raised:
        extract_document(ubl_invoice(), deadline=time.monotonic() - 1)

    assert raised.value.code == "extraction_timeout"


def test_importing_the_engine_does_not_load_ocr():
    probe = (
        "import sys, workers.extraction as e; e.extract_document; "
        "print([m for m in ('torch', 'easyocr') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )

    assert result.stdout.strip() == "[]"


# --- PDFs with an embedded e-invoice (Factur-X / ZUGFeRD / XRechnung) ----------------------


def test_facturx_pdf_takes_its_fields_from_the_embedded_xml():
    extraction = extract_document(facturx_pdf(cii_invoice(), "Invoice RE-2024-17  Total 10,70 EUR"))

    assert extraction.fields["source"] == "facturx"
    assert extraction.fields["invoice_number"] == "RE-2024-17"
    assert extraction.fields["total_amount"] == 1070
    assert extraction.content_type == "application/pdf"
    assert extraction.pages == 1
    assert extraction.embedded_xml_name == "factur-x.xml"
    assert not [w for w in extraction.fields["warnings"] if w["code"] == "visual_mismatch"]


@pytest.mark.parametrize(
    "name", ["zugferd-invoice.xml", "ZUGFeRD-invoice.xml", "xrechnung.xml", "rechnung-4711.xml"]
)
def test_embedded_invoice_is_found_under_any_of_the_usual_names(name):
    data = facturx_pdf(cii_invoice(), "Invoice RE-2024-17 Total 10.70", attachment_name=name)

    assert extract_document(data).fields["source"] == "facturx"


def test_embedded_ubl_is_read_too():
    data = facturx_pdf(ubl_invoice(), "INV-2024-001 1,207.85", attachment_name="invoice.xml")

    fields = extract_document(data).fields
    assert (fields["source"], fields["vendor_name"]) == ("facturx", "Werkzeug Legal GmbH")


def test_invoice_listed_only_as_an_associated_file_is_found():
    data = pdf_with_associated_file_only(cii_invoice(), "Invoice RE-2024-17 Total 10,70")
    assert pymupdf.open(stream=data).embfile_names() == []

    assert extract_document(data).fields["source"] == "facturx"


def test_page_that_shows_another_number_and_total_earns_visual_mismatch_warnings():
    fields = extract_document(facturx_pdf(cii_invoice(), "Invoice 999 Total 55,00 EUR")).fields

    mismatches = {w["field"] for w in fields["warnings"] if w["code"] == "visual_mismatch"}
    assert mismatches == {"invoice_number", "total_amount"}
    assert fields["invoice_number"] == "RE-2024-17"  # the XML still decides


def test_attachments_that_are_not_einvoices_are_ignored():
    doc = pymupdf.open(stream=facturx_pdf(b"<notes><note>hi</note></notes>", "Invoice 1"))
    doc.embfile_add("logo.png", b"\x89PNG\r\n\x1a\n")

    assert find_embedded_einvoice(doc) is None


def test_an_unsafe_attachment_is_ignored_not_parsed():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:x"><a>&e;</a></rsm:CrossIndustryInvoice>'
    )
    doc = pymupdf.open(stream=facturx_pdf(xxe, "Invoice 1"))

    assert find_embedded_einvoice(doc) is None


# --- handing over to the other extraction paths -------------------------------------------


def test_pdf_with_a_text_layer_and_no_xml_goes_to_the_text_extractor():
    pytest.importorskip("workers.extraction.pdf_text")

    fields = extract_document(pdf_with_text("Invoice 42\nTotal 10.00 EUR")).fields

    assert fields["source"] == "pdf_text"


def test_an_absurd_extracted_amount_becomes_null_with_a_warning():
    fields = extract_document(ubl_invoice(total="99999999999999999999.00")).fields

    assert fields["total_amount"] is None
    assert fields["amount_due"] == 120000
    assert {"code": "amount_out_of_range", "field": "total_amount"}.items() <= next(
        w for w in fields["warnings"] if w["code"] == "amount_out_of_range"
    ).items()
