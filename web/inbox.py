"""The inbox: the invoice list with the API's filters, keyset pages, and bulk approve."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from common.errors import InsufficientScope, InvexError, ValidationFailed
from common.invoices import review, service
from common.invoices.repository import InvoiceFilters
from common.invoices.resource import invoice_resource
from web import auth, display
from web.blueprint import blp

STATUSES = ("queued", "processing", "succeeded", "failed")
REVIEW_STATUSES = ("received", "approved", "rejected", "paid", "archived")
DOCUMENT_TYPES = ("invoice", "credit_note", "receipt", "quote", "purchase_order", "unknown")
PAGE_SIZE = 50
MAX_BULK = 100  # a page's worth


def _choice(name: str, choices: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in choices:
        raise ValidationFailed(f"{name} is one of {', '.join(choices)}.", param=name)
    return value


def _date(name: str) -> str | None:
    value = request.args.get(name) or None
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValidationFailed(f"{name} is a date, YYYY-MM-DD.", param=name) from None


def inbox_filters() -> InvoiceFilters:
    """The list's filters from the page's query, checked as the API checks its own."""
    vendor = (request.args.get("vendor") or "").strip()[:200] or None
    currency = (request.args.get("currency") or "").strip().upper() or None
    if currency is not None and not (len(currency) == 3 and currency.isalpha()):
        raise ValidationFailed("currency is a three-letter ISO 4217 code.", param="currency")
    return InvoiceFilters(
        status=_choice("status", STATUSES),
        review_status=_choice("review_status", REVIEW_STATUSES),
        document_type=_choice("document_type", DOCUMENT_TYPES),
        vendor=vendor,
        currency=currency,
        date_from=_date("date_from"),
        date_to=_date("date_to"),
    )


def _query_without_cursor() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "cursor" and v}


@blp.get("/")
def home() -> WerkzeugResponse:
    return redirect(url_for("web.inbox"))


@blp.get("/inbox")
@auth.signed_in
def inbox() -> str | tuple[str, int]:
    principal = auth.current_principal()
    error = None
    try:
        filters = inbox_filters()
        page = service.list_invoices(
            principal, filters, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None
        )
        rows = [display.inbox_row(invoice_resource(i)) for i in page.invoices]
    except ValidationFailed as exc:
        error, rows, page = exc.message, [], None
    return render_template(
        "inbox.html",
        rows=rows,
        totals=display.page_totals(rows),
        next_cursor=page.next_cursor if page is not None else None,
        query=_query_without_cursor(),
        args=request.args,
        error=error,
        statuses=STATUSES,
        review_statuses=REVIEW_STATUSES,
        document_types=DOCUMENT_TYPES,
        done=request.args.get("done"),
    ), (400 if error else 200)


@blp.post("/inbox/approve")
@auth.signed_in
def bulk_approve() -> WerkzeugResponse:
    principal = auth.current_principal()
    principal.require("invoices:write")  # a viewer may not approve: 403
    ids = request.form.getlist("invoice_id")[:MAX_BULK]
    approved, refused = 0, 0
    for invoice_id in ids:
        try:
            review.move_invoice(principal, invoice_id, "approve")
            approved += 1
        except InsufficientScope:
            raise
        except InvexError:
            refused += 1  # not found, or not in a state approval starts from
    summary = f"Approved {approved}" + (f"; {refused} could not be approved" if refused else "")
    back: dict[str, Any] = {k: v for k, v in request.form.items() if k.startswith("f_") and v}
    query = {k[2:]: v for k, v in back.items()}
    return redirect(url_for("web.inbox", **query, done=summary))
