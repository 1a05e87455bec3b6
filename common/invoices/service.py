"""Invoice rules: upload, read, list, delete, reprocess, and recording extractions.

`do_*`-style functions change data inside one transaction and enqueue work only after it
committed (the job row is the source of truth; the sweeper repairs a lost send).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from common import db, idempotency, logs, taskqueue
from common.accounts.service import Principal
from common.commercial import service as commercial
from common.config import get_settings
from common.credits import service as credits
from common.db import Conn
from common.documents import PDF, TIFF, count_pages, page_range
from common.errors import ResourceNotFound
from common.events import event_data, record_event
from common.ids import id_time, new_id
from common.invoices import repository
from common.invoices.repository import Invoice, InvoiceFilters
from common.invoices.resource import invoice_resource
from common.pagination import clamp_limit, decode_cursor, page_of
from common.schemas import service as schemas
from common.storage import file_store
from common.webhooks.nudges import nudge_sender_soon

log = logging.getLogger(__name__)

TERMINAL = frozenset({"succeeded", "failed"})
SPLITTABLE = frozenset({PDF, TIFF})


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
    claim: idempotency.Claim | None = None,
    source_channel: str = "api",
    conn: Conn | None = None,
    split: bool | None = None,
) -> Invoice:
    """Store the file, the queued invoice, its `invoice.created` event (and deliveries) and
    take a live upload's page credits, all in one statement, then wake the extraction
    dispatcher. `split`: whether a file of several documents becomes one invoice each
    (None: the organisation's default).

    `claim`: claim the idempotency key in that statement too (KeyAlreadyClaimed when it was
    claimed before). A key that already made an invoice returns it, and takes nothing.

    `conn`: store it in the caller's transaction (a mail taken with its invoices); the
    dispatcher and sender are then nudged once that transaction commits.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    pages = count_pages(data, content_type, get_settings().max_pages)
    if schema_id is not None:
        schemas.get_schema(principal, schema_id)  # 404 names schema_id
    invoice_id = new_id("inv")
    logs.bind(invoice_id=invoice_id)
    # created_at is the ID's own moment, so the event can be rendered before the insert
    created_at = id_time(invoice_id)
    queued = Invoice(
        id=invoice_id,
        org_id=principal.org_id,
        livemode=principal.livemode,
        status="queued",
        review_status="received",
        file_name=file_name,
        content_type=content_type,
        file_size=len(data),
        file_sha256=sha256,
        file_pages=pages,
        fields={},
        error_code=None,
        error_message=None,
        metadata=metadata or {},
        schema_id=schema_id,
        duplicate_of=None,  # the statement looks it up
        attempts=0,
        created_at=created_at,
        updated_at=created_at,
        source_channel=source_channel,
    )
    store = file_store()
    if not store.in_upload_statement:  # elsewhere first; an upload that fails leaves it orphaned
        with db.connection() as file_conn:
            store.put(file_conn, invoice_id, data)
    try:
        with _upload_connection(conn) as upload_conn:
            stored = repository.insert_upload(
                upload_conn,
                queued,
                data=data if store.in_upload_statement else None,
                idempotency_key=idempotency_key,
                claim_hash=claim.request_hash if claim else None,
                created_status=claim.created_status if claim else None,
                event_id=new_id("evt"),
                event_type="invoice.created",
                event_data=event_data(invoice_resource(queued)),
                charge=vars(credits.upload_charge(principal, pages)),  # flat: no asdict copy
                split=split,
            )
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name == idempotency.CLAIMED:
            raise idempotency.KeyAlreadyClaimed from exc
        raise
    except psycopg.errors.CheckViolation as exc:
        refused = credits.limit_reached(exc, pages)
        if refused is None:
            raise
        raise refused from exc
    if claim is not None:
        claim.recorded, claim.completed = True, stored.claim_completed
    if stored.invoice is None:  # the same idempotency key already created it
        assert idempotency_key is not None
        with _upload_connection(conn) as lookup_conn:
            existing = repository.find_by_idempotency_key(
                lookup_conn, principal.org_id, principal.livemode, idempotency_key
            )
        assert existing is not None
        return existing
    if conn is not None:
        deliveries = stored.deliveries
        db.after_commit(conn, lambda: _nudge_after_upload(deliveries))
        return stored.invoice
    _nudge_after_upload(stored.deliveries)
    return stored.invoice


def _nudge_after_upload(deliveries: int) -> None:
    # One message wakes the dispatcher for every upload committed meanwhile (it sends each
    # one's extraction task), as one wakes the webhook sender; both are sent by this
    # process's nudge threads, not by the request. Beat covers a lost nudge within 5 s.
    if deliveries:
        nudge_sender_soon()
    taskqueue.nudge_extraction_dispatcher_soon()


@contextmanager
def _upload_connection(conn: Conn | None) -> Iterator[Conn]:
    """The caller's connection (its transaction), else an autocommit one of the pool."""
    if conn is not None:
        yield conn
        return
    with db.connection() as own:
        yield own


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
    limit = clamp_limit(limit)
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


def may_split(invoice: Invoice) -> bool:
    """Whether this invoice's extraction may split its file into several documents."""
    return (
        invoice.split_documents
        and invoice.split_from is None
        and (invoice.file_pages or 1) > 1
        and invoice.content_type in SPLITTABLE
    )


def record_split(
    parent: Invoice,
    task_id: str,
    data: bytes,
    documents: tuple[tuple[int, int], ...],
    pages: int,
) -> Invoice | None:
    """The file held several documents: each becomes a queued invoice of its own (its pages
    as its file, uncharged: the upload paid for every page) and the upload itself succeeds
    with `split_into` naming them, all in one transaction. `parent` and `data` are the
    claimed invoice and its file, as the worker extracted them. A second run (a redelivered
    task) finds the children already made and makes none."""
    invoice_id = parent.id
    store = file_store()
    children: list[Invoice] = []
    with db.transaction() as conn:
        existing = repository.split_children(conn, invoice_id)
        if existing:
            children = existing
        else:
            for first, last in documents:
                child = _split_child(parent, first, last)
                part = page_range(data, parent.content_type, first, last)
                child = dataclasses.replace(
                    child, file_size=len(part), file_sha256=hashlib.sha256(part).hexdigest()
                )
                if not store.in_upload_statement:
                    store.put(conn, child.id, part)
                stored = repository.insert_upload(
                    conn,
                    child,
                    data=part if store.in_upload_statement else None,
                    idempotency_key=None,
                    claim_hash=None,
                    created_status=None,
                    event_id=new_id("evt"),
                    event_type="invoice.created",
                    event_data=event_data(invoice_resource(child)),
                    charge=vars(credits.no_charge()),
                    split=False,
                )
                assert stored.invoice is not None  # no idempotency key: always inserted
                children.append(stored.invoice)
        split_into = [{"invoice": c.id, **_pages_of(c)} for c in children]
        fields = {
            "document_type": "unknown",
            "split_into": split_into,
            "warnings": [
                {
                    "code": "split",
                    "message": f"The file holds {len(children)} documents; each is an "
                    "invoice of its own (split_into).",
                    "field": None,
                }
            ],
        }
        invoice = repository.finish_extraction(
            conn,
            invoice_id,
            task_id,
            status="succeeded",
            fields=fields,
            pages=pages,
            error_code=None,
            error_message=None,
        )
        if invoice is not None:
            record_invoice_event(conn, "invoice.succeeded", invoice)
    nudge_sender_soon()
    taskqueue.nudge_extraction_dispatcher_soon()
    return invoice


def _split_child(parent: Invoice, first: int, last: int) -> Invoice:
    stem, dot, suffix = parent.file_name.rpartition(".")
    name = f"{stem or suffix}-pages-{first + 1}-{last + 1}{dot + suffix if stem else ''}"
    child_id = new_id("inv")
    created_at = id_time(child_id)
    return dataclasses.replace(
        parent,
        id=child_id,
        status="queued",
        review_status="received",
        file_name=name[:255],
        file_pages=last - first + 1,
        fields={},
        error_code=None,
        error_message=None,
        duplicate_of=None,
        attempts=0,
        created_at=created_at,
        updated_at=created_at,
        split_from={"invoice": parent.id, "first_page": first + 1, "last_page": last + 1},
        split_documents=False,
    )


def _pages_of(child: Invoice) -> dict[str, int]:
    assert child.split_from is not None
    return {k: child.split_from[k] for k in ("first_page", "last_page")}


def set_split_default(org_id: str, split: bool) -> None:
    """Whether an organisation's uploads are split by default (an upload's `split` wins)."""
    with db.transaction() as conn:
        if not repository.set_org_split_default(conn, org_id, split):
            raise ResourceNotFound(f"No organisation {org_id}.", param="org")


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
        if invoice is not None and status == "succeeded":
            # quotes and orders become documents; invoices are matched against theirs
            invoice = commercial.record_extracted_document(conn, invoice)
        if invoice is not None:
            record_invoice_event(conn, f"invoice.{status}", invoice)
        if invoice is not None and status == "succeeded":
            invoice = commercial.approve_clean_match(conn, invoice)
    return invoice


def release_extraction(invoice_id: str, task_id: str) -> bool:
    with db.transaction() as conn:
        return repository.release_to_queue(conn, invoice_id, task_id)


def dispatch_extractions(batch: int = 200) -> int:
    """Send the extraction task of every queued invoice whose task has not been sent (an
    upload only nudges: taskqueue.nudge_extraction_dispatcher); returns how many were sent.

    Safe to run from several workers at once: each batch is claimed with SKIP LOCKED. If the
    broker is down the batch's transaction rolls back, its invoices stay undispatched and the
    error propagates; beat's run every 5 s tries again.
    """
    # Open the coalescing window first: a nudge from now on sends a new dispatch, and a
    # nudge held back before now was for invoices already committed, which the claims see.
    taskqueue.clear_nudge(taskqueue.EXTRACT_NUDGE_KEY)
    sent = 0
    while True:
        # Sent before the commit, with the claimed rows still locked: a crash between the two
        # leaves them undispatched and the next dispatch sends them again. A duplicate message
        # is harmless (extract_invoice: one for an invoice someone else holds, or one already
        # finished, does nothing), and a worker that takes a message before this commit waits
        # on the row's lock, then claims the invoice as usual.
        with db.transaction() as conn:
            claimed = repository.claim_undispatched(conn, batch)
            taskqueue.send_extractions(claimed)
        sent += len(claimed)
        if len(claimed) < batch:
            return sent


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
