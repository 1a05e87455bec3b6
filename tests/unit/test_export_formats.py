"""Each export format against its specification: columns and their order, encodings, number
and date formats, CSV injection, and the e-invoices validated."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import zipfile
from datetime import UTC, datetime

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from common.exports.einvoices import SENT_AHEAD, invoice_to_cii
from common.exports.formats import (
    INVOICE_COLUMNS,
    LINE_COLUMNS,
    QUICKBOOKS_BILL_COLUMNS,
    XERO_BILL_COLUMNS,
    Options,
    amount,
    text,
)
from common.exports.writers import open_writer
from common.invoices.repository import Invoice
from common.invoices.ubl_validation import validate_ubl
from common.invoices.ubl_validation_process import ValidationProcessError, validation_processes
from tests.support import make_text_pdf

CREATED = datetime(2026, 3, 15, 9, 30, tzinfo=UTC)
FIELDS = {
    "document_type": "invoice",
    "invoice_number": "INV-2026-0042",
    "invoice_date": "2026-03-14",
    "due_date": "2026-04-13",
    "currency": "EUR",
    "vendor_name": "ACME Supplies GmbH",
    "vendor_email": "billing@acme.example",
    "vendor_tax_id": "DE123456789",
    "vendor_address": "Hauptstr. 1\n10115 Berlin\nGermany",
    "vendor_iban": "DE89370400440532013000",
    "customer_name": "Buyer BV",
    "customer_tax_id": "NL123456789B01",
    "customer_address": "Main 2\nAmsterdam\nNetherlands",
    "subtotal_amount": 10000,
    "tax_amount": 1900,
    "total_amount": 11900,
    "tax_rate": "19.00",
    "payment_terms": "30 days",
    "line_items": [
        {
            "description": "Widget",
            "quantity": "2",
            "unit_price": 3000,
            "total_price": 6000,
            "tax_rate": "19.00",
        },
        {
            "description": "Gadget",
            "quantity": "1",
            "unit_price": 4000,
            "total_price": 4000,
            "tax_rate": "19.00",
        },
    ],
}


def invoice(fields: dict | None = None, **changes) -> Invoice:
    values = {
        "id": "inv_01HZZZZZZZZZZZZZZZZZZZZZZZ",
        "org_id": "org_1",
        "livemode": True,
        "status": "succeeded",
        "review_status": "approved",
        "file_name": "acme.pdf",
        "content_type": "application/pdf",
        "file_size": 10,
        "file_sha256": "0" * 64,
        "file_pages": 1,
        "fields": FIELDS if fields is None else fields,
        "error_code": None,
        "error_message": None,
        "metadata": {},
        "schema_id": None,
        "duplicate_of": None,
        "attempts": 1,
        "created_at": CREATED,
        "updated_at": CREATED,
    }
    return Invoice(**{**values, **changes})


def export(fmt: str, invoices: list[Invoice], **options) -> tuple[bytes, object]:
    out = io.BytesIO()
    writer = open_writer(fmt, out, Options(**options))
    for item in invoices:
        writer.add(item)
    writer.finish()
    return out.getvalue(), writer


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# --- cells ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "currency", "expected"),
    [
        (1250, "EUR", "12.50"),
        (5, "EUR", "0.05"),
        (-1250, "EUR", "-12.50"),
        (1250, "JPY", "1250"),
        (1250, "KWD", "1.250"),
        (0, "USD", "0.00"),
        (None, "EUR", ""),
    ],
)
def test_amounts_are_decimals_in_the_currencys_exponent(minor, currency, expected):
    assert amount(minor, currency) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("ACME GmbH", "ACME GmbH"),
        (None, ""),
    ],
)
def test_text_cells_that_a_spreadsheet_would_run_get_an_apostrophe(value, expected):
    assert text(value) == expected


# --- csv --------------------------------------------------------------------------------------


def test_csv_names_the_quote_or_order_an_invoice_was_matched_against():
    matched = {"type": "purchase_order", "id": "po_01ABC", "number": "PO-7"}
    data, _ = export("csv", [invoice({"matched_document": matched}), invoice(id="inv_2")])
    table = rows(data)
    column = table[0].index("matched_document")
    assert [row[column] for row in table[1:]] == ["po_01ABC", ""]


def test_csv_has_one_row_per_invoice_with_the_documented_columns():
    data, writer = export("csv", [invoice(), invoice(id="inv_2")])
    table = rows(data)
    assert tuple(table[0]) == INVOICE_COLUMNS
    assert len(table) == 3
    row = dict(zip(table[0], table[1], strict=True))
    assert row["invoice_number"] == "INV-2026-0042"
    assert row["total_amount"] == "119.00"
    assert row["tax_amount"] == "19.00"
    assert row["invoice_date"] == "2026-03-14"
    assert row["created"] == "2026-03-15T09:30:00Z"
    assert row["vendor_address"] == "Hauptstr. 1\n10115 Berlin\nGermany"
    assert writer.content_type == "text/csv; charset=utf-8"
    assert writer.extension == ".csv"


def test_csv_is_utf8_with_crlf_and_a_bom_only_when_asked():
    plain, _ = export("csv", [invoice({**FIELDS, "vendor_name": "Müller & Söhne"})])
    with_bom, _ = export("csv", [invoice()], bom=True)
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert with_bom.startswith(b"\xef\xbb\xbf")
    assert "Müller & Söhne".encode() in plain
    assert plain.split(b"\n")[0].endswith(b"\r")


def test_csv_neutralises_formulas_but_not_negative_amounts():
    credit = {**FIELDS, "vendor_name": "=cmd|' /C calc'!A0", "total_amount": -11900}
    row = dict(zip(INVOICE_COLUMNS, rows(export("csv", [invoice(credit)])[0])[1], strict=True))
    assert row["vendor_name"] == "'=cmd|' /C calc'!A0"
    assert row["total_amount"] == "-119.00"


def test_csv_lines_has_one_row_per_line_item():
    data, _ = export("csv_lines", [invoice(), invoice({**FIELDS, "line_items": []}, id="inv_2")])
    table = rows(data)
    assert tuple(table[0]) == LINE_COLUMNS
    lines = [dict(zip(table[0], r, strict=True)) for r in table[1:]]
    assert [(r["invoice_id"], r["line_number"], r["description"]) for r in lines] == [
        ("inv_01HZZZZZZZZZZZZZZZZZZZZZZZ", "1", "Widget"),
        ("inv_01HZZZZZZZZZZZZZZZZZZZZZZZ", "2", "Gadget"),
        ("inv_2", "", ""),  # no line items: the invoice still appears
    ]
    assert lines[0]["unit_price"] == "30.00"
    assert lines[0]["total_price"] == "60.00"
    assert lines[0]["quantity"] == "2"


def test_csv_with_files_is_a_zip_of_the_table_and_the_originals():
    pdf = make_text_pdf()
    data, writer = export("csv", [invoice()], include_files=True, load_file=lambda invoice_id: pdf)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(archive.namelist()) == [
        "files/inv_01HZZZZZZZZZZZZZZZZZZZZZZZ.pdf",
        "invoices.csv",
    ]
    assert archive.read("files/inv_01HZZZZZZZZZZZZZZZZZZZZZZZ.pdf") == pdf
    assert rows(archive.read("invoices.csv"))[1][0] == "inv_01HZZZZZZZZZZZZZZZZZZZZZZZ"
    assert writer.content_type == "application/zip"


# --- json -------------------------------------------------------------------------------------


def test_json_is_one_invoice_resource_per_line():
    data, writer = export("json", [invoice(), invoice(id="inv_2")])
    lines = data.decode().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["object"] == "invoice"
    assert first["total_amount"] == 11900  # the resource: minor units, as the API shows
    assert first["line_items"][1]["description"] == "Gadget"
    assert json.loads(lines[1])["id"] == "inv_2"
    assert writer.content_type == "application/x-ndjson"


# --- Xero and QuickBooks ------------------------------------------------------------------


def test_xero_bills_follow_the_template_columns_and_dates():
    table = rows(export("xero_bills_csv", [invoice()])[0])
    assert tuple(table[0]) == XERO_BILL_COLUMNS
    assert table[0][:2] == ["*ContactName", "EmailAddress"]
    lines = [dict(zip(table[0], r, strict=True)) for r in table[1:]]
    assert len(lines) == 2
    first = lines[0]
    assert first["*ContactName"] == "ACME Supplies GmbH"
    assert first["*InvoiceNumber"] == "INV-2026-0042"
    assert first["*InvoiceDate"] == "14/03/2026"
    assert first["*DueDate"] == "13/04/2026"
    assert (first["Description"], first["*Quantity"], first["*UnitAmount"]) == (
        "Widget",
        "2",
        "30.00",
    )
    assert first["POAddressLine1"] == "Hauptstr. 1"
    assert first["Currency"] == "EUR"
    assert {line["*InvoiceNumber"] for line in lines} == {"INV-2026-0042"}


def test_a_bill_without_line_items_is_one_line_of_its_net_amount():
    fields = {**FIELDS, "line_items": []}
    table = rows(export("xero_bills_csv", [invoice(fields)])[0])
    line = dict(zip(table[0], table[1], strict=True))
    assert (line["*Quantity"], line["*UnitAmount"], line["TaxAmount"]) == ("1", "100.00", "19.00")


def test_quickbooks_bills_follow_the_import_columns():
    table = rows(export("quickbooks_bills_csv", [invoice()])[0])
    assert tuple(table[0]) == QUICKBOOKS_BILL_COLUMNS
    lines = [dict(zip(table[0], r, strict=True)) for r in table[1:]]
    assert [(r["Line Description"], r["Line Amount"]) for r in lines] == [
        ("Widget", "60.00"),
        ("Gadget", "40.00"),
    ]
    assert lines[0]["Bill No."] == "INV-2026-0042"
    assert lines[0]["Supplier"] == "ACME Supplies GmbH"
    assert lines[0]["Bill Date"] == "03/14/2026"
    assert lines[0]["Due Date"] == "04/13/2026"
    assert lines[0]["Terms"] == "30 days"


# --- UBL and Factur-X ---------------------------------------------------------------------


@pytest.mark.parametrize("processes", [0, 1, 2], ids=lambda n: f"{n} validation processes")
def test_ubl_zip_holds_valid_ubl_and_lists_what_failed(processes):
    broken = invoice({**FIELDS, "vendor_name": None, "vendor_address": None}, id="inv_broken")
    failed = invoice({}, id="inv_failed", status="failed")
    data, writer = export("ubl", [invoice(), broken, failed], validation_processes=processes)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(archive.namelist()) == ["errors.txt", "inv_01HZZZZZZZZZZZZZZZZZZZZZZZ.xml"]
    xml = archive.read("inv_01HZZZZZZZZZZZZZZZZZZZZZZZ.xml")
    assert validate_ubl(xml) == []
    assert (
        etree.fromstring(xml).findtext(
            "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}ID"
        )
        == "INV-2026-0042"
    )
    errors = archive.read("errors.txt").decode().splitlines()
    assert [line.split("\t")[0] for line in errors] == ["inv_broken", "inv_failed"]
    assert "BR-" in errors[0]
    assert writer.content_type == "application/zip"


def test_cii_passes_the_factur_x_en16931_schema():
    cii = invoice_to_cii(FIELDS)
    assert facturx.xml_check_xsd(cii, flavor="factur-x", level="en16931")
    root = etree.fromstring(cii)
    ram = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
    assert root.findtext(f".//{ram}GrandTotalAmount") == "119.00"
    assert root.findtext(f".//{ram}DuePayableAmount") == "119.00"
    assert len(root.findall(f".//{ram}IncludedSupplyChainTradeLineItem")) == 2


def test_a_credit_note_becomes_cii_type_381():
    cii = invoice_to_cii({**FIELDS, "document_type": "credit_note"})
    assert facturx.xml_check_xsd(cii, flavor="factur-x", level="en16931")
    ram = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
    assert etree.fromstring(cii).findtext(f".//{ram}TypeCode") == "381"


def test_facturx_zip_holds_pdfs_with_the_cii_embedded():
    pdf = make_text_pdf()
    xml_upload = invoice(id="inv_xml", content_type="application/xml")
    data, _ = export("facturx", [invoice(), xml_upload], load_file=lambda invoice_id: pdf)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(archive.namelist()) == ["inv_01HZZZZZZZZZZZZZZZZZZZZZZZ.pdf", "inv_xml.pdf"]
    for name in archive.namelist():
        document = archive.read(name)
        assert document.startswith(b"%PDF")
        filename, xml = facturx.get_facturx_xml_from_pdf(document)
        assert filename == "factur-x.xml"
        assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
        xmp = PdfReader(io.BytesIO(document)).trailer["/Root"]["/Metadata"].get_object()
        assert b"<pdfaid:part>3</pdfaid:part>" in xmp.get_data()  # declared PDF/A-3
        assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp.get_data()


def _many_ubl_invoices(count: int) -> list[Invoice]:
    """Valid and invalid invoices interleaved, each findable by its ID."""
    made = []
    for number in range(count):
        fields = {**FIELDS, "invoice_number": f"INV-{number:04}"}
        if number % 7 == 3:
            fields["vendor_name"] = fields["vendor_address"] = None  # breaks BR-06 and BR-08
        made.append(invoice(fields, id=f"inv_{number:04}"))
    return made


def test_ubl_validated_in_processes_matches_validated_in_the_writer():
    # Three times what two helpers take ahead, so helpers, the writer and its waiting all
    # take part; the archive must not depend on who checked which document.
    count = 3 * 2 * SENT_AHEAD
    invoices = _many_ubl_invoices(count)
    alone, _ = export("ubl", invoices, validation_processes=0)
    helped, _ = export("ubl", invoices, validation_processes=2)
    alone_zip, helped_zip = zipfile.ZipFile(io.BytesIO(alone)), zipfile.ZipFile(io.BytesIO(helped))
    assert helped_zip.namelist() == alone_zip.namelist()
    for name in alone_zip.namelist():
        assert helped_zip.read(name) == alone_zip.read(name), name
    errors = alone_zip.read("errors.txt").decode().splitlines()
    assert [line.split("\t")[0] for line in errors] == [
        f"inv_{n:04}" for n in range(count) if n % 7 == 3
    ]
    assert all("[BR-06]" in line for line in errors)


def test_ubl_export_fails_when_its_validation_process_dies():
    [helper] = validation_processes(1)
    writer = open_writer("ubl", io.BytesIO(), Options(validation_processes=1))
    writer.add(invoice())
    os.kill(helper.pid, signal.SIGKILL)

    def write_the_rest():
        for item in _many_ubl_invoices(20):
            writer.add(item)
        writer.finish()

    with pytest.raises(ValidationProcessError, match="exited"):
        write_the_rest()


def test_an_abandoned_ubl_export_leaves_no_answers_for_the_next():
    [first] = validation_processes(1)
    first.send(b"<Invoice/>")  # an export that stopped before taking this answer
    [second] = validation_processes(1)
    assert second is not first
    data, _ = export("ubl", [invoice()], validation_processes=1)
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["inv_01HZZZZZZZZZZZZZZZZZZZZZZZ.xml"]
