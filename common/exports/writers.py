"""Choosing the writer of an export format: apart from common/exports/formats.py, whose base
writers the DATEV and e-invoice writers extend. The e-invoice writers are imported only when
their format is asked for (lxml and Saxon for UBL, the PDF stack for Factur-X)."""

from __future__ import annotations

from typing import BinaryIO

from common.exports.datev import DatevWriter
from common.exports.formats import (
    InvoiceTable,
    JsonLinesWriter,
    LineTable,
    Options,
    QuickBooksBills,
    TableExport,
    TableWriter,
    Writer,
    XeroBills,
)


def open_writer(format: str, out: BinaryIO, options: Options) -> Writer:
    """The writer of `format` (one of FORMATS) writing into `out`."""
    tables: dict[str, type[TableExport]] = {
        "csv": InvoiceTable,
        "csv_lines": LineTable,
        "xero_bills_csv": XeroBills,
        "quickbooks_bills_csv": QuickBooksBills,
    }
    if format in tables:
        return TableWriter(out, options, tables[format]())
    if format == "json":
        return JsonLinesWriter(out, options)
    if format == "datev":
        return DatevWriter(out, options)
    if format == "ubl":
        from common.exports.einvoices import UblZipWriter  # noqa: PLC0415 - lxml, saxon

        return UblZipWriter(out, options)
    if format == "facturx":
        from common.exports.einvoices import FacturxZipWriter  # noqa: PLC0415 - PDF stack

        return FacturxZipWriter(out, options)
    raise ValueError(f"unknown export format {format!r}")
