"""Invoice rules: upload, read, list, delete, reprocess, and recording extractions.

`do_*`-style functions change data inside one transaction and enqueue work only after it
committed (the job row is the source of truth; the sweeper repairs a lost send).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from common import db, taskqueue
from common.accounts.service import Principal
from common.config import get_settings
from common.credits import service as credits
from common.db import Conn
from common.errors import ResourceNotFound
from common.events import record_event
from common.ids import new_id
from common.invoices import repository
from common.invoices.pages import count_pages
from common.invoices.repository import Invoice, InvoiceFilters
from common.invoices.resource import invoice_resource
from common.pagination import MAX_LIMIT, decode_cursor, page_of
from common.schemas import service as schemas
from common.storage import file_store

log = logging.getLogger(__name__)

TERMINAL = frozenset({"succeeded", "failed"})


@dataclass(frozen=True)
class Page:
    invoices: list[Invoice]
    has_more: bool
    next_cursor: str | None


def record_invoice_event(conn: Conn, event_type: str, invoice: Invoice) -> None:
    """An event carrying the invoice as the contract shows it, in the caller's transaction."""
    record_event(
        conn,
        org_id=invoice.org_id,
        livemode=invoice.livemode,
        type=event_type,
        object_id=invoice.id,
        data=invoice_resource(invoice),
    )


def create_invoice(
    principal: Principal,
    *,
    file_name: str,
    content_type: str,
    data: bytes,
    metadata: dict[str, str] | None = None,
    schema_id: str | None = None,
    idempotency_key: str | None = None,
) -> Invoice:
    """Store the file, the queued invoice and its `invoice.created` event together and take
    a live upload's page credits, then send the extraction task. A repeated idempotency key
    returns the first invoice (and takes nothing)."""
    sha256 = hashlib.sha256(data).hexdigest()
    pages = count_pages(data, content_type, get_settings().max_pages)
    # Pipelined: the rows below go out without waiting for each other; the connection
    # waits only for the invoice row, the webhook endpoints and the credits (4 round trips).
    with db.transaction(pipelined=True) as conn:
        if schema_id is not None:
            schemas.get_schema(principal, schema_id, conn)  # 404 names schema_id
        invoice = repository.insert_invoice(
            conn,
            invoice_id=new_id("inv"),
            org_id=principal.org_id,
            livemode=principal.livemode,
            file_name=file_name,
            content_type=content_type,
            file_size=len(data),
            file_sha256=sha256,
            metadata=metadata or {},
            schema_id=schema_id,
            idempotency_key=idempotency_key,
            file_pages=pages,
        )
        if invoice is None:  # the same idempotency key already created it
            assert idempotency_key is not None
            existing = repository.find_by_idempotency_key(
                conn, principal.org_id, principal.livemode, idempotency_key
            )
            assert existing is not None
            return existing
        file_store().put(conn, invoice.id, data)
        record_invoice_event(conn, "invoice.created", invoice)
        # Last: it locks the organisation's credit balance until the commit.
        credits.take_pages_for_upload(conn, principal, pages)
        db.after_commit(conn, lambda: taskqueue.enqueue_extraction(invoice.id))
    return invoice


def get_invoice(principal: Principal, invoice_id: str) -> Invoice:
    with db.transaction() as conn:
        invoice = repository.get_invoice(conn, principal.org_id, principal.livemode, invoice_id)
    if invoice is None:
        raise ResourceNotFound(f"No invoice {invoice_id!r}.", param="id")
    return invoice


def wait_for_invoice(principal: Principal, invoice_id: str, seconds: float) -> Invoice:
    """Poll until extraction ends or `seconds` pass; returns the invoice as it then is."""
    deadline = time.monotonic() + seconds
    delay = 0.01
    while True:
        invoice = get_invoice(principal, invoice_id)
        if invoice.status in TERMINAL or time.monotonic() >= deadline:
            return invoice
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.1)


def list_invoices(
    principal: Principal, filters: InvoiceFilters, *, limit: int = 25, cursor: str | None = None
) -> Page:
    limit = max(1, min(limit, MAX_LIMIT))
    after_id = decode_cursor(cursor, "inv")
    with db.transaction() as conn:
        rows = repository.list_invoices(
            conn, principal.org_id, principal.livemode, filters, limit=limit + 1, after_id=after_id
        )
    return Page(*page_of(rows, limit))


def read_invoice_file(principal: Principal, invoice_id: str) -> tuple[Invoice, bytes]:
    with db.transaction() as conn:
        invoice = repository.get_invoice(conn, principal.org_id, principal.livemode, invoice_id)
        data = file_store().get(conn, invoice.id) if invoice else None
    if invoice is None or data is None:
        raise ResourceNotFound(f"No invoice {invoice_id!r}.", param="id")
    return invoice, data


def delete_invoice(principal: Principal, invoice_id: str) -> Invoice:
    with db.transaction() as conn:
        invoice = repository.get_invoice(conn, principal.org_id, principal.livemode, invoice_id)
        if invoice is None:
            raise ResourceNotFound(f"No invoice {invoice_id!r}.", param="id")
        file_store().delete(conn, invoice.id)
        repository.delete_invoice(conn, invoice.id)
        record_event(
            conn,
            org_id=invoice.org_id,
            livemode=invoice.livemode,
            type="invoice.deleted",
            object_id=invoice.id,
            data={"id": invoice.id, "object": "invoice", "deleted": True},
        )
    return invoice


def reprocess_invoice(
    principal: Principal, invoice_id: str, schema_id: str | None = None
) -> Invoice:
    """Run extraction again (with another schema if given). An invoice still queued or
    processing is returned unchanged: the extraction under way is the one asked for."""
    with db.transaction() as conn:
        invoice = repository.get_invoice(conn, principal.org_id, principal.livemode, invoice_id)
        if invoice is None:
            raise ResourceNotFound(f"No invoice {invoice_id!r}.", param="id")
        if schema_id is not None:
            schemas.get_schema(principal, schema_id, conn)
        requeued = repository.requeue_invoice(conn, invoice.id, schema_id)
        if requeued is None:
            return invoice
        db.after_commit(conn, lambda: taskqueue.enqueue_extraction(requeued.id))
    return requeued


# --- the extraction worker's side -------------------------------------------------------


def claim_extraction(invoice_id: str, task_id: str, lease_seconds: int) -> Invoice | None:
    with db.transaction() as conn:
        invoice = repository.claim_for_extraction(conn, invoice_id, task_id, lease_seconds)
        if invoice is not None and invoice.attempts == 1:
            record_invoice_event(conn, "invoice.processing", invoice)
    return invoice


def load_file(invoice_id: str) -> bytes:
    with db.transaction() as conn:
        data = file_store().get(conn, invoice_id)
    if data is None:
        raise ResourceNotFound(f"No file for {invoice_id!r}.")
    return data


def custom_field_specs(invoice: Invoice) -> list[dict]:
    with db.connection() as conn:
        return schemas.custom_field_specs(conn, invoice.org_id, invoice.livemode, invoice.schema_id)


def record_extraction(invoice_id: str, task_id: str, fields: dict, pages: int) -> Invoice | None:
    """Store the fields; the same vendor, number and total already on file adds the
    warning `duplicate_suspected` naming the other invoice."""
    with db.connection() as conn:
        invoice = repository.get_invoice_by_id(conn, invoice_id)
        other = repository.find_same_invoice(conn, invoice, fields) if invoice is not None else None
    if other is not None:
        fields = {
            **fields,
            "warnings": [
                *fields.get("warnings", []),
                {
                    "code": "duplicate_suspected",
                    "message": f"Same vendor, invoice number and total as {other}.",
                    "field": "invoice_number",
                    "duplicate_of": other,
                },
            ],
        }
    return _finish(invoice_id, task_id, status="succeeded", fields=fields, pages=pages)


def record_extraction_failure(
    invoice_id: str, task_id: str, code: str, message: str, pages: int | None = None
) -> Invoice | None:
    return _finish(
        invoice_id, task_id, status="failed", error_code=code, error_message=message, pages=pages
    )


def _finish(
    invoice_id: str,
    task_id: str,
    *,
    status: str,
    fields: dict | None = None,
    pages: int | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> Invoice | None:
    with db.transaction() as conn:
        invoice = repository.finish_extraction(
            conn,
            invoice_id,
            task_id,
            status=status,
            fields=fields,
            pages=pages,
            error_code=error_code,
            error_message=error_message,
        )
        if invoice is not None:
            record_invoice_event(conn, f"invoice.{status}", invoice)
    return invoice


def release_extraction(invoice_id: str, task_id: str) -> bool:
    with db.transaction() as conn:
        return repository.release_to_queue(conn, invoice_id, task_id)


def sweep_overdue_extractions(
    requeue_after: int, max_attempts: int, batch: int = 500
) -> dict[str, int]:
    """Re-send queued work that waited too long; requeue or fail work whose lease ran out.

    Safe to run from several beat processes: rows are taken with SKIP LOCKED.
    """
    failed = 0
    requeued: list[str] = []
    with db.transaction() as conn:
        for invoice in repository.processing_overrun(conn, batch):
            if invoice.attempts >= max_attempts:
                done = repository.fail_overrun(
                    conn,
                    invoice.id,
                    "extraction_failed",
                    f"Extraction did not finish after {invoice.attempts} attempts.",
                )
                if done is not None:
                    record_invoice_event(conn, "invoice.failed", done)
                    failed += 1
            elif repository.release_to_queue(conn, invoice.id, None):
                requeued.append(invoice.id)
        overdue = repository.queued_overdue(conn, requeue_after, batch)
    # Sent after commit; released rows are due at once rather than after `requeue_after`.
    resent = sum(taskqueue.enqueue_extraction(i) for i in [*requeued, *overdue])
    return {"failed": failed, "requeued": len(requeued), "resent": resent}
