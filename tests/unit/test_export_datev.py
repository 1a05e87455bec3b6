"""The `datev` export against DATEV's Buchungsstapel format (EXTF 700, format version 13):
the header record, the column order, Windows-1252, amounts, dates and the booking's sides,
each read back from the file as DATEV's import reads it."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from common.exports.datev import COLUMNS
from common.exports.formats import DatevSettings
from tests.unit.test_export_formats import FIELDS, export, invoice

DOCUMENTED_FIRST_COLUMNS = [
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
]


def lines(data: bytes) -> list[list[str]]:
    """The file as DATEV reads it: Windows-1252, ";" separated, CRLF, quoted text."""
    assert b"\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")
    return list(csv.reader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";"))


def booking(data: bytes, row: int = 0) -> dict[str, str]:
    return dict(zip(COLUMNS, lines(data)[2 + row], strict=True))


def test_the_header_record_names_an_extf_buchungsstapel_of_format_version_13():
    data, _ = export("datev", [invoice()])
    header = lines(data)[0]
    assert header[:5] == ["EXTF", "700", "21", "Buchungsstapel", "13"]
    assert len(header[5]) == 17
    assert header[5].isdigit()
    assert len(header) == 31


def test_the_header_record_carries_the_clients_numbers_and_the_batchs_dates():
    settings = DatevSettings(consultant_number=29098, client_number=55003, account_length=5)
    data, _ = export("datev", [invoice()], datev=settings)
    header = lines(data)[0]
    assert header[10:16] == ["29098", "55003", "20260101", "5", "20260314", "20260314"]
    assert header[16] == "Invex Eingangsrechnungen"  # Bezeichnung
    assert header[18:22] == ["1", "0", "0", "EUR"]  # Buchungstyp, Zweck, Festschreibung 0, WKZ


def test_without_settings_the_defaults_are_used():
    data, _ = export("datev", [invoice()])
    assert lines(data)[0][10:14] == ["1001", "1", "20260101", "4"]
    row = booking(data)
    assert (row["Konto"], row["Gegenkonto (ohne BU-Schlüssel)"]) == ("70000", "4980")


def test_the_fiscal_year_starts_in_the_month_the_settings_name():
    data, _ = export("datev", [invoice()], datev=DatevSettings(fiscal_year_start_month=7))
    assert lines(data)[0][12] == "20250701"  # 2026-03-14 is in the year from July 2025


def test_the_second_line_is_the_125_columns_in_datevs_order():
    data, _ = export("datev", [invoice()])
    names = lines(data)[1]
    assert len(names) == 125
    assert names[:14] == DOCUMENTED_FIRST_COLUMNS
    assert names[-3:] == [
        "EU-Mitgliedstaat u. UStID (Ursprung)",
        "EU-Steuersatz (Ursprung)",
        "Abw. Skontokonto",
    ]
    assert all(len(row) == 125 for row in lines(data)[2:])


def test_a_supplier_invoice_is_a_credit_on_the_creditor_account():
    row = booking(export("datev", [invoice()])[0])
    assert row["Umsatz (ohne Soll/Haben-Kz)"] == "119,00"
    assert row["Soll/Haben-Kennzeichen"] == "H"
    assert row["WKZ Umsatz"] == "EUR"
    assert row["BU-Schlüssel"] == "9"  # 19 % Vorsteuer
    assert row["Belegdatum"] == "1403"
    assert row["Belegfeld 1"] == "INV-2026-0042"
    assert row["Buchungstext"] == "ACME Supplies GmbH INV-2026-0042"
    assert row["Fälligkeit"] == "13042026"
    assert row["Festschreibung"] == "0"
    assert row["Beleginfo - Inhalt 1"] == "inv_01HZZZZZZZZZZZZZZZZZZZZZZZ"


def test_a_credit_note_is_a_debit_on_the_creditor_account():
    note = invoice({**FIELDS, "document_type": "credit_note"})
    assert booking(export("datev", [note])[0])["Soll/Haben-Kennzeichen"] == "S"


def test_a_negative_total_is_booked_positive_on_the_other_side():
    refund = invoice({**FIELDS, "total_amount": -11900})
    row = booking(export("datev", [refund])[0])
    assert (row["Umsatz (ohne Soll/Haben-Kz)"], row["Soll/Haben-Kennzeichen"]) == ("119,00", "S")


@pytest.mark.parametrize(
    ("total", "currency", "expected"),
    [
        (123456789, "EUR", "1234567,89"),  # no thousands separator
        (5, "EUR", "0,05"),
        (1250, "JPY", "1250,00"),  # always two decimals
        (1255, "KWD", "1,26"),
    ],
)
def test_amounts_have_a_decimal_comma_and_two_decimals(total, currency, expected):
    item = invoice({**FIELDS, "total_amount": total, "currency": currency})
    row = booking(export("datev", [item])[0])
    assert row["Umsatz (ohne Soll/Haben-Kz)"] == expected
    assert row["WKZ Umsatz"] == currency


def test_the_file_is_windows_1252_and_characters_it_lacks_are_replaced():
    item = invoice({**FIELDS, "vendor_name": "Müller Łódź 東京 €"})
    data, writer = export("datev", [item])
    assert "Müller".encode("cp1252") in data
    assert booking(data)["Buchungstext"] == "Müller Lódz ?? € INV-2026-0042"
    assert writer.content_type == "text/csv; charset=windows-1252"


def test_belegfeld_1_is_at_most_36_characters_of_datevs_set():
    item = invoice({**FIELDS, "invoice_number": "RE 2026.0042_" + "9" * 40})
    value = booking(export("datev", [item])[0])["Belegfeld 1"]
    assert value == ("RE-2026-0042_" + "9" * 40)[:36]


def test_buchungstext_is_at_most_60_characters_on_one_line():
    item = invoice({**FIELDS, "vendor_name": 'A "quoted"\nname ' + "x" * 80})
    value = booking(export("datev", [item])[0])["Buchungstext"]
    assert len(value) == 60
    assert value.startswith('A "quoted" name xxx')


def test_invoices_datev_would_refuse_are_left_out():
    failed = invoice(status="failed", fields={})
    no_total = invoice({**FIELDS, "total_amount": None})
    data, _ = export("datev", [failed, no_total, invoice()])
    assert len(lines(data)) == 3


def test_invoices_of_two_fiscal_years_are_two_batches_in_a_zip():
    older = invoice({**FIELDS, "invoice_date": "2025-12-30"})
    data, writer = export("datev", [invoice(), older])
    assert writer.extension == ".zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [
            "EXTF_Buchungsstapel_20250101.csv",
            "EXTF_Buchungsstapel_20260101.csv",
        ]
        first = lines(archive.read("EXTF_Buchungsstapel_20250101.csv"))
    assert first[0][12:16] == ["20250101", "4", "20251230", "20251230"]
    assert first[2][9] == "3012"
