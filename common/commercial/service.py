"""Quotes and purchase orders: their states, and matching invoices against them.

States (illegal moves answer 409 `invalid_state_transition`):

    quote            received -> accepted | rejected     (POST /v1/quotes/{id}/accept|reject)
                     received -> expired                 (the sweeper, after valid_until)
    purchase order   open -> partially_invoiced -> invoiced   (invoices matched against it)
                     open | partially_invoiced -> closed      (POST .../{id}/close)

Uploads the extractor classifies `quote` or `purchase_order` become documents in the
transaction that records the extraction; an invoice's extraction is matched in that same
transaction (record_extracted_document), so neither is lost between commit and a task.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from rapidfuzz import fuzz

from common import db
from common.accounts.service import Principal
from common.commercial import repository
from common.commercial.repository import Document, MatchingSettings
from common.db import Conn
from common.errors import InvalidStateTransition, ResourceAlreadyExists, ResourceNotFound
from common.events import record_event
from common.ids import new_id
from common.invoices import repository as invoices_repository
from common.invoices.repository import Invoice
from common.invoices.resource import invoice_resource
from common.matching.lines import (
    DEVIATION_CODES,
    UNCERTAIN,
    Deviation,
    Line,
    Tolerances,
    match_lines,
    over_invoiced,
)
from common.money import currency_exponent
from common.pagination import MAX_LIMIT, decode_cursor, page_of

log = logging.getLogger(__name__)

KINDS = {"quote": "qte", "purchase_order": "po"}
QUOTE_STATUSES = ("received", "accepted", "rejected", "expired")
PO_STATUSES = ("open", "partially_invoiced", "invoiced", "closed")
# Quote decisions: action -> (to, from, event).
QUOTE_DECISIONS = {
    "accept": ("accepted", ("received",), "quote.accepted"),
    "reject": ("rejected", ("received",), "quote.rejected"),
}
# Purchase orders an invoice can still be matched against.
MATCHABLE_ORDERS = ["open", "partially_invoiced", "invoiced"]
# A vendor's accepted quotes considered for an invoice that names no order.
QUOTE_CANDIDATES = 50
VENDOR_SIMILARITY = 85
# A quote matches an invoice when at least this share of the invoice's lines pair with it.
QUOTE_LINE_SHARE = 0.5
# Without lines on either side, totals this close (relative) match.
QUOTE_TOTAL_SHARE = Decimal("0.10")
MAX_LINES = 500


@dataclass(frozen=True)
class Page:
    documents: list[Document]
    has_more: bool
    next_cursor: str | None


# --- resources ---------------------------------------------------------------------------


def document_resource(doc: Document, billed: list[dict[str, Any]] | None = None) -> dict:
    resource: dict[str, Any] = {
        "id": doc.id,
        "object": doc.kind,
        "livemode": doc.livemode,
        "created": int(doc.created_at.timestamp()),
        "updated": int(doc.updated_at.timestamp()),
        "status": doc.status,
        "status_reason": doc.status_reason,
        "source": doc.source,
        "upload_id": doc.invoice_id,
        "number": doc.number,
        "vendor_name": doc.vendor_name,
        "vendor_tax_id": doc.vendor_tax_id,
        "customer_name": doc.customer_name,
        "currency": doc.currency,
        "date": doc.document_date.isoformat() if doc.document_date else None,
        "subtotal_amount": doc.subtotal_amount,
        "tax_amount": doc.tax_amount,
        "total_amount": doc.total_amount,
        "line_items": doc.lines,
        "metadata": doc.metadata,
    }
    if doc.kind == "quote":
        resource["valid_until"] = doc.valid_until.isoformat() if doc.valid_until else None
    if billed is not None:
        resource["invoices"] = [row["invoice_id"] for row in billed]
        resource["invoiced_amount"] = sum(row["amount"] for row in billed)
    return resource


def settings_resource(settings: MatchingSettings) -> dict:
    return {
        "object": "matching_settings",
        "price_percent": f"{settings.price_percent:.2f}",
        "quantity": str(settings.quantity.normalize()),
        "amount": settings.amount,
        "auto_approve": settings.auto_approve,
    }


# --- reading and deciding ----------------------------------------------------------------


def list_documents(
    principal: Principal, kind: str, *, status: str | None, limit: int, cursor: str | None
) -> Page:
    after_id = decode_cursor(cursor, KINDS[kind])
    limit = min(limit, MAX_LIMIT)
    with db.transaction() as conn:
        rows = repository.list_documents(
            conn,
            principal.org_id,
            principal.livemode,
            kind,
            status=status,
            after_id=after_id,
            limit=limit + 1,
        )
    documents, has_more, next_cursor = page_of(rows, limit)
    return Page(documents, has_more, next_cursor)


def get_document(principal: Principal, kind: str, document_id: str) -> dict:
    with db.transaction() as conn:
        doc = _owned(conn, principal, kind, document_id)
        return document_resource(doc, repository.invoices_of(conn, doc.id))


def _owned(
    conn: Conn, principal: Principal, kind: str, document_id: str, *, for_update: bool = False
) -> Document:
    doc = repository.get_document(
        conn, principal.org_id, principal.livemode, kind, document_id, for_update=for_update
    )
    if doc is None:
        raise ResourceNotFound(f"No {kind.replace('_', ' ')} {document_id!r}.", param="id")
    return doc


def decide_quote(principal: Principal, quote_id: str, action: str, reason: str | None) -> dict:
    """Accept or reject a received quote; sends `quote.accepted` or `quote.rejected`."""
    to_status, from_statuses, event = QUOTE_DECISIONS[action]
    with db.transaction() as conn:
        quote = _owned(conn, principal, "quote", quote_id, for_update=True)
        moved = repository.move_status(conn, quote.id, to_status, list(from_statuses), reason)
        if moved is None:
            raise InvalidStateTransition(
                f"Cannot {action} a quote that is {quote.status}; allowed from "
                + ", ".join(from_statuses)
                + ".",
                param="id",
            )
        _record_document_event(conn, event, moved)
        return document_resource(moved, repository.invoices_of(conn, moved.id))


def close_purchase_order(principal: Principal, order_id: str, reason: str | None) -> dict:
    """No more invoices are expected against this order."""
    with db.transaction() as conn:
        order = _owned(conn, principal, "purchase_order", order_id, for_update=True)
        moved = repository.move_status(
            conn, order.id, "closed", ["open", "partially_invoiced"], reason
        )
        if moved is None:
            raise InvalidStateTransition(
                f"Cannot close a purchase order that is {order.status}; allowed from open, "
                "partially_invoiced.",
                param="id",
            )
        return document_resource(moved, repository.invoices_of(conn, moved.id))


def create_purchase_order(principal: Principal, content: dict[str, Any]) -> dict:
    """A purchase order an ERP already has (JSON). Its number is unique among the orders
    created this way: a second one answers 409 `resource_already_exists` (a retried request
    with the same Idempotency-Key answers the first response instead)."""
    with db.transaction() as conn:
        _lock_number(conn, principal, content["number"])
        existing = repository.find_by_number(
            conn,
            principal.org_id,
            principal.livemode,
            "purchase_order",
            number=content["number"],
            statuses=list(PO_STATUSES),
        )
        if existing is not None and existing.source == "api":
            raise ResourceAlreadyExists(
                f"Purchase order {content['number']!r} exists: {existing.id}.", param="number"
            )
        doc = repository.insert_document(
            conn,
            document_id=new_id("po"),
            org_id=principal.org_id,
            livemode=principal.livemode,
            kind="purchase_order",
            status="open",
            source="api",
            invoice_id=None,
            content=content,
        )
        return document_resource(doc, [])


def update_purchase_order(principal: Principal, order_id: str, changes: dict[str, Any]) -> dict:
    with db.transaction() as conn:
        order = _owned(conn, principal, "purchase_order", order_id, for_update=True)
        if order.status == "closed":
            raise InvalidStateTransition("A closed purchase order cannot change.", param="id")
        number = changes.get("number")
        if number is not None and number.lower() != (order.number or "").lower():
            _lock_number(conn, principal, number)
            existing = repository.find_by_number(
                conn,
                principal.org_id,
                principal.livemode,
                "purchase_order",
                number=number,
                statuses=list(PO_STATUSES),
            )
            if existing is not None and existing.source == "api" and existing.id != order.id:
                raise ResourceAlreadyExists(
                    f"Purchase order {number!r} exists: {existing.id}.", param="number"
                )
        current = {name: getattr(order, name) for name in repository.CONTENT}
        updated = repository.update_content(conn, order.id, {**current, **changes})
        return document_resource(updated, repository.invoices_of(conn, updated.id))


def _lock_number(conn: Conn, principal: Principal, number: str) -> None:
    """Serialises the creations and renumberings of one order number: the check for an
    existing one and the write are one step."""
    conn.execute(
        "select pg_advisory_xact_lock(hashtextextended(%(key)s, 0))",
        {"key": f"po:{principal.org_id}:{principal.livemode}:{number.lower()}"},
    )


def get_matching_settings(principal: Principal) -> dict:
    with db.transaction() as conn:
        return settings_resource(repository.get_settings(conn, principal.org_id))


def put_matching_settings(principal: Principal, values: dict[str, Any]) -> dict:
    with db.transaction() as conn:
        current = repository.get_settings(conn, principal.org_id)
        merged = MatchingSettings(
            price_percent=Decimal(values.get("price_percent", current.price_percent)),
            quantity=Decimal(values.get("quantity", current.quantity)),
            amount=values.get("amount", current.amount),
            auto_approve=values.get("auto_approve", current.auto_approve),
        )
        return settings_resource(repository.put_settings(conn, principal.org_id, merged))


def expire_quotes(today: date | None = None, batch: int = 500) -> int:
    """The sweeper: received quotes past their validity become expired (`quote.expired`).
    A second run finds nothing to do."""
    today = today or datetime.now(UTC).date()
    expired = 0
    while True:
        with db.transaction() as conn:
            quotes = repository.expire_quotes(conn, today, batch)
            for quote in quotes:
                _record_document_event(conn, "quote.expired", quote)
        expired += len(quotes)
        if len(quotes) < batch:
            return expired


def _record_document_event(conn: Conn, event: str, doc: Document) -> None:
    record_event(
        conn,
        org_id=doc.org_id,
        livemode=doc.livemode,
        type=event,
        object_id=doc.id,
        data=document_resource(doc, repository.invoices_of(conn, doc.id)),
    )


# --- from extraction ---------------------------------------------------------------------


def record_extracted_document(conn: Conn, invoice: Invoice) -> Invoice:
    """In the transaction recording a successful extraction: a quote or purchase order
    becomes (or refreshes) its document; an invoice is matched against its quote or order,
    gaining `matched_document` and the deviations as warnings."""
    document_type = (invoice.fields or {}).get("document_type")
    if document_type not in KINDS and document_type not in {"invoice", None}:
        return invoice
    try:
        # a savepoint: a fault here must not cost the extraction it rides on
        with conn.transaction():
            if document_type in KINDS:
                _record_upload(conn, invoice, document_type)
                return invoice
            return _match_invoice(conn, invoice)
    except Exception:  # any fault: keep the extraction, and say so on the invoice
        log.exception("matching %s failed", invoice.id)
        return invoices_repository.update_fields(
            conn,
            invoice.id,
            {
                **invoice.fields,
                "warnings": [
                    *invoice.fields.get("warnings", []),
                    {
                        "code": "matching_failed",
                        "message": "This document could not be checked against quotes and "
                        "purchase orders; reprocess it to try again.",
                        "field": None,
                    },
                ],
            },
            invoice.metadata,
        )


def _record_upload(conn: Conn, invoice: Invoice, kind: str) -> None:
    content = content_from_fields(invoice.fields, kind)
    if repository.refresh_from_upload(conn, invoice.id, content) is not None:
        return
    doc = repository.insert_document(
        conn,
        document_id=new_id(KINDS[kind]),
        org_id=invoice.org_id,
        livemode=invoice.livemode,
        kind=kind,
        status="received" if kind == "quote" else "open",
        source="upload",
        invoice_id=invoice.id,
        content=content,
    )
    if kind == "quote":
        _record_document_event(conn, "quote.received", doc)


def content_from_fields(fields: dict[str, Any], kind: str) -> dict[str, Any]:
    """A document's content from an extraction's fields. The extractor reads a quote's
    "valid until" as its due date: a quote has no other date ahead of it."""
    valid_until = _date(fields.get("valid_until"))
    if valid_until is None and kind == "quote":
        valid_until = _date(fields.get("due_date"))
    return {
        # an order's own number, or the only order number the extractor found on it
        "number": _text(fields.get("invoice_number")) or _text(fields.get("purchase_order")),
        "vendor_name": _text(fields.get("vendor_name")),
        "vendor_tax_id": _text(fields.get("vendor_tax_id")),
        "customer_name": _text(fields.get("customer_name")),
        "currency": _text(fields.get("currency")),
        "document_date": _date(fields.get("invoice_date")),
        "valid_until": valid_until,
        "subtotal_amount": _int(fields.get("subtotal_amount")),
        "tax_amount": _int(fields.get("tax_amount")),
        "total_amount": _int(fields.get("total_amount")),
        "lines": [
            {
                name: item.get(name)
                for name in (
                    "description",
                    "quantity",
                    "unit",
                    "unit_price",
                    "unit_price_decimal",
                    "total_price",
                    "tax_rate",
                )
            }
            for item in (fields.get("line_items") or [])[:MAX_LINES]
            if isinstance(item, dict)
        ],
        "metadata": {},
    }


def _text(value: Any) -> str | None:
    return value[:500] if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def matcher_lines(items: list[dict[str, Any]], currency: str | None) -> list[Line]:
    """Line items as the matcher reads them: money in minor units (a sub-cent unit price
    kept exact from `unit_price_decimal`), quantities and rates as Decimals."""
    exponent = currency_exponent(currency)
    lines = []
    for item in items[:MAX_LINES]:
        if not isinstance(item, dict):
            continue
        exact = _decimal(item.get("unit_price_decimal"))
        unit_price = exact.scaleb(exponent) if exact is not None else None
        if unit_price is None:
            unit_price = _decimal(_int(item.get("unit_price")))
        lines.append(
            Line(
                description=str(item.get("description") or "")[:500],
                quantity=_decimal(item.get("quantity")),
                unit_price=unit_price,
                amount=_decimal(_int(item.get("total_price"))),
                tax_rate=_decimal(item.get("tax_rate")),
            )
        )
    return lines


def tolerances_of(settings: MatchingSettings) -> Tolerances:
    return Tolerances(
        price_percent=settings.price_percent,
        quantity=settings.quantity,
        amount=Decimal(settings.amount),
    )


def _same_vendor(invoice: dict[str, Any], doc: Document) -> bool:
    tax_id = (invoice.get("vendor_tax_id") or "").replace(" ", "").upper()
    if tax_id and doc.vendor_tax_id:
        return tax_id == doc.vendor_tax_id.replace(" ", "").upper()
    name = (invoice.get("vendor_name") or "").lower()
    return bool(name and doc.vendor_name) and (
        fuzz.token_set_ratio(name, (doc.vendor_name or "").lower()) >= VENDOR_SIMILARITY
    )


def _find_document(
    conn: Conn, invoice: Invoice, lines: list[Line], tolerances: Tolerances
) -> Document | None:
    """The invoice's purchase order by the number it references, else the same vendor's
    accepted quote that its lines (or, without lines, its total) agree with best."""
    fields = invoice.fields
    reference = _text(fields.get("purchase_order"))
    if reference:
        order = repository.find_by_number(
            conn,
            invoice.org_id,
            invoice.livemode,
            "purchase_order",
            number=reference,
            statuses=MATCHABLE_ORDERS,
        )
        if order is not None:
            return order
    currency = fields.get("currency")
    total = _int(fields.get("total_amount"))
    best: tuple[float, Document] | None = None
    for quote in repository.recent_in_status(
        conn, invoice.org_id, invoice.livemode, "quote", status="accepted", limit=QUOTE_CANDIDATES
    ):
        if not _same_vendor(fields, quote) or (
            currency and quote.currency and currency != quote.currency
        ):
            continue
        quote_lines = matcher_lines(quote.lines, quote.currency)
        closeness = _total_closeness(total, quote.total_amount)
        if lines and quote_lines:
            result = match_lines(lines, quote_lines, tolerances)
            # a pair made only for want of a better one says nothing about the quote
            paired = {pair.invoice_line for pair in result.pairs if pair.kind != UNCERTAIN}
            share = len(paired) / len(lines)
            if share < QUOTE_LINE_SHARE:
                continue
            score = share + closeness / 2
        elif closeness >= 1 - float(QUOTE_TOTAL_SHARE):
            score = closeness
        else:
            continue
        if best is None or score > best[0]:
            best = (score, quote)
    return None if best is None else repository.lock_document(conn, best[1].id)


def _total_closeness(a: int | None, b: int | None) -> float:
    if a is None or b is None or max(abs(a), abs(b)) == 0:
        return 0.0
    return max(0.0, 1 - abs(a - b) / max(abs(a), abs(b)))


def _warning(deviation: Deviation, invoice_lines: int, currency: str | None) -> dict[str, Any]:
    exponent = currency_exponent(currency)

    def money(minor: Decimal) -> str:
        # sub-cent unit prices keep their extra digits
        major = minor.scaleb(-exponent)
        places = max(exponent, -major.normalize().as_tuple().exponent)  # type: ignore[operator]
        return f"{major:.{places}f} {currency or ''}".strip()

    warning: dict[str, Any] = {
        "code": deviation.code,
        "message": deviation.describe(money),
        "field": "total_amount" if deviation.invoice_line is None else "line_items",
    }
    if deviation.invoice_line is not None and deviation.invoice_line < invoice_lines:
        warning["line"] = deviation.invoice_line + 1
    return warning


def _match_invoice(conn: Conn, invoice: Invoice) -> Invoice:
    settings = repository.get_settings(conn, invoice.org_id)
    tolerances = tolerances_of(settings)
    fields = invoice.fields
    lines = matcher_lines(fields.get("line_items") or [], fields.get("currency"))
    doc = _find_document(conn, invoice, lines, tolerances)
    for released in repository.forget_invoice_matches(
        conn, invoice.id, keep=doc.id if doc else None
    ):
        _release_order(conn, released, tolerances)
    if doc is None:
        return invoice

    billed_amount, billed_quantities = repository.billed_by_others(conn, doc.id, invoice.id)
    result = match_lines(
        lines, matcher_lines(doc.lines, doc.currency), tolerances, billed_quantities
    )
    deviations = list(result.deviations)
    amount = (
        _int(fields.get("subtotal_amount"))
        if doc.subtotal_amount is not None
        else _int(fields.get("total_amount"))
    )
    if amount is None:
        amount = _int(fields.get("total_amount")) or 0
    order_amount = doc.billable_amount()
    if doc.kind == "purchase_order":
        over = over_invoiced(
            Decimal(order_amount) if order_amount is not None else None,
            Decimal(billed_amount),
            Decimal(amount),
            tolerances,
        )
        if over is not None:
            deviations.append(over)
    repository.record_invoice_match(conn, doc.id, invoice.id, amount, result.invoiced_quantities)

    updated = invoices_repository.update_fields(
        conn,
        invoice.id,
        {
            **fields,
            "matched_document": {"type": doc.kind, "id": doc.id, "number": doc.number},
            "warnings": [
                *fields.get("warnings", []),
                *(_warning(d, len(lines), fields.get("currency")) for d in deviations),
            ],
        },
        invoice.metadata,
    )
    if doc.kind == "purchase_order":
        _advance_order(conn, doc, billed_amount + amount, tolerances)
    return updated


def _advance_order(conn: Conn, order: Document, billed: int, tolerances: Tolerances) -> None:
    """An order invoiced up to its amount (less the amount tolerance) is `invoiced`, below
    it `partially_invoiced`; each invoice matched against it sends
    `purchase_order.invoiced` with the order as it now stands."""
    total = order.billable_amount()
    fully = total is not None and billed >= total - tolerances.amount
    to_status = "invoiced" if fully else "partially_invoiced"
    moved = None
    if order.status != "closed":
        moved = repository.move_status(
            conn, order.id, to_status, list(MATCHABLE_ORDERS), order.status_reason
        )
    _record_document_event(conn, "purchase_order.invoiced", moved or order)


def _release_order(conn: Conn, document_id: str, tolerances: Tolerances) -> None:
    """An order an invoice no longer bills goes back to where its other invoices leave it."""
    order = repository.lock_document(conn, document_id)
    if order.kind != "purchase_order" or order.status == "closed":
        return
    billed = sum(row["amount"] for row in repository.invoices_of(conn, order.id))
    total = order.billable_amount()
    if not billed:
        to_status = "open"
    elif total is not None and billed >= total - tolerances.amount:
        to_status = "invoiced"
    else:
        to_status = "partially_invoiced"
    repository.move_status(conn, order.id, to_status, list(MATCHABLE_ORDERS), order.status_reason)


# What matching reads from an invoice: correcting one of these matches it again.
MATCH_INPUTS = frozenset(
    {
        "purchase_order",
        "line_items",
        "vendor_name",
        "vendor_tax_id",
        "currency",
        "subtotal_amount",
        "total_amount",
    }
)


def rematch_corrected(conn: Conn, invoice: Invoice, corrected: set[str]) -> Invoice:
    """In the transaction of a correction (PATCH): when a field matching reads changed, the
    invoice is matched again, its earlier match and matching warnings replaced (a corrected
    quote or order upload refreshes its document)."""
    if not corrected & MATCH_INPUTS:
        return invoice
    fields = {name: value for name, value in invoice.fields.items() if name != "matched_document"}
    fields["warnings"] = [
        w
        for w in fields.get("warnings", [])
        if w.get("code") not in {*DEVIATION_CODES, "matching_failed"}
    ]
    cleared = invoices_repository.update_fields(conn, invoice.id, fields, invoice.metadata)
    return record_extracted_document(conn, cleared)


def approve_clean_match(conn: Conn, invoice: Invoice) -> Invoice:
    """When the organisation enables it, an invoice matched without a deviation is approved
    (history row, `invoice.approved`). Called after `invoice.succeeded` is recorded, so the
    events read in the order they happened."""
    fields = invoice.fields or {}
    matched = fields.get("matched_document")
    if not matched or invoice.review_status != "received":
        return invoice
    if any(w.get("code") in DEVIATION_CODES for w in fields.get("warnings", [])):
        return invoice
    if not repository.get_settings(conn, invoice.org_id).auto_approve:
        return invoice
    moved = invoices_repository.move_review_status(conn, invoice.id, "approved", ["received"])
    if moved is None:
        return invoice
    invoices_repository.insert_history(
        conn,
        moved,
        kind="transition",
        field="review_status",
        old=invoice.review_status,
        new=moved.review_status,
        key_id=None,
        reason=f"matches {matched['id']} within tolerance",
    )
    record_event(
        conn,
        org_id=moved.org_id,
        livemode=moved.livemode,
        type="invoice.approved",
        object_id=moved.id,
        data=invoice_resource(moved),
    )
    return moved
