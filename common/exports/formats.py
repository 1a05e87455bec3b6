"""The export formats: each turns invoices, one at a time, into a file an accounting program
imports. Pure code (no database, no Celery): the worker feeds `add()` rows as a server-side
cursor yields them, so what a writer holds in memory never grows with the export.

- `csv`: one row per invoice; `csv_lines`: one row per line item (an invoice without line
  items gives one row with the line columns empty, so no invoice goes missing). UTF-8, an
  optional BOM (Excel needs it to read UTF-8), RFC 4180 quoting and CRLF, amounts as
  decimals in the currency's ISO 4217 exponent ("12.50" EUR, "1250" JPY), dates ISO 8601.
- `json`: JSON Lines, one invoice resource (as the API and webhooks show it) per line.
- `ubl`: a ZIP of UBL 2.1 XML, one `<invoice id>.xml` each, validated with the UBL XSD and
  the EN 16931 schematron; what fails is left out and listed in `errors.txt`.
- `facturx`: a ZIP of Factur-X (EN 16931 profile) PDF/A-3 files: the original PDF, else one
  rendered from the fields, with CII XML embedded; failures go to `errors.txt` likewise.
- `xero_bills_csv`: Xero's bill import template (one row per line item).
- `quickbooks_bills_csv`: QuickBooks Online's bill import columns (one row per line item).
- `datev`: DATEV's Buchungsstapel (EXTF 700), one booking per invoice (common/exports/datev.py).

Text cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a
carriage return) get a leading apostrophe (OWASP "CSV injection"); numbers written by
the export itself are never touched, so "-12.50" stays a number.

`include_files`: the export is a ZIP that also holds each invoice's original upload as
`files/<invoice id><extension>`; a CSV or JSON Lines export then sits inside it.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any, BinaryIO

from common import fastjson
from common.invoices.repository import Invoice
from common.invoices.resource import invoice_resource
from common.money import currency_exponent

FORMATS = (
    "csv",
    "csv_lines",
    "json",
    "ubl",
    "facturx",
    "xero_bills_csv",
    "quickbooks_bills_csv",
    "datev",
)

# What open_writer (common/exports/writers.py) can write; the API refuses the rest of
# FORMATS (400 unsupported_format).
WRITTEN_FORMATS = FORMATS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

EXTENSIONS = {
    "application/pdf": ".pdf",
    "application/xml": ".xml",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "image/webp": ".webp",
}

LoadFile = Callable[[str], bytes | None]


@dataclass(frozen=True)
class DatevSettings:
    """What names the accountant's DATEV client, from the export request (`datev`)."""

    consultant_number: int = 1001  # Beraternummer (DATEV's lowest)
    client_number: int = 1  # Mandantennummer
    fiscal_year_start_month: int = 1  # WJ-Beginn: the first day of this month
    account_length: int = 4  # Sachkontenlänge: 4 digits, creditors 5
    creditor_account: int = 70000  # Konto: SKR03/SKR04's first creditor
    expense_account: int = 4980  # Gegenkonto: SKR03 "Sonstiger Betriebsbedarf"
    description: str = "Invex Eingangsrechnungen"  # Bezeichnung (at most 30 characters)

    @classmethod
    def from_options(cls, options: dict[str, Any] | None) -> DatevSettings:
        return cls(**(options or {}))


@dataclass(frozen=True)
class Options:
    bom: bool = False
    include_files: bool = False
    load_file: LoadFile | None = None  # the original upload of an invoice, by ID
    datev: DatevSettings | None = None  # the DATEV client's numbers (`datev` only)
    validation_processes: int = 0  # helpers that validate `ubl` documents beside the writer


# --- cells ----------------------------------------------------------------------------------


def text(value: Any) -> str:
    """A text cell, safe to open in a spreadsheet."""
    if value is None:
        return ""
    value = str(value)
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def amount(minor: Any, currency: str | None, *, decimal_comma: bool = False) -> str:
    """Minor units as a decimal in the currency's exponent: 1250 EUR -> "12.50"."""
    return _decimal(minor, currency_exponent(currency), "," if decimal_comma else ".")


def _decimal(minor: Any, exponent: int, separator: str = ".") -> str:
    if minor is None or isinstance(minor, bool):
        return ""
    try:
        units = int(minor)
    except (TypeError, ValueError):
        return ""
    if exponent == 0:
        return str(units)
    whole, fraction = divmod(abs(units), 10**exponent)
    return f"{'-' if units < 0 else ''}{whole}{separator}{fraction:0{exponent}d}"


def timestamp(moment: datetime) -> str:
    # isoformat is several times faster than strftime; [:19] leaves out the fraction
    return moment.astimezone(UTC).isoformat()[:19] + "Z"


def _date(value: Any, pattern: str) -> str:
    """An ISO date string of the fields in another pattern ("%d/%m/%Y"); "" when absent."""
    if not value:
        return ""
    try:
        return date.fromisoformat(str(value)).strftime(pattern)
    except ValueError:
        return ""


def line_items(fields: dict[str, Any]) -> list[dict[str, Any]]:
    items = fields.get("line_items") or []
    return [item for item in items if isinstance(item, dict)]


# --- writers --------------------------------------------------------------------------------


class Writer:
    """Feeds invoices into `out`, then `finish()`. Subclasses say the content type and the
    file name's extension."""

    content_type = "application/octet-stream"
    extension = ".bin"
    # The `fields` keys `add()` reads, when it reads no others and no `metadata`: the rows
    # then carry only these, as text ("1250", not 1250), absent ones as `field_defaults`
    # says, else None. None: whole invoices.
    fields_read: tuple[str, ...] | None = None
    field_defaults: dict[str, str] = {}  # noqa: RUF012 - read only

    def __init__(self, out: BinaryIO, options: Options) -> None:
        self.out = out
        self.options = options

    def add(self, invoice: Invoice) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError


class ZipWriter(Writer):
    """A ZIP, with `files/` when include_files is asked for, and `errors.txt` when some
    invoice could not be written (kept aside in a temporary file until the end)."""

    content_type = "application/zip"
    extension = ".zip"

    def __init__(self, out: BinaryIO, options: Options) -> None:
        super().__init__(out, options)
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self._errors: IO[str] | None = None

    def add(self, invoice: Invoice) -> None:
        self.add_entry(invoice)
        if self.options.include_files:
            self.add_original(invoice)

    def add_entry(self, invoice: Invoice) -> None:
        raise NotImplementedError

    def add_original(self, invoice: Invoice) -> None:
        assert self.options.load_file is not None
        data = self.options.load_file(invoice.id)
        if data is None:
            self.error(invoice, "the original file is no longer stored")
            return
        extension = EXTENSIONS.get(invoice.content_type, "")
        # Already compressed formats gain nothing from deflate: store them.
        compress = zipfile.ZIP_DEFLATED if extension == ".xml" else zipfile.ZIP_STORED
        self.zip.writestr(f"files/{invoice.id}{extension}", data, compress_type=compress)

    def error(self, invoice: Invoice, message: str) -> None:
        if self._errors is None:
            self._errors = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        number = invoice.fields.get("invoice_number") or "-"
        self._errors.write(f"{invoice.id}\t{number}\t{' '.join(message.split())}\n")

    def finish(self) -> None:
        self.finish_entries()
        if self._errors is not None:
            self._errors.seek(0)
            with self.zip.open("errors.txt", "w") as target:
                for line in self._errors:
                    target.write(line.encode())
            self._errors.close()
        self.zip.close()

    def finish_entries(self) -> None:
        """Before the ZIP closes: add what was kept aside (a CSV beside the files)."""


class TableExport:
    """A table of rows: its columns and how one invoice becomes rows."""

    columns: tuple[str, ...] = ()
    encoding = "utf-8"
    charset = "utf-8"
    delimiter = ","
    name = "invoices.csv"
    fields_read: tuple[str, ...] | None = None  # as Writer's
    field_defaults: dict[str, str] = {}  # noqa: RUF012 - read only

    def header(self) -> Iterable[list[str]]:
        return [list(self.columns)]

    def row_writer(self, stream: IO[str]) -> Callable[[Iterable[list[str]]], object]:
        """What writes rows to `stream`: RFC 4180 CSV with CRLF unless a format says other."""
        return csv.writer(stream, delimiter=self.delimiter, lineterminator="\r\n").writerows

    def rows(self, invoice: Invoice) -> Iterator[list[str]]:
        raise NotImplementedError


class TableWriter(Writer):
    """A CSV file; with include_files, a ZIP of the CSV and the originals (the CSV is written
    to a temporary file as the rows come, and copied into the ZIP at the end)."""

    def __init__(self, out: BinaryIO, options: Options, table: TableExport) -> None:
        super().__init__(out, options)
        self.table = table
        self.extension = ".zip" if options.include_files else ".csv"
        self.content_type = (
            "application/zip" if options.include_files else f"text/csv; charset={table.charset}"
        )
        self._zip: FilesZip | None = None
        if options.include_files:
            self._zip = FilesZip(out, options)
            self._target: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        else:
            self._target = out
        self._text = io.TextIOWrapper(
            self._target, encoding=table.encoding, newline="", errors="replace", write_through=False
        )
        if options.bom and table.encoding == "utf-8":
            self._text.write("\ufeff")
        self._write_rows = table.row_writer(self._text)
        self._write_rows(table.header())
        self.fields_read = table.fields_read
        self.field_defaults = table.field_defaults

    def add(self, invoice: Invoice) -> None:
        self._write_rows(self.table.rows(invoice))
        if self._zip is not None:
            self._zip.add(invoice)

    def finish(self) -> None:
        self._text.flush()
        self._text.detach()  # leaves `out` open for the caller
        if self._zip is not None:
            self._target.seek(0)
            with self._zip.zip.open(self.table.name, "w") as target:
                shutil.copyfileobj(self._target, target, 1 << 20)
            self._target.close()
            self._zip.finish()


class FilesZip(ZipWriter):
    """The ZIP around a table export: only the originals (and errors.txt)."""

    def add_entry(self, invoice: Invoice) -> None:
        pass


class JsonLinesWriter(Writer):
    content_type = "application/x-ndjson"
    extension = ".jsonl"

    def __init__(self, out: BinaryIO, options: Options) -> None:
        super().__init__(out, options)
        self._zip: FilesZip | None = None
        self._target: IO[bytes] = out
        if options.include_files:
            self.content_type, self.extension = "application/zip", ".zip"
            self._zip = FilesZip(out, options)
            self._target = tempfile.TemporaryFile()  # noqa: SIM115

    def add(self, invoice: Invoice) -> None:
        self._target.write(fastjson.dumps(invoice_resource(invoice)) + b"\n")
        if self._zip is not None:
            self._zip.add(invoice)

    def finish(self) -> None:
        if self._zip is not None:
            self._target.seek(0)
            with self._zip.zip.open("invoices.jsonl", "w") as target:
                shutil.copyfileobj(self._target, target, 1 << 20)
            self._target.close()
            self._zip.finish()


# --- csv and csv_lines ----------------------------------------------------------------------

INVOICE_TEXT_COLUMNS = (
    "invoice_number",
    "invoice_date",
    "due_date",
    "currency",
    "purchase_order",
    "vendor_name",
    "vendor_email",
    "vendor_phone",
    "vendor_tax_id",
    "vendor_address",
    "vendor_iban",
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_tax_id",
    "customer_address",
)
INVOICE_AMOUNT_COLUMNS = (
    "subtotal_amount",
    "tax_amount",
    "total_amount",
    "amount_due",
    "discount_amount",
)
INVOICE_TAIL_COLUMNS = (
    "tax_rate",
    "discount_percent",
    "payment_terms",
    "payment_method",
    "payment_reference",
    "notes",
)
INVOICE_COLUMNS = (
    "id",
    "status",
    "review_status",
    "document_type",
    *INVOICE_TEXT_COLUMNS,
    *INVOICE_AMOUNT_COLUMNS,
    *INVOICE_TAIL_COLUMNS,
    "matched_document",
    "file_name",
    "created",
    "updated",
)


def _invoice_cells(invoice: Invoice) -> list[str]:
    fields = invoice.fields
    get = fields.get
    exponent = currency_exponent(get("currency"))
    # text() inlined for the common cell, a string a spreadsheet would not run
    cells = [invoice.id, invoice.status, invoice.review_status]
    cells.extend(
        value if value.__class__ is str and not value.startswith(FORMULA_STARTS) else text(value)
        for value in [get("document_type", "unknown"), *map(get, INVOICE_TEXT_COLUMNS)]
    )
    cells.extend(_decimal(get(name), exponent) for name in INVOICE_AMOUNT_COLUMNS)
    cells.extend(
        value if value.__class__ is str and not value.startswith(FORMULA_STARTS) else text(value)
        for value in map(get, INVOICE_TAIL_COLUMNS)
    )
    matched = get("matched_document")  # the quote or purchase order it was checked against
    cells.append(matched["id"] if isinstance(matched, dict) and matched.get("id") else "")
    cells.append(text(invoice.file_name))
    cells.append(timestamp(invoice.created_at))
    cells.append(timestamp(invoice.updated_at))
    return cells


class InvoiceTable(TableExport):
    columns = INVOICE_COLUMNS
    fields_read = (
        "document_type",
        *INVOICE_TEXT_COLUMNS,
        *INVOICE_AMOUNT_COLUMNS,
        *INVOICE_TAIL_COLUMNS,
        "matched_document",
    )
    field_defaults = {"document_type": "unknown"}  # noqa: RUF012 - read only

    def rows(self, invoice: Invoice) -> Iterator[list[str]]:
        yield _invoice_cells(invoice)


LINE_COLUMNS = (
    "invoice_id",
    "invoice_number",
    "invoice_date",
    "currency",
    "vendor_name",
    "vendor_tax_id",
    "line_number",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "total_price",
    "tax_rate",
    "tax_amount",
    "discount_percent",
    "discount_amount",
)


class LineTable(TableExport):
    columns = LINE_COLUMNS
    name = "invoice_lines.csv"

    def rows(self, invoice: Invoice) -> Iterator[list[str]]:
        fields = invoice.fields
        currency = fields.get("currency")
        head = [
            invoice.id,
            text(fields.get("invoice_number")),
            text(fields.get("invoice_date")),
            text(currency),
            text(fields.get("vendor_name")),
            text(fields.get("vendor_tax_id")),
        ]
        items = line_items(fields)
        if not items:
            yield [*head, *[""] * (len(LINE_COLUMNS) - len(head))]
            return
        for number, item in enumerate(items, start=1):
            unit_price = item.get("unit_price_decimal")
            yield [
                *head,
                str(number),
                text(item.get("description")),
                text(item.get("quantity")),
                text(item.get("unit")),
                text(unit_price) if unit_price else amount(item.get("unit_price"), currency),
                amount(item.get("total_price"), currency),
                text(item.get("tax_rate")),
                amount(item.get("tax_amount"), currency),
                text(item.get("discount_percent")),
                amount(item.get("discount_amount"), currency),
            ]


# --- bills for Xero and QuickBooks Online -----------------------------------------------


@dataclass(frozen=True)
class BillLine:
    description: str
    quantity: str
    unit_amount: str  # tax-exclusive price of one unit, a decimal
    line_amount: str  # tax-exclusive line total, a decimal
    tax_amount: str
    tax_rate: str


def bill_lines(fields: dict[str, Any]) -> list[BillLine]:
    """The lines of a bill, tax exclusive. An invoice without line items becomes one line
    carrying its subtotal (or total less tax) and its tax, so the bill's total is right."""
    currency = fields.get("currency")
    lines = []
    for item in line_items(fields):
        quantity = str(item.get("quantity") or "1")
        unit_price = item.get("unit_price_decimal") or amount(item.get("unit_price"), currency)
        total = amount(item.get("total_price"), currency)
        lines.append(
            BillLine(
                description=text(item.get("description")),
                quantity=quantity,
                unit_amount=unit_price or total,
                line_amount=total,
                tax_amount=amount(item.get("tax_amount"), currency),
                tax_rate=text(item.get("tax_rate") or fields.get("tax_rate")),
            )
        )
    if lines:
        return lines
    subtotal = fields.get("subtotal_amount")
    if subtotal is None and fields.get("total_amount") is not None:
        subtotal = int(fields["total_amount"]) - int(fields.get("tax_amount") or 0)
    net = amount(subtotal, currency)
    description = " ".join(
        str(part)
        for part in ("Invoice", fields.get("invoice_number"), fields.get("vendor_name"))
        if part
    )
    return [
        BillLine(
            description=text(description),
            quantity="1",
            unit_amount=net,
            line_amount=net,
            tax_amount=amount(fields.get("tax_amount"), currency),
            tax_rate=text(fields.get("tax_rate")),
        )
    ]


def address_lines(address: Any, count: int) -> list[str]:
    """A free-text address in at most `count` lines (the rest joined onto the last)."""
    lines = [line.strip() for line in str(address or "").splitlines() if line.strip()]
    if len(lines) > count:
        lines = [*lines[: count - 1], ", ".join(lines[count - 1 :])]
    return [text(line) for line in lines] + [""] * (count - len(lines))


# Xero's bill import template (Business > Bills to pay > Import > "download our template"):
# its columns in its order; Xero matches them by name, and the starred ones are required.
XERO_BILL_COLUMNS = (
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "*InvoiceDate",
    "*DueDate",
    "Total",
    "InventoryItemCode",
    "Description",
    "*Quantity",
    "*UnitAmount",
    "*AccountCode",
    "*TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
)
# Xero reads dates in the organisation's regional format; its template and guide use this.
XERO_DATE = "%d/%m/%Y"


class XeroBills(TableExport):
    """One row per bill line; rows of one bill repeat its contact, number and dates, which
    is how Xero groups them. AccountCode and TaxType name entries of the user's own chart of
    accounts and tax rates, which Invex does not know: they are left empty for Xero's import
    screen to fill (it asks for defaults)."""

    columns = XERO_BILL_COLUMNS
    name = "xero_bills.csv"

    def rows(self, invoice: Invoice) -> Iterator[list[str]]:
        fields = invoice.fields
        currency = fields.get("currency")
        invoice_date = _date(fields.get("invoice_date"), XERO_DATE) or invoice.created_at.strftime(
            XERO_DATE
        )
        due_date = _date(fields.get("due_date"), XERO_DATE) or invoice_date
        contact = [
            text(fields.get("vendor_name") or "Unknown supplier"),
            text(fields.get("vendor_email")),
            *address_lines(fields.get("vendor_address"), 4),
            "",  # POCity
            "",  # PORegion
            "",  # POPostalCode
            "",  # POCountry
            text(fields.get("invoice_number") or invoice.id),
            invoice_date,
            due_date,
            amount(fields.get("total_amount"), currency),
            "",  # InventoryItemCode
        ]
        for line in bill_lines(fields):
            yield [
                *contact,
                line.description,
                line.quantity,
                line.unit_amount,
                "",  # *AccountCode
                "",  # *TaxType
                line.tax_amount,
                "",
                "",
                "",
                "",
                text(currency),
            ]


# QuickBooks Online's bill import (Settings > Import data > Bills): its sample file's
# columns, in order. Dates in the company's format; US companies' default is MM/DD/YYYY.
QUICKBOOKS_BILL_COLUMNS = (
    "Bill No.",
    "Supplier",
    "Bill Date",
    "Due Date",
    "Terms",
    "Location",
    "Memo",
    "Account",
    "Line Description",
    "Line Amount",
    "Line Tax Code",
    "Line Tax Amount",
    "Currency",
)
QUICKBOOKS_DATE = "%m/%d/%Y"


class QuickBooksBills(TableExport):
    """One row per bill line (the rows of a bill share its Bill No.). Account and Line Tax
    Code name the user's own accounts and tax codes: left empty for the import to map."""

    columns = QUICKBOOKS_BILL_COLUMNS
    name = "quickbooks_bills.csv"

    def rows(self, invoice: Invoice) -> Iterator[list[str]]:
        fields = invoice.fields
        bill_date = _date(
            fields.get("invoice_date"), QUICKBOOKS_DATE
        ) or invoice.created_at.strftime(QUICKBOOKS_DATE)
        head = [
            text(fields.get("invoice_number") or invoice.id),
            text(fields.get("vendor_name") or "Unknown supplier"),
            bill_date,
            _date(fields.get("due_date"), QUICKBOOKS_DATE) or bill_date,
            text(fields.get("payment_terms")),
            "",  # Location
            text(f"Invex {invoice.id}"),
        ]
        for line in bill_lines(fields):
            yield [
                *head,
                "",  # Account
                line.description,
                line.line_amount,
                "",  # Line Tax Code
                line.tax_amount,
                text(fields.get("currency")),
            ]
