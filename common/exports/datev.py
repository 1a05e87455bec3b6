"""The `datev` export: DATEV's Buchungsstapel in the EXTF format (version 700, format
category 21, format version 13), the CSV German accountants import into DATEV
Rechnungswesen or Unternehmen Online.

A file is a header record, the 125 column names in DATEV's order, then one booking per
invoice: the gross amount credited ("H") to the supplier's creditor account (`Konto`)
against an expense account (`Gegenkonto`), a credit note debited ("S"); the VAT by the
BU-Schlüssel of its rate (9: 19 % Vorsteuer, 8: 7 %). Windows-1252 with CRLF, fields
separated by ";", text in double quotes, amounts with a decimal comma and two decimals and
no thousands separator, Belegdatum as DDMM (the year is the header's).

A batch holds the bookings of one fiscal year (DATEV refuses others), so the rows are kept
aside per fiscal year and the header, which names the batch's first and last date, is
written at the end: one fiscal year gives one CSV, several a ZIP of one CSV each.

Left out, as DATEV would refuse them: invoices whose extraction did not succeed and those
without a total (DATEV has no booking of 0,00).
"""

from __future__ import annotations

import codecs
import contextlib
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, Any, BinaryIO

from common.exports.formats import DatevSettings, FilesZip, Options, Writer
from common.invoices.repository import Invoice
from common.money import currency_exponent, from_minor_units

ENCODING = "cp1252"


# The columns of a Buchungsstapel (format version 13), in DATEV's order.
COLUMNS = (
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
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    *(f"Beleginfo - {kind} {n}" for n in range(1, 9) for kind in ("Art", "Inhalt")),
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    *(f"Zusatzinformation - {kind} {n}" for n in range(1, 21) for kind in ("Art", "Inhalt")),
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Mitgliedstaat (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr (GU)",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Mitgliedstaat u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
)
assert len(COLUMNS) == 125
COLUMN = {name: index for index, name in enumerate(COLUMNS)}

# BU-Schlüssel of the input VAT (Vorsteuer) rates; other rates are booked without one.
TAX_KEYS = {Decimal(19): "9", Decimal(7): "8"}
BELEGFELD_1_LENGTH = 36
BUCHUNGSTEXT_LENGTH = 60
# DATEV's pattern for Belegfeld 1: word characters and $ % - / only.
BELEGFELD_REFUSED = re.compile(r"[^\w$%\-/]", re.ASCII)
FLUSH_LINES = 1000


# Letters with a stroke have no Unicode decomposition to their base letter.
_STROKED = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "Ŧ": "T", "ŧ": "t"}


def _to_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a character Windows-1252 lacks becomes its base letter when it
    has one ("ł" -> "l", "ő" -> "o"), else "?"."""
    assert isinstance(error, UnicodeEncodeError)
    replaced = []
    for char in error.object[error.start : error.end]:
        base = _STROKED.get(char) or "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        try:
            base.encode(ENCODING)
        except UnicodeEncodeError:
            base = ""
        replaced.append(base or "?")
    return "".join(replaced), error.end


codecs.register_error("invex_cp1252", _to_cp1252)


def quoted(value: Any, limit: int | None = None) -> str:
    """A DATEV text field: one line, cut to `limit`, in double quotes (inner ones doubled)."""
    value = " ".join(str(value or "").split())
    if limit is not None:
        value = value[:limit]
    return '"' + value.replace('"', '""') + '"'


def datev_amount(minor: Any, currency: str | None) -> str | None:
    """Minor units as DATEV's Umsatz: positive, a decimal comma, two decimals (whatever the
    currency's exponent), no thousands separator; None for nothing or zero."""
    try:
        units = abs(int(minor))
    except (TypeError, ValueError):
        return None
    if units == 0:
        return None
    exponent = currency_exponent(currency)
    if exponent == 2:
        whole, cents = divmod(units, 100)
        return f"{whole},{cents:02d}"
    value = from_minor_units(units, currency).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return str(value).replace(".", ",")


def _tax_key(rate: Any) -> str:
    try:
        return TAX_KEYS.get(Decimal(str(rate)), "")
    except ArithmeticError:
        return ""


def _invoice_date(invoice: Invoice) -> date:
    try:
        return date.fromisoformat(str(invoice.fields.get("invoice_date")))
    except ValueError:
        return invoice.created_at.date()


@dataclass
class _Batch:
    """The rows of one fiscal year, kept in a temporary file until the header is known."""

    start: date  # WJ-Beginn
    spool: IO[bytes]
    first: date
    last: date
    pending: list[str]


class DatevWriter(Writer):
    fields_read = (
        "currency",
        "total_amount",
        "document_type",
        "invoice_number",
        "vendor_name",
        "tax_rate",
        "invoice_date",
        "due_date",
    )

    def __init__(self, out: BinaryIO, options: Options) -> None:
        super().__init__(out, options)
        self.settings = options.datev or DatevSettings()
        self.created = datetime.now(UTC)
        self.batches: dict[date, _Batch] = {}
        self._zip = FilesZip(out, options) if options.include_files else None
        self.content_type = "text/csv; charset=windows-1252"  # its IANA name
        self.extension = ".csv"
        # The cells every booking has the same, copied for each
        self._template = [""] * len(COLUMNS)
        self._template[6] = str(self.settings.creditor_account)
        self._template[7] = str(self.settings.expense_account)
        self._template[COLUMN["Beleginfo - Art 1"]] = quoted("Invex")
        self._template[COLUMN["Festschreibung"]] = "0"

    def add(self, invoice: Invoice) -> None:
        line = self.booking(invoice)
        if line is not None:
            booked = _invoice_date(invoice)
            batch = self._batch(booked)
            batch.first, batch.last = min(batch.first, booked), max(batch.last, booked)
            batch.pending.append(line)
            if len(batch.pending) >= FLUSH_LINES:
                self._flush(batch)
        if self._zip is not None:
            self._zip.add(invoice)

    def booking(self, invoice: Invoice) -> str | None:
        """The booking line of an invoice (CRLF ended), or None when DATEV would refuse it."""
        fields = invoice.fields
        currency = fields.get("currency") or "EUR"
        umsatz = datev_amount(fields.get("total_amount"), currency)
        if invoice.status != "succeeded" or umsatz is None:
            return None
        # A supplier's invoice is owed to it: a credit (Haben) on its creditor account. A
        # credit note, or a negative total, turns it round.
        credit = fields.get("document_type") != "credit_note"
        if int(fields["total_amount"]) < 0:
            credit = not credit
        number = fields.get("invoice_number") or ""
        vendor = fields.get("vendor_name") or ""
        cells = self._template.copy()
        cells[0] = umsatz
        cells[1] = '"H"' if credit else '"S"'
        cells[2] = quoted(str(currency).upper())
        cells[8] = quoted(_tax_key(fields.get("tax_rate")))
        cells[9] = _invoice_date(invoice).strftime("%d%m")
        cells[10] = quoted(BELEGFELD_REFUSED.sub("-", str(number))[:BELEGFELD_1_LENGTH])
        cells[13] = quoted(" ".join(str(p) for p in (vendor, number) if p), BUCHUNGSTEXT_LENGTH)
        cells[COLUMN["Beleginfo - Inhalt 1"]] = quoted(invoice.id)
        due = fields.get("due_date")
        if due:
            with contextlib.suppress(ValueError):
                cells[COLUMN["Fälligkeit"]] = date.fromisoformat(str(due)).strftime("%d%m%Y")
        return ";".join(cells) + "\r\n"

    def _fiscal_year_start(self, booked: date) -> date:
        month = self.settings.fiscal_year_start_month
        return date(booked.year if booked.month >= month else booked.year - 1, month, 1)

    def _batch(self, booked: date) -> _Batch:
        start = self._fiscal_year_start(booked)
        batch = self.batches.get(start)
        if batch is None:
            spool = tempfile.TemporaryFile(prefix="invex-datev-")  # noqa: SIM115
            batch = self.batches[start] = _Batch(start, spool, booked, booked, [])
        return batch

    def _flush(self, batch: _Batch) -> None:
        batch.spool.write("".join(batch.pending).encode(ENCODING, errors="invex_cp1252"))
        batch.pending.clear()

    def header(self, batch: _Batch) -> bytes:
        s = self.settings
        record = [
            '"EXTF"',  # Kennzeichen: a file made outside DATEV
            "700",  # Versionsnummer
            "21",  # Formatkategorie: Buchungsstapel
            '"Buchungsstapel"',
            "13",  # Formatversion
            self.created.strftime("%Y%m%d%H%M%S") + f"{self.created.microsecond // 1000:03d}",
            "",  # Importiert
            '"RE"',  # Herkunft: two characters naming the producing program's data
            '"Invex"',  # Exportiert von
            '""',  # Importiert von
            str(s.consultant_number),  # Beraternummer
            str(s.client_number),  # Mandantennummer
            batch.start.strftime("%Y%m%d"),  # WJ-Beginn
            str(s.account_length),  # Sachkontenlänge
            batch.first.strftime("%Y%m%d"),  # Datum vom
            batch.last.strftime("%Y%m%d"),  # Datum bis
            quoted(s.description, 30),  # Bezeichnung
            '""',  # Diktatkürzel
            "1",  # Buchungstyp: Finanzbuchführung
            "0",  # Rechnungslegungszweck: unabhängig
            "0",  # Festschreibung: none, so the accountant can still correct
            '"EUR"',  # WKZ
            "",  # reserviert
            '""',  # Derivatskennzeichen
            "",  # reserviert
            "",  # reserviert
            '""',  # SKR
            "",  # Branchen-Lösungs-ID
            "",  # reserviert
            '""',  # reserviert
            '""',  # Anwendungsinformation
        ]
        lines = ";".join(record) + "\r\n" + ";".join(COLUMNS) + "\r\n"
        return lines.encode(ENCODING)

    def _write_batch(self, batch: _Batch, target: IO[bytes]) -> None:
        self._flush(batch)
        target.write(self.header(batch))
        batch.spool.seek(0)
        shutil.copyfileobj(batch.spool, target, 1 << 20)
        batch.spool.close()

    def finish(self) -> None:
        batches = sorted(self.batches.values(), key=lambda b: b.start)
        if self._zip is None and len(batches) <= 1:
            if batches:
                self._write_batch(batches[0], self.out)
            else:  # no booking: an empty batch still imports, as nothing
                today = self.created.date()
                start = self._fiscal_year_start(today)
                spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _write_batch
                empty = _Batch(start, spool, today, today, [])
                self._write_batch(empty, self.out)
            return
        archive = self._zip or FilesZip(self.out, self.options)
        for batch in batches:
            name = f"EXTF_Buchungsstapel_{batch.start:%Y%m%d}.csv"
            with archive.zip.open(name, "w", force_zip64=True) as target:
                self._write_batch(batch, target)
        archive.finish()
        self.content_type, self.extension = "application/zip", ".zip"
