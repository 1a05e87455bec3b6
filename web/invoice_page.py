"""One invoice: its pages beside its fields; correct, move through review, comment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response, jsonify, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.wrappers import Response as WerkzeugResponse

from api.schemas import InvoicePatchArgs
from common.errors import ValidationFailed
from common.invoice_fields import SCALAR_FIELDS
from common.invoices import downloads, field_boxes, page_images, review, service
from common.invoices.repository import InvoiceFilters
from common.invoices.resource import invoice_resource
from common.members import service as members
from common.money import currency_exponent
from common.pagination import encode_cursor
from web import auth, display
from web.blueprint import blp

DATE_FIELDS = ("invoice_date", "due_date")
LONG_TEXT_FIELDS = ("vendor_address", "customer_address", "notes", "payment_terms")
LABELS = {
    "invoice_number": "Invoice number",
    "vendor_iban": "Vendor IBAN",
    "vendor_tax_id": "Vendor tax ID",
    "customer_tax_id": "Customer tax ID",
    "purchase_order": "Purchase order",
}


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def _shown(name: str, resource: dict[str, Any]) -> str:
    value = resource.get(name)
    if value is None:
        return ""
    if name in display.AMOUNT_FIELDS:
        from common.exports.formats import amount  # noqa: PLC0415

        return amount(value, resource.get("currency"))
    return str(value)


def field_rows(resource: dict[str, Any]) -> list[dict[str, Any]]:
    confidence = resource.get("field_confidence") or {}
    warned = {display.warning_field(w): display.warning_text(w) for w in resource["warnings"] or []}
    rows = []
    for name in SCALAR_FIELDS:
        score = confidence.get(name)
        rows.append(
            {
                "name": name,
                "label": _label(name),
                "value": _shown(name, resource),
                "kind": "date"
                if name in DATE_FIELDS
                else ("long" if name in LONG_TEXT_FIELDS else "text"),
                "confidence": score,
                "low": isinstance(score, int | float) and score < display.LOW_CONFIDENCE,
                "warning": warned.get(name),
            }
        )
    return rows


def parse_field(name: str, text: str, currency: str | None) -> Any:
    """The typed value of a field as a person typed it; amounts in the currency's units
    (12.50 EUR is 1250). Checked by the API's own PATCH schema."""
    text = text.strip()
    value: Any = text or None
    if value is not None and name in display.AMOUNT_FIELDS:
        exponent = currency_exponent(currency)
        try:
            scaled = Decimal(text.replace(",", "")) * (10**exponent)
        except InvalidOperation:
            raise ValidationFailed(f"{_label(name)}: not a number.", param=name) from None
        if scaled != scaled.to_integral_value():
            raise ValidationFailed(
                f"{_label(name)}: at most {exponent} decimals in {currency or 'this currency'}.",
                param=name,
            )
        value = int(scaled)
    try:
        loaded = InvoicePatchArgs().load({name: value})
    except ValidationError as exc:
        messages = exc.normalized_messages().get(name) or ["not valid"]
        raise ValidationFailed(f"{_label(name)}: {messages[0]}", param=name) from None
    given = loaded[name]
    return given.isoformat() if isinstance(given, date) else given


def _next_invoice_id(principal, invoice_id: str) -> str | None:
    """The next older invoice in the unfiltered inbox (the review loop's `j`)."""
    page = service.list_invoices(
        principal, InvoiceFilters(), limit=1, cursor=encode_cursor(invoice_id)
    )
    return page.invoices[0].id if page.invoices else None


def _actor_names(principal) -> dict[str, str]:
    """Member IDs (which history and comments record for changes made here) by email."""
    found = members.list_members(principal, status=None, limit=100, after_id=None)
    return {member.id: member.email for member in found}


@blp.get("/invoices/<id(inv):invoice_id>")
@auth.signed_in
def invoice_page(invoice_id: str) -> str:
    principal = auth.current_principal()
    resource = invoice_resource(service.get_invoice(principal, invoice_id))
    currency = resource.get("currency")
    return render_template(
        "invoice.html",
        invoice=resource,
        fields=field_rows(resource),
        warnings=[
            display.warning_text(w)
            + (f" ({display.warning_field(w)})" if display.warning_field(w) else "")
            for w in resource["warnings"] or []
        ],
        line_items=[
            {
                **item,
                "unit_price_shown": display.money(item.get("unit_price"), currency),
                "total_price_shown": display.money(item.get("total_price"), currency),
            }
            for item in resource["line_items"]
        ],
        tax_breakdown=[
            {
                **row,
                "taxable_shown": display.money(row.get("taxable_amount"), currency),
                "tax_shown": display.money(row.get("tax_amount"), currency),
            }
            for row in resource["tax_breakdown"]
        ],
        total=display.money(resource.get("total_amount"), currency),
        history=review.history(principal, invoice_id),
        actors=_actor_names(principal),
        comments=review.list_comments(principal, invoice_id),
        transitions=[
            (action, move)
            for action, move in review.TRANSITIONS.items()
            if resource["review_status"] in move.from_statuses
            and resource["status"] in move.extraction
        ],
        correctable=resource["status"] in review.CORRECTABLE,
        next_id=_next_invoice_id(principal, invoice_id),
        pages=range(1, (resource["file"]["pages"] or 1) + 1),
        error=request.args.get("error"),
        done=request.args.get("done"),
    )


@blp.get("/invoices/<id(inv):invoice_id>/pages/<int:page>.png")
@auth.signed_in
def page_image(invoice_id: str, page: int) -> Response:
    image = page_images.page_image(auth.current_principal(), invoice_id, page)
    response = Response(image.png, mimetype="image/png")
    # One member's document: private, and kept by the browser a while (it never changes).
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _back(invoice_id: str, **message: Any) -> WerkzeugResponse:
    return redirect(url_for("web.invoice_page", invoice_id=invoice_id, **message))


@blp.get("/invoices/<id(inv):invoice_id>/boxes.json")
@auth.signed_in
def boxes(invoice_id: str) -> Response:
    response = jsonify(field_boxes.field_boxes(auth.current_principal(), invoice_id))
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blp.post("/invoices/<id(inv):invoice_id>/fields/<name>")
@auth.signed_in
def correct_field(invoice_id: str, name: str) -> WerkzeugResponse:
    principal = auth.current_principal()
    principal.require("invoices:write")
    if name not in SCALAR_FIELDS:
        raise ValidationFailed(f"Unknown field {name!r}.", param=name)
    invoice = service.get_invoice(principal, invoice_id)
    currency = (invoice.fields or {}).get("currency")
    if name == "currency":
        currency = request.form.get("value", "").strip().upper() or None
    try:
        value = parse_field(name, request.form.get("value", ""), currency)
        review.correct_invoice(principal, invoice_id, {name: value})
    except ValidationFailed as exc:
        return _back(invoice_id, error=exc.message)
    return _back(invoice_id, done=f"{_label(name)} saved.")


@blp.post("/invoices/<id(inv):invoice_id>/move/<action>")
@auth.signed_in
def move(invoice_id: str, action: str) -> WerkzeugResponse:
    principal = auth.current_principal()
    principal.require("invoices:write")
    if action not in review.TRANSITIONS:
        raise ValidationFailed(f"Unknown action {action!r}.", param="action")
    reason = request.form.get("reason", "").strip()[:500] or None
    moved = review.move_invoice(principal, invoice_id, action, reason)
    if request.form.get("then") == "next":
        following = _next_invoice_id(principal, invoice_id)
        if following is not None:
            return redirect(url_for("web.invoice_page", invoice_id=following))
    return _back(invoice_id, done=f"Now {moved.review_status}.")


@blp.post("/invoices/<id(inv):invoice_id>/comments")
@auth.signed_in
def comment(invoice_id: str) -> WerkzeugResponse:
    principal = auth.current_principal()
    principal.require("invoices:write")
    body = request.form.get("body", "")[:5000]
    try:
        review.add_comment(principal, invoice_id, body)
    except ValidationFailed as exc:
        return _back(invoice_id, error=exc.message)
    return _back(invoice_id, done="Comment added.")


@blp.get("/invoices/<id(inv):invoice_id>/download/<kind>")
@auth.signed_in
def download(invoice_id: str, kind: str) -> Response:
    principal = auth.current_principal()
    if kind == "original":
        invoice, data = service.read_invoice_file(principal, invoice_id)
        safe = "".join(c for c in invoice.file_name if c.isalnum() or c in "._- ")
        found = downloads.Download(data, invoice.content_type, safe or invoice.id)
    elif kind == "ubl":
        found = downloads.invoice_xml(principal, invoice_id)
    elif kind == "pdf":
        found = downloads.invoice_pdf(principal, invoice_id)
    else:
        raise ValidationFailed(f"Unknown download {kind!r}.", param="kind")
    return Response(
        found.data,
        mimetype=found.content_type,
        headers={"Content-Disposition": f'attachment; filename="{found.file_name}"'},
    )
