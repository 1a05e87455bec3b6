"""PDFs that carry their own e-invoice: Factur-X, ZUGFeRD 1.0/2.x and XRechnung attach CII
(or, rarely, UBL) XML to the PDF. The XML is authoritative; the page is what a person saw,
so a page that does not show the XML's invoice number or total earns a warning."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pymupdf

from workers.extraction import money
from workers.extraction.einvoice import einvoice_syntax, parse_einvoice_root
from workers.extraction.errors import UnprocessableInvoice
from workers.extraction.invoice_fields import warning
from workers.extraction.xmltree import parse_untrusted_xml

# The names the standards prescribe, most specific first; any other attached XML is tried
# after these.
KNOWN_XML_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "order-x.xml")
# An attachment claiming to be larger is not an invoice; it is not even decompressed.
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
_OBJECT_REFERENCE = re.compile(r"(\d+)\s+0\s+R")
# What PyMuPDF raises on damaged objects and streams (MuPDF errors do not all derive from
# RuntimeError).
PDF_ERRORS = (RuntimeError, ValueError, KeyError, pymupdf.mupdf.FzErrorBase)


@dataclass(frozen=True)
class EmbeddedXml:
    name: str
    data: bytes


def embedded_xml_candidates(doc: pymupdf.Document) -> list[EmbeddedXml]:
    """Attached files that may be the e-invoice, best candidates first: the embedded-files
    name tree, then the catalog's associated files (/AF, PDF/A-3), then file attachment
    annotations."""
    found: dict[str, EmbeddedXml] = {}
    for source in (_named_embedded_files, _associated_files, _attachment_annotations):
        try:
            attachments = source(doc)
        except PDF_ERRORS:
            continue  # a damaged attachment list; the others may still hold the invoice
        for attachment in attachments:
            found.setdefault(attachment.name, attachment)
    return sorted(found.values(), key=_candidate_rank)


def _named_embedded_files(doc: pymupdf.Document) -> list[EmbeddedXml]:
    attachments = []
    for name in doc.embfile_names():
        info = doc.embfile_info(name)
        if (info.get("size") or 0) > MAX_ATTACHMENT_BYTES:
            continue
        file_name = info.get("ufilename") or info.get("filename") or name
        attachments.append(EmbeddedXml(file_name, doc.embfile_get(name)))
    return attachments


def _attachment_annotations(doc: pymupdf.Document) -> list[EmbeddedXml]:
    attachments = []
    for page in doc.pages():
        for annot in page.annots(types=[pymupdf.mupdf.PDF_ANNOT_FILE_ATTACHMENT]):
            info = annot.file_info
            if (info.get("size") or 0) <= MAX_ATTACHMENT_BYTES:
                file_name = info.get("filename") or f"attachment-{annot.xref}"
                attachments.append(EmbeddedXml(file_name, annot.get_file()))
    return attachments


def _candidate_rank(candidate: EmbeddedXml) -> tuple[int, str]:
    name = candidate.name.lower()
    if name in KNOWN_XML_NAMES:
        return (KNOWN_XML_NAMES.index(name), name)
    if name.endswith(".xml"):
        return (len(KNOWN_XML_NAMES), name)
    return (len(KNOWN_XML_NAMES) + 1, name)


def _associated_files(doc: pymupdf.Document) -> list[EmbeddedXml]:
    catalog = doc.pdf_catalog()
    kind, value = doc.xref_get_key(catalog, "AF")
    if kind == "xref":
        value = doc.xref_object(int(value.split()[0]), compressed=True)
    elif kind != "array":
        return []
    attachments = []
    for reference in _OBJECT_REFERENCE.findall(value):
        filespec = int(reference)
        stream_kind, stream_ref = doc.xref_get_key(filespec, "EF/F")
        if stream_kind != "xref":
            continue
        stream_xref = int(stream_ref.split()[0])
        length_kind, length = doc.xref_get_key(stream_xref, "Params/Size")
        if length_kind == "int" and int(length) > MAX_ATTACHMENT_BYTES:
            continue
        name = next(
            (
                doc.xref_get_key(filespec, key)[1]
                for key in ("UF", "F")
                if doc.xref_get_key(filespec, key)[0] == "string"
            ),
            f"af-{filespec}",
        )
        data = doc.xref_stream(stream_xref)
        if data:
            attachments.append(EmbeddedXml(name, data))
    return attachments


def find_embedded_einvoice(doc: pymupdf.Document) -> tuple[str, dict[str, Any]] | None:
    """(attachment name, invoice fields) of the first attachment that is a UBL or CII
    e-invoice, or None when the PDF carries none."""
    for candidate in embedded_xml_candidates(doc):
        # Every attachment is tried, whatever its name: parsing a non-XML file fails fast,
        # and some generators name the invoice freely or encode it in UTF-16.
        try:
            root = parse_untrusted_xml(candidate.data)
            if einvoice_syntax(root) is None:
                continue
            fields = parse_einvoice_root(root)
        except UnprocessableInvoice:
            continue
        return candidate.name, fields
    return None


def extract_facturx(doc: pymupdf.Document) -> dict[str, Any] | None:
    """Invoice fields (source "facturx") from a PDF's embedded e-invoice, or None."""
    embedded = find_embedded_einvoice(doc)
    if embedded is None:
        return None
    name, fields = embedded
    fields["source"] = "facturx"
    fields["embedded_xml_name"] = name
    try:
        page_text = "\n".join(page.get_text("text") for page in doc.pages())
    except PDF_ERRORS:
        page_text = ""  # an unreadable page cannot contradict the XML
    fields["warnings"].extend(visual_mismatches(fields, page_text))
    return fields


def visual_mismatches(fields: dict[str, Any], page_text: str) -> list[dict[str, Any]]:
    """Warnings for the XML's invoice number and total that the page text does not show:
    the attachment may describe another document than the one a person reads."""
    if not page_text.strip():
        return []  # an image-only page shows nothing we could compare
    found = []
    compact_text = re.sub(r"\s+", "", page_text).casefold()
    number = fields.get("invoice_number")
    if number and re.sub(r"\s+", "", number).casefold() not in compact_text:
        found.append(
            warning(
                "visual_mismatch",
                f"The embedded XML names invoice {number!r}, which the page does not show.",
                "invoice_number",
            )
        )
    total = fields.get("total_amount")
    if total is not None:
        value = money.from_minor_units(total, fields.get("currency"))
        if not any(form in compact_text for form in _number_forms(abs(value))):
            found.append(
                warning(
                    "visual_mismatch",
                    f"The embedded XML states a total of {value}, which the page does not show.",
                    "total_amount",
                )
            )
    return found


def _number_forms(value: Decimal) -> set[str]:
    """How an amount may be printed: 1234.5 -> 1234.50, 1,234.50, 1.234,50, 1'234.50, ..."""
    fixed = f"{value:.2f}"
    whole, cents = fixed.split(".")
    grouped = f"{int(whole):,}"
    forms = {fixed, f"{whole},{cents}"}
    for separator in (",", ".", "'", ""):
        forms.add(grouped.replace(",", separator) + ("," if separator == "." else ".") + cents)
        forms.add(grouped.replace(",", separator) + "," + cents)
    return {form.replace(" ", "") for form in forms}


def embedded_einvoice_xml(pdf_bytes: bytes) -> bytes | None:
    """The bytes of the e-invoice XML a PDF carries (for downloading it), or None."""
    try:
        doc = pymupdf.open(stream=pdf_bytes, filetype="pdf")
    except PDF_ERRORS:
        return None
    with doc:
        for candidate in embedded_xml_candidates(doc):
            try:
                if einvoice_syntax(parse_untrusted_xml(candidate.data)) is not None:
                    return candidate.data
            except UnprocessableInvoice:
                continue
    return None
