"""Upload by drag and drop: each file goes up with its own request (progress shown by the
browser script), then its extraction is polled until it finishes."""

from __future__ import annotations

from flask import jsonify, render_template, request, url_for

from common.config import get_settings
from common.documents import SNIFF_BYTES, sniff_content_type
from common.errors import FileTooLarge, UnsupportedFileType, ValidationFailed
from common.invoices import service
from web import auth, display
from web.blueprint import blp


@blp.get("/upload")
@auth.signed_in
def upload() -> str:
    auth.current_principal().require("upload:write")
    return render_template("upload.html", max_bytes=get_settings().max_upload_bytes)


def _status(invoice) -> dict:
    return {
        "id": invoice.id,
        "status": invoice.status,
        "review_status": invoice.review_status,
        "vendor": (invoice.fields or {}).get("vendor_name"),
        "total": display.money(
            (invoice.fields or {}).get("total_amount"), (invoice.fields or {}).get("currency")
        ),
        "error": invoice.error_message if invoice.status == "failed" else None,
        "url": url_for("web.invoice_page", invoice_id=invoice.id),
        "status_url": url_for("web.invoice_status", invoice_id=invoice.id),
    }


@blp.post("/upload")
@auth.signed_in
def upload_file():
    principal = auth.current_principal()
    principal.require("upload:write")
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed("No file was sent.", param="file")
    head = upload.stream.read(SNIFF_BYTES)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise UnsupportedFileType(param="file")
    limit = get_settings().max_upload_bytes
    data = head + upload.stream.read(limit + 1 - len(head))
    if len(data) > limit:
        raise FileTooLarge(f"The file is larger than {limit} bytes.", param="file")
    if not data:
        raise ValidationFailed("The file is empty.", param="file")
    invoice = service.create_invoice(
        principal,
        file_name=(upload.filename or "upload")[:255],
        content_type=content_type,
        data=data,
    )
    return jsonify(_status(invoice)), 202


@blp.get("/invoices/<id(inv):invoice_id>/status.json")
@auth.signed_in
def invoice_status(invoice_id: str):
    return jsonify(_status(service.get_invoice(auth.current_principal(), invoice_id)))
