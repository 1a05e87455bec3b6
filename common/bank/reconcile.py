"""Reconciliation: which bank transactions pay which invoices (the rules are in
common/bank/matching.py); confident matches pay their invoices, the others wait as
suggestions that a person confirms (POST /v1/bank/matches) or rejects; any match can be
undone (DELETE /v1/bank/matches/{id}), which returns the invoice to its earlier state.

Each run is one transaction that locks the transactions it reconciles and the open
invoices (FOR UPDATE), so two runs at once take turns and never pay an invoice twice.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from common import db
from common.accounts.service import Principal
from common.bank import matching, repository
from common.bank.repository import Match, Reconciliation
from common.errors import InvalidStateTransition, ResourceNotFound, ValidationFailed
from common.events import record_event
from common.ids import new_id
from common.invoices import repository as invoices
from common.invoices import review
from common.pagination import org_page

log = logging.getLogger(__name__)

OPEN_REVIEW_STATUSES = ("received", "approved")


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def match_resource(match: Match) -> dict[str, Any]:
    return {
        "id": match.id,
        "object": "bank_match",
        "livemode": match.livemode,
        "reconciliation_id": match.reconciliation_id,
        "transaction_id": match.transaction_id,
        "invoice_id": match.invoice_id,
        "amount": match.amount,
        "score": f"{match.score:.3f}",
        "reasons": match.reasons,
        "status": match.status,
        "source": match.source,
        "previous_review_status": match.previous_review_status,
        "created": _unix(match.created_at),
        "applied": _unix(match.applied_at),
        "undone": _unix(match.undone_at),
    }


def reconciliation_resource(
    rec: Reconciliation, matches: list[Match] | None = None
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "id": rec.id,
        "object": "bank_reconciliation",
        "livemode": rec.livemode,
        "statement_id": rec.statement_id,
        "date_from": rec.date_from.isoformat() if rec.date_from else None,
        "date_to": rec.date_to.isoformat() if rec.date_to else None,
        "threshold": f"{rec.threshold:.2f}",
        "transaction_count": rec.transaction_count,
        "matched_count": rec.matched_count,
        "suggested_count": rec.suggested_count,
        "unmatched_count": rec.unmatched_count,
        "created": _unix(rec.created_at),
    }
    if matches is not None:
        resource["matches"] = [match_resource(m) for m in matches]
    return resource


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def open_invoice(row: dict[str, Any]) -> matching.OpenInvoice | None:
    """The matcher's view of an invoice row (with `paid`: what applied matches paid)."""
    fields = row["fields"] or {}
    due = fields.get("amount_due")
    total = due if isinstance(due, int) and due > 0 else fields.get("total_amount")
    if not isinstance(total, int) or total == 0:
        return None  # nothing to pay, or nothing read to compare a payment with
    try:
        percent = Decimal(fields["discount_percent"]) if fields.get("discount_percent") else None
    except (InvalidOperation, TypeError):
        percent = None
    discount = fields.get("discount_amount")
    return matching.OpenInvoice(
        id=row["id"],
        number=fields.get("invoice_number"),
        payment_reference=fields.get("payment_reference"),
        amount=abs(total) - int(row["paid"]),
        currency=fields.get("currency"),
        vendor_name=fields.get("vendor_name"),
        vendor_iban=(fields.get("vendor_iban") or "").replace(" ", "").upper() or None,
        invoice_date=_date(fields.get("invoice_date")),
        due_date=_date(fields.get("due_date")),
        credit_note=fields.get("document_type") == "credit_note",
        discount_amount=discount if isinstance(discount, int) else None,
        discount_percent=percent,
    )


def _bank_transaction(tx: repository.Transaction) -> matching.BankTransaction:
    return matching.BankTransaction(
        id=tx.id,
        amount=tx.amount,
        currency=tx.currency,
        booking_date=tx.booking_date,
        counterparty_name=tx.counterparty_name,
        counterparty_iban=tx.counterparty_iban,
        remittance_text=tx.remittance_text,
        structured_reference=tx.structured_reference,
        end_to_end_id=tx.end_to_end_id,
    )


def _pay(conn: db.Conn, invoice_id: str, key_id: str | None, reason: str) -> str | None:
    """Mark the invoice paid; the review status it had (for undo), or None when it is no
    longer open."""
    invoice = invoices.get_invoice_by_id(conn, invoice_id, for_update=True)
    if invoice is None or invoice.review_status not in OPEN_REVIEW_STATUSES:
        return None
    review.set_review_status(conn, invoice, "paid", "invoice.paid", key_id=key_id, reason=reason)
    return invoice.review_status


def reconcile(
    principal: Principal,
    *,
    statement_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    threshold: float | Decimal | None = None,
) -> tuple[Reconciliation, list[Match]]:
    threshold = (
        Decimal(str(threshold)).quantize(Decimal("0.01"))
        if threshold is not None
        else matching.DEFAULT_THRESHOLD
    )
    with db.transaction() as conn:
        if statement_id is not None and (
            repository.get_statement(conn, principal.org_id, principal.livemode, statement_id)
            is None
        ):
            raise ResourceNotFound(f"No bank statement {statement_id!r}.", param="statement_id")
        transactions = repository.transactions_to_reconcile(
            conn,
            principal.org_id,
            principal.livemode,
            statement_id=statement_id,
            date_from=date_from,
            date_to=date_to,
        )
        repository.drop_suggestions(conn, [t.id for t in transactions])
        candidates = [
            invoice
            for row in repository.open_invoices(conn, principal.org_id, principal.livemode)
            if (invoice := open_invoice(row)) is not None and invoice.amount > 0
        ]
        proposals = matching.propose(
            [_bank_transaction(t) for t in transactions], candidates, threshold
        )
        matched = {p.transaction_id for p in proposals if p.applied}
        suggested = {p.transaction_id for p in proposals} - matched
        rec = repository.insert_reconciliation(
            conn,
            {
                "id": new_id("rec"),
                "org_id": principal.org_id,
                "livemode": principal.livemode,
                "statement_id": statement_id,
                "date_from": date_from,
                "date_to": date_to,
                "threshold": threshold,
                "transaction_count": len(transactions),
                "matched_count": len(matched),
                "suggested_count": len(suggested),
                "unmatched_count": len(transactions) - len(matched) - len(suggested),
            },
        )
        matches = []
        for proposal in proposals:
            for invoice_id, amount, settles in proposal.allocations:
                previous = None
                if proposal.applied and settles:
                    previous = _pay(conn, invoice_id, principal.key_id, f"bank match {rec.id}")
                matches.append(
                    repository.insert_match(
                        conn,
                        {
                            "id": new_id("bmt"),
                            "org_id": principal.org_id,
                            "livemode": principal.livemode,
                            "reconciliation_id": rec.id,
                            "transaction_id": proposal.transaction_id,
                            "invoice_id": invoice_id,
                            "amount": amount,
                            "score": Decimal(str(round(proposal.score, 3))),
                            "reasons": proposal.reasons,
                            "status": "applied" if proposal.applied else "suggested",
                            "source": "automatic",
                            "previous_review_status": previous,
                            "applied_at": datetime.now().astimezone() if proposal.applied else None,
                        },
                    )
                )
        repository.set_transaction_status(conn, sorted(matched), "matched")
        repository.set_transaction_status(conn, sorted(suggested), "suggested")
        record_event(
            conn,
            org_id=principal.org_id,
            livemode=principal.livemode,
            type="bank.reconciled",
            object_id=rec.id,
            data=reconciliation_resource(rec),
        )
    log.info(
        "reconciliation %s: %d transactions, %d matched, %d suggested",
        rec.id,
        rec.transaction_count,
        rec.matched_count,
        rec.suggested_count,
    )
    return rec, matches


def get_reconciliation(principal: Principal, rec_id: str) -> tuple[Reconciliation, list[Match]]:
    with db.transaction() as conn:
        rec = repository.get_reconciliation(conn, principal.org_id, principal.livemode, rec_id)
        if rec is None:
            raise ResourceNotFound(f"No reconciliation {rec_id!r}.", param="id")
        return rec, repository.matches_of_reconciliation(conn, rec.id)


def list_reconciliations(
    principal: Principal, *, limit: int = 25, cursor: str | None = None
) -> tuple[list[Reconciliation], bool, str | None]:
    return org_page(
        repository.list_reconciliations,
        principal.org_id,
        principal.livemode,
        prefix="rec",
        limit=limit,
        cursor=cursor,
    )


def _settles(conn: db.Conn, invoice_row: dict[str, Any], currency: str) -> bool:
    """Whether what applied matches paid now covers the invoice (give or take a fee or a
    discount; a payment in another currency settles what it was matched to)."""
    invoice = open_invoice(invoice_row)
    if invoice is None:
        return True
    if (invoice.currency or currency).upper() != currency.upper():
        return True
    paid = repository.applied_total(conn, invoice.id)
    _, settled = matching.amount_relation(paid, invoice)
    return settled or paid >= invoice.amount


def confirm_match(
    principal: Principal,
    *,
    match_id: str | None = None,
    transaction_id: str | None = None,
    invoice_id: str | None = None,
    amount: int | None = None,
) -> Match:
    """Apply a suggestion (`match_id`), or match a transaction to an invoice by hand. The
    invoice becomes paid once what is matched to it covers it."""
    with db.transaction() as conn:
        if match_id is not None:
            match = repository.get_match(
                conn, principal.org_id, principal.livemode, match_id, for_update=True
            )
            if match is None:
                raise ResourceNotFound(f"No match {match_id!r}.", param="match_id")
            if match.status != "suggested":
                raise InvalidStateTransition(
                    f"The match is {match.status}; only a suggestion can be confirmed."
                )
            transaction_id, invoice_id, amount = (
                match.transaction_id,
                match.invoice_id,
                match.amount,
            )
        if transaction_id is None or invoice_id is None:
            raise ValidationFailed(
                "Give `match_id`, or `transaction_id` and `invoice_id`.", param="match_id"
            )
        tx = repository.get_transaction(
            conn, principal.org_id, principal.livemode, transaction_id, for_update=True
        )
        if tx is None:
            raise ResourceNotFound(f"No transaction {transaction_id!r}.", param="transaction_id")
        invoice = invoices.get_invoice(conn, principal.org_id, principal.livemode, invoice_id)
        if invoice is None:
            raise ResourceNotFound(f"No invoice {invoice_id!r}.", param="invoice_id")
        invoice = invoices.get_invoice_by_id(conn, invoice.id, for_update=True)
        assert invoice is not None
        if invoice.status != "succeeded" or invoice.review_status not in OPEN_REVIEW_STATUSES:
            raise InvalidStateTransition(
                f"The invoice is {invoice.review_status}; only a received or approved "
                "invoice can be paid."
            )
        values = {
            "status": "applied",
            "applied_at": datetime.now().astimezone(),
        }
        if match_id is not None:
            confirmed = repository.update_match(conn, match_id, values)
        else:
            confirmed = repository.insert_match(
                conn,
                {
                    "id": new_id("bmt"),
                    "org_id": principal.org_id,
                    "livemode": principal.livemode,
                    "reconciliation_id": None,
                    "transaction_id": tx.id,
                    "invoice_id": invoice.id,
                    "amount": amount if amount is not None else abs(tx.amount),
                    "score": Decimal("1.000"),
                    "reasons": ["manual"],
                    "source": "manual",
                    **values,
                },
            )
        # the transaction is settled: its other suggestions are moot
        for other in repository.live_matches_of_transaction(conn, tx.id):
            if other.id != confirmed.id and other.status == "suggested":
                repository.update_match(
                    conn, other.id, {"status": "undone", "undone_at": datetime.now().astimezone()}
                )
        row = {
            "id": invoice.id,
            "review_status": invoice.review_status,
            "fields": invoice.fields,
            "paid": 0,
        }
        if _settles(conn, row, tx.currency):
            previous = _pay(conn, invoice.id, principal.key_id, f"bank match {confirmed.id}")
            confirmed = repository.update_match(
                conn, confirmed.id, {"previous_review_status": previous}
            )
        repository.refresh_transaction_status(conn, tx.id)
    return confirmed


def undo_match(principal: Principal, match_id: str) -> Match:
    """Undo an applied match (its invoice returns to the review status it had before the
    match paid it, unless another applied match still pays it) or reject a suggestion."""
    with db.transaction() as conn:
        match = repository.get_match(
            conn, principal.org_id, principal.livemode, match_id, for_update=True
        )
        if match is None:
            raise ResourceNotFound(f"No match {match_id!r}.", param="id")
        if match.status == "undone":
            return match
        undone = repository.update_match(
            conn, match.id, {"status": "undone", "undone_at": datetime.now().astimezone()}
        )
        # The status the invoice had before a bank match paid it: kept on the match that
        # paid it, this one or another of the invoice's applied matches.
        previous = (
            repository.status_before_payment(conn, match.invoice_id, match.id)
            if match.status == "applied"
            else None
        )
        if previous is not None:
            invoice = invoices.get_invoice_by_id(conn, match.invoice_id, for_update=True)
            if invoice is not None and invoice.review_status == "paid":
                review.set_review_status(
                    conn,
                    invoice,
                    previous,
                    "invoice.updated",
                    key_id=principal.key_id,
                    reason=f"bank match {match.id} undone",
                )
        repository.refresh_transaction_status(conn, match.transaction_id)
    return undone
