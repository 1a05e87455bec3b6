"""Tax identifiers beyond the EU's VAT numbers: India's GSTIN, read and checked."""

import pymupdf

from workers.extraction.checks import is_valid_tax_id
from workers.extraction.pdf_text import extract_pdf_text


def _gst_invoice(gstin_line: str) -> bytes:
    pdf = pymupdf.open()
    page = pdf.new_page(width=595, height=842)
    for x, y, text in [
        (50, 60, "Shakti Textiles Pvt. Ltd."),
        (50, 72, "14 MG Road, Pune 411001"),
        (50, 84, gstin_line),
        (350, 60, "Tax Invoice"),
        (350, 72, "Invoice No: ST/2025/0412"),
        (350, 84, "Date: 12/03/2025"),
        (50, 140, "Bill To:"),
        (50, 152, "Kaveri Traders"),
        (300, 300, "Total"),
        (400, 300, "11,800.00"),
    ]:
        page.insert_text((x, y), text, fontsize=9)
    return pdf.tobytes()


def test_a_gstin_after_its_label_is_the_vendor_tax_id():
    fields = extract_pdf_text(_gst_invoice("GSTIN: 27AAPFU0939F1ZV"))
    assert fields["vendor_tax_id"] == "27AAPFU0939F1ZV"


def test_a_gstin_after_a_short_gst_label_is_read_too():
    fields = extract_pdf_text(_gst_invoice("GST: 27AAPFU0939F1ZV"))
    assert fields["vendor_tax_id"] == "27AAPFU0939F1ZV"


def test_a_gstin_is_checked_by_its_check_character():
    assert is_valid_tax_id("27AAPFU0939F1ZV") is True
    assert is_valid_tax_id("27AAPFU0939F1ZW") is False
