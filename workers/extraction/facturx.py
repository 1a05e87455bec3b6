"""PDFs that carry their own e-invoice: Factur-X, ZUGFeRD 1.0/2.x and XRechnung attach CII
(or, rarely, UBL) XML to the PDF. The XML is authoritative; the page is what a person saw,
so a page that does not show the XML's invoice number or total earns a warning."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pymupdf

from common import money
from common.pdf_attachments import PDF_ERRORS, embedded_xml_candidates
from workers.extraction.einvoice import einvoice_syntax, parse_einvoice_root, read_xml
from workers.extraction.errors import UnprocessableInvoice
from workers.extraction.invoice_fields import warning


def find_embedded_einvoice(doc: pymupdf.Document) -> tuple[str, dict[str, Any]] | None:
    """(attachment name, invoice fields) of the first attachment that is a UBL or CII
    e-invoice, or None when the PDF carries none."""
    for candidate in embedded_xml_candidates(doc):
        # Every attachment is tried, whatever its name: parsing a non-XML file fails fast,
        # and some generators name the invoice freely or encode it in UTF-16.
        try:
            root = read_xml(candidate.data)
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
