"""`GET /v1/invoices/{id}/xml` and `/pdf`: the original when the upload is one, otherwise
generated from the (corrected) fields."""

from __future__ import annotations

from dataclasses import dataclass

from common.accounts.service import Principal
from common.errors import ResourceNotFound
from common.invoices.service import read_invoice_file


@dataclass(frozen=True)
class Download:
    data: bytes
    content_type: str
    file_name: str


def invoice_xml(principal: Principal, invoice_id: str) -> Download:
    """The original e-invoice XML (uploaded, or embedded in a Factur-X PDF), else UBL 2.1
    generated from the fields as they are now."""
    invoice, data = read_invoice_file(principal, invoice_id)
    if invoice.content_type == "application/xml":
        return Download(data, "application/xml", f"{invoice.id}.xml")
    if invoice.content_type == "application/pdf" and invoice.fields.get("source") == "facturx":
        from common.pdf_attachments import embedded_einvoice_xml  # noqa: PLC0415 - PyMuPDF

        embedded = embedded_einvoice_xml(data)
        if embedded is not None:
            return Download(embedded, "application/xml", f"{invoice.id}.xml")
    if invoice.status != "succeeded":
        raise ResourceNotFound("This invoice has no fields yet to build XML from.", param="id")
    from common.invoices.ubl_export import invoice_to_ubl  # noqa: PLC0415 - lxml on demand

    xml = invoice_to_ubl(invoice.fields, issue_date_fallback=invoice.created_at.date())
    return Download(xml, "application/xml", f"{invoice.id}-ubl.xml")


def invoice_pdf(principal: Principal, invoice_id: str) -> Download:
    """The original PDF, else a readable PDF rendered from the fields."""
    invoice, data = read_invoice_file(principal, invoice_id)
    if invoice.content_type == "application/pdf":
        return Download(data, "application/pdf", f"{invoice.id}.pdf")
    if invoice.status != "succeeded":
        raise ResourceNotFound("This invoice has no fields yet to render.", param="id")
    from common.invoices.pdf_render import render_invoice_pdf  # noqa: PLC0415 - PyMuPDF on demand

    return Download(render_invoice_pdf(invoice.fields), "application/pdf", f"{invoice.id}.pdf")
