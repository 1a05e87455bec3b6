"""What people do with an invoice after extraction: correct fields, move it through the
review workflow, comment; every change is kept in its history.

The review state table (also in docs/api.md):

    action      from                                 extraction           to
    approve     received, rejected                   succeeded            approved
    reject      received, approved                   succeeded            rejected
    mark-paid   approved                             succeeded            paid
    archive     received, approved, rejected, paid   succeeded, failed    archived

Review moves and corrections need a finished extraction: while it runs, its result would
overwrite what a person decided, and a failed one has no fields to approve or correct (it
may be archived, or reprocessed). Both refuse with 409 `invalid_state_transition`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common import db
from common.accounts.service import Principal
from common.commercial import service as commercial
from common.db import Conn
from common.errors import InvalidStateTransition, ResourceNotFound, ValidationFailed
from common.ids import new_id
from common.invoice_fields import FIELD_NAMES
from common.invoices import repository
from common.invoices.repository import Invoice
from common.invoices.service import record_invoice_event


@dataclass(frozen=True)
class Transition:
    to_status: str
    from_statuses: tuple[str, ...]
    event: str
    extraction: tuple[str, ...] = ("succeeded",)  # the extraction statuses it needs


TRANSITIONS = {
    "approve": Transition("approved", ("received", "rejected"), "invoice.approved"),
    "reject": Transition("rejected", ("received", "approved"), "invoice.rejected"),
    "mark-paid": Transition("paid", ("approved",), "invoice.paid"),
    "archive": Transition(
        "archived",
        ("received", "approved", "rejected", "paid"),
        "invoice.archived",
        ("succeeded", "failed"),
    ),
}
CORRECTABLE = ("succeeded",)  # the extraction statuses a correction (PATCH) needs


def _owned_invoice(conn: Conn, principal: Principal, invoice_id: str) -> Invoice:
    invoice = repository.get_invoice(conn, principal.org_id, principal.livemode, invoice_id)
    if invoice is None:
        raise ResourceNotFound(f"No invoice {invoice_id!r}.", param="id")
    return invoice


def _require_extraction(invoice: Invoice, action: str, allowed: tuple[str, ...]) -> None:
    if invoice.status in allowed:
        return
    if invoice.status == "failed":
        raise InvalidStateTransition(
            f"Cannot {action} an invoice whose extraction failed; archive or reprocess it."
        )
    raise InvalidStateTransition(
        f"The invoice is still {invoice.status}; {action} it once extraction has succeeded."
    )


def correct_invoice(
    principal: Principal,
    invoice_id: str,
    changes: dict[str, Any],
    *,
    metadata: dict[str, str | None] | None = None,
) -> Invoice:
    """Overwrite shown fields (already validated); the extracted originals stay as they were.
    Each changed field is a history row; one `invoice.updated` event carries the result."""
    unknown = set(changes) - set(FIELD_NAMES)
    if unknown:
        first = min(unknown)
        raise ValidationFailed(f"Unknown field {first!r}.", param=first)
    with db.transaction() as conn:
        invoice = repository.get_invoice_by_id(
            conn, _owned_invoice(conn, principal, invoice_id).id, for_update=True
        )
        assert invoice is not None
        _require_extraction(invoice, "correct", CORRECTABLE)
        fields = dict(invoice.fields or {})
        changed = False
        corrected: set[str] = set()
        for name, given in changes.items():
            value = (
                {**fields.get("custom_fields", {}), **given} if name == "custom_fields" else given
            )
            if fields.get(name) != value:
                repository.insert_history(
                    conn,
                    invoice,
                    kind="correction",
                    field=name,
                    old=fields.get(name),
                    new=value,
                    key_id=principal.key_id,
                )
                fields[name] = value
                corrected.add(name)
                changed = True
        new_metadata = dict(invoice.metadata or {})
        for key, value in (metadata or {}).items():
            if value in (None, ""):
                new_metadata.pop(key, None)
            else:
                new_metadata[key] = value
        if new_metadata != invoice.metadata:
            repository.insert_history(
                conn,
                invoice,
                kind="correction",
                field="metadata",
                old=invoice.metadata,
                new=new_metadata,
                key_id=principal.key_id,
            )
            changed = True
        if not changed:
            return invoice
        updated = repository.update_fields(conn, invoice.id, fields, new_metadata)
        updated = commercial.rematch_corrected(conn, updated, corrected)
        record_invoice_event(conn, "invoice.updated", updated)
    return updated


def move_invoice(
    principal: Principal, invoice_id: str, action: str, reason: str | None = None
) -> Invoice:
    """One workflow move; 409 `invalid_state_transition` (and no change) when not allowed.
    Racing moves take turns on the row lock; each is judged from the state the last left."""
    transition = TRANSITIONS[action]
    with db.transaction() as conn:
        owned = _owned_invoice(conn, principal, invoice_id)
        # The row lock orders racing moves: the second sees the state the first left.
        invoice = repository.get_invoice_by_id(conn, owned.id, for_update=True)
        assert invoice is not None
        _require_extraction(invoice, action, transition.extraction)
        if invoice.review_status not in transition.from_statuses:
            raise InvalidStateTransition(
                f"Cannot {action} an invoice that is {invoice.review_status}; allowed from "
                f"{', '.join(transition.from_statuses)}."
            )
        moved = repository.move_review_status(
            conn, invoice.id, transition.to_status, list(transition.from_statuses)
        )
        assert moved is not None
        repository.insert_history(
            conn,
            moved,
            kind="transition",
            field="review_status",
            old=invoice.review_status,
            new=moved.review_status,
            key_id=principal.key_id,
            reason=reason,
        )
        record_invoice_event(conn, transition.event, moved)
    return moved


def set_review_status(
    conn: Conn,
    invoice: Invoice,
    to_status: str,
    event: str,
    *,
    key_id: str | None,
    reason: str | None,
) -> Invoice:
    """Move `invoice` (its row locked by the caller, in the caller's transaction) to
    `to_status` from where it is, with its history row and event: for moves another domain
    decides, as reconciliation paying an invoice or undoing that."""
    moved = repository.move_review_status(conn, invoice.id, to_status, [invoice.review_status])
    assert moved is not None, "the caller holds the row lock"
    repository.insert_history(
        conn,
        moved,
        kind="transition",
        field="review_status",
        old=invoice.review_status,
        new=moved.review_status,
        key_id=key_id,
        reason=reason,
    )
    record_invoice_event(conn, event, moved)
    return moved


def extracted_fields(principal: Principal, invoice_id: str) -> dict[str, Any] | None:
    with db.transaction() as conn:
        invoice = _owned_invoice(conn, principal, invoice_id)
        extracted = repository.get_extracted(conn, invoice.id)
    if extracted is None:
        return None
    return {name: extracted.get(name) for name in FIELD_NAMES}


def add_comment(principal: Principal, invoice_id: str, body: str) -> dict[str, Any]:
    body = body.strip()
    if not body:
        raise ValidationFailed("A comment needs a body.", param="body")
    with db.transaction() as conn:
        invoice = _owned_invoice(conn, principal, invoice_id)
        return comment_resource(
            repository.insert_comment(conn, new_id("cmt"), invoice.id, principal.key_id, body)
        )


def list_comments(principal: Principal, invoice_id: str) -> list[dict[str, Any]]:
    with db.transaction() as conn:
        invoice = _owned_invoice(conn, principal, invoice_id)
        return [comment_resource(row) for row in repository.list_comments(conn, invoice.id)]


def history(principal: Principal, invoice_id: str) -> list[dict[str, Any]]:
    with db.transaction() as conn:
        invoice = _owned_invoice(conn, principal, invoice_id)
        rows = repository.list_history(conn, invoice.id)
    return [
        {
            "object": "invoice_change",
            "kind": row["kind"],
            "field": row["field"],
            "old": row["old_value"],
            "new": row["new_value"],
            "reason": row["reason"],
            "key_id": row["key_id"],
            "created": int(row["created_at"].timestamp()),
        }
        for row in rows
    ]


def comment_resource(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "comment",
        "invoice_id": row["invoice_id"],
        "key_id": row["key_id"],
        "body": row["body"],
        "created": int(row["created_at"].timestamp()),
    }
