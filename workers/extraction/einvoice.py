"""Structured e-invoices (UBL 2.1, UN/CEFACT CII) to invoice fields: values come out exactly
as the XML states them, so their confidence is 1 until a check finds a contradiction."""

from __future__ import annotations

from typing import Any

from lxml import etree

from common.xmltree import Element, RefusedXml, local_name, parse_untrusted_xml
from workers.extraction.cii import parse_cii
from workers.extraction.errors import UnprocessableInvoice
from workers.extraction.ubl import parse_ubl

UBL_ROOTS = frozenset({"Invoice", "CreditNote"})
CII_ROOTS = frozenset({"CrossIndustryInvoice", "CrossIndustryDocument"})


def einvoice_syntax(root: Element) -> str | None:
    """ "ubl", "cii" or None for any other XML."""
    name = local_name(root)
    namespace = etree.QName(root).namespace or ""
    if name in UBL_ROOTS and "ubl:schema:xsd" in namespace:
        return "ubl"
    if name in CII_ROOTS:
        return "cii"
    return None


def read_xml(data: bytes) -> Element:
    """The root of untrusted XML (see `common.xmltree.parse_untrusted_xml`); what it refuses
    is an UnprocessableInvoice."""
    try:
        return parse_untrusted_xml(data)
    except RefusedXml as exc:
        raise UnprocessableInvoice(exc.message) from None


def parse_einvoice(xml_bytes: bytes) -> dict[str, Any]:
    """Invoice fields of a UBL or CII document; UnprocessableInvoice for anything else,
    including unsafe XML."""
    return parse_einvoice_root(read_xml(xml_bytes))


def parse_einvoice_root(root: Element) -> dict[str, Any]:
    syntax = einvoice_syntax(root)
    if syntax is None:
        raise UnprocessableInvoice(
            f"The XML is not a UBL or CII e-invoice (root element <{local_name(root)}>)."
        )
    fields = parse_ubl(root) if syntax == "ubl" else parse_cii(root)
    if not fields.get("invoice_number") and fields.get("total_amount") is None:
        raise UnprocessableInvoice("The e-invoice has neither an invoice number nor a total.")
    fields["field_confidence"] = {
        name: 1.0
        for name, value in fields.items()
        if name not in ("field_confidence", "warnings", "source", "extraction_confidence")
        and value not in (None, [], "")
    }
    fields["extraction_confidence"] = 1.0
    return fields
