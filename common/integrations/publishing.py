"""Publishing an approved invoice to an accounting provider as a supplier bill.

The request writes a publication row (the job) in one transaction with the checks; its
task on queue `publish` is sent after commit, and the sweeper re-sends what a lost message
left queued. The worker creates the vendor, the bill and the attachment one step at a time,
storing each external ID the moment the provider made it: a second run (a retry, a replay,
a redelivery) starts after the last stored step, so it never creates a second bill. The
bill's create also carries the publication's ID as the provider's idempotency key (Xero's
Idempotency-Key header, QuickBooks' requestid), which covers a worker that died between
the provider's answer and our commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from common import db, taskqueue
from common.accounts.service import Principal
from common.errors import (
    IntegrationNotConnected,
    InvoiceNotApproved,
    ResourceNotFound,
)
from common.events import record_event
from common.ids import new_id
from common.integrations import repository
from common.integrations import service as connections
from common.integrations.bills import Publisher, bill_from_invoice
from common.integrations.providers import ProviderError
from common.integrations.repository import Publication
from common.invoices import repository as invoices
from common.invoices.resource import invoice_resource
from common.storage import file_store

log = logging.getLogger(__name__)

TARGETS = ("xero", "quickbooks")
# The scope a key needs per target (the contract's names).
TARGET_SCOPES = {"xero": "publish:xero", "quickbooks": "publish:qb"}


def publication_resource(publication: Publication) -> dict[str, Any]:
    return {
        "id": publication.id,
        "object": "publication",
        "invoice_id": publication.invoice_id,
        "target": publication.target,
        "status": publication.status,
        "external_id": publication.external_id,
        "created": int(publication.created_at.timestamp()),
        "published_at": (
            int(publication.published_at.timestamp()) if publication.published_at else None
        ),
        "error": (
            {"code": publication.error_code, "message": publication.error_message}
            if publication.status == "failed"
            else None
        ),
    }


def publish_invoice(principal: Principal, invoice_id: str, target: str) -> Publication:
    """Queue the invoice's publication to `target`. Only an approved invoice, and only to a
    connected provider. Publishing again what is queued, running or done answers that
    publication unchanged; a failed one is queued again (keeping what it created)."""
    principal.require(TARGET_SCOPES[target])
    with db.transaction() as conn:
        invoice = invoices.get_invoice(conn, principal.org_id, principal.livemode, invoice_id)
        if invoice is None:
            raise ResourceNotFound(f"No invoice {invoice_id!r}.", param="id")
        if invoice.review_status != "approved":
            raise InvoiceNotApproved(
                f"Invoice {invoice_id} is {invoice.review_status}; approve it first.", param="id"
            )
        integration = repository.get_integration(conn, principal.org_id, principal.livemode, target)
        if integration is None or integration.status != "connected":
            raise IntegrationNotConnected(
                f"{target} is not connected for this organisation.", param="target"
            )
        publication = repository.insert_publication(
            conn,
            publication_id=new_id("pub"),
            org_id=principal.org_id,
            livemode=principal.livemode,
            invoice_id=invoice.id,
            target=target,
        )
        if publication.status == "queued":
            db.after_commit(conn, lambda: taskqueue.enqueue_publication(publication.id))
    return publication


# --- the worker's side -----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: str  # skipped | succeeded | failed | retry
    retry_after: float | None = None
    message: str | None = None


def run_publication(publication_id: str, task_id: str, *, lease_seconds: int) -> Outcome:
    """One run of the publication: claim it, then the steps not yet stored. A temporary
    failure (429, 5xx, unreachable) answers `retry` with the provider's Retry-After (the
    task retries; the publication stays running under this task); anything else fails it."""
    with db.transaction() as conn:
        publication = repository.claim_publication(conn, publication_id, task_id, lease_seconds)
        if publication is None:
            return Outcome("skipped")
        invoice = invoices.get_invoice_by_id(conn, publication.invoice_id)
        mapping = repository.get_mapping(
            conn, publication.org_id, publication.livemode, publication.target
        )
        document = file_store().get(conn, publication.invoice_id) if invoice else None
    if invoice is None:
        return Outcome("skipped")  # deleted meanwhile: the row went with it
    # Here, not at the top: the API process, which only queues publications, never loads
    # the providers' SDKs.
    from common.integrations.quickbooks import QuickBooksPublisher  # noqa: PLC0415
    from common.integrations.xero import XeroPublisher  # noqa: PLC0415

    try:
        creds = connections.credentials(
            publication.org_id, publication.livemode, publication.target
        )
        publisher: Publisher = (
            XeroPublisher(creds) if publication.target == "xero" else QuickBooksPublisher(creds)
        )
        bill = bill_from_invoice(invoice.id, invoice.fields or {}, mapping)
        vendor_id = publication.vendor_id
        external_id = publication.external_id
        if external_id is None:
            if vendor_id is None:
                vendor_id = publisher.find_or_create_vendor(bill)
                _store(publication.id, vendor_id=vendor_id)
            external_id = publisher.create_bill(bill, vendor_id, idempotency_key=publication.id)
            _store(publication.id, external_id=external_id)
        if publication.attachment_id is None and document:
            attachment_id = publisher.attach(
                external_id,
                invoice.file_name,
                invoice.content_type,
                document,
                idempotency_key=f"{publication.id}-attachment",
            )
            _store(publication.id, attachment_id=attachment_id)
    except ProviderError as exc:
        if exc.status == 401:
            # The access token was refused before its time (revoked, or the provider's
            # clock): refresh on the next try, which also tells a revoked connection.
            with db.transaction() as conn:
                repository.expire_access_token(
                    conn, publication.org_id, publication.livemode, publication.target
                )
            return Outcome("retry", 0.0, exc.message)
        if exc.temporary:
            log.info("publication %s: %s; retried", publication_id, exc.message)
            return Outcome("retry", exc.retry_after, exc.message)
        _fail(publication, task_id, "provider_rejected", exc.message)
        return Outcome("failed", message=exc.message)
    except IntegrationNotConnected as exc:
        _fail(publication, task_id, "integration_not_connected", exc.message)
        return Outcome("failed", message=exc.message)
    _succeed(publication, task_id, external_id)
    return Outcome("succeeded")


def _store(publication_id: str, **values: str) -> None:
    with db.transaction() as conn:
        repository.record_progress(conn, publication_id, **values)


def _succeed(publication: Publication, task_id: str, external_id: str) -> None:
    with db.transaction() as conn:
        done = repository.finish_publication(conn, publication.id, task_id, status="succeeded")
        if done is None or done.published_at is None:
            return  # another run holds it now; it records the outcome
        repository.add_published(
            conn,
            done.invoice_id,
            {
                "target": done.target,
                "external_id": external_id,
                "published_at": int(done.published_at.timestamp()),
            },
        )
        repository.set_status(
            conn, done.org_id, done.livemode, done.target, last_error=None, synced=True
        )
        invoice = invoices.get_invoice_by_id(conn, done.invoice_id)
        assert invoice is not None
        record_event(
            conn,
            org_id=done.org_id,
            livemode=done.livemode,
            type="invoice.published",
            object_id=invoice.id,
            data={**invoice_resource(invoice), "publication": publication_resource(done)},
        )


def fail_publication(publication_id: str, task_id: str, code: str, message: str) -> None:
    with db.transaction() as conn:
        publication = repository.get_publication(conn, publication_id)
    if publication is not None:
        _fail(publication, task_id, code, message)


def _fail(publication: Publication, task_id: str, code: str, message: str) -> None:
    with db.transaction() as conn:
        done = repository.finish_publication(
            conn, publication.id, task_id, status="failed", error_code=code, error_message=message
        )
        if done is None:
            return
        repository.set_status(conn, done.org_id, done.livemode, done.target, last_error=message)
        invoice = invoices.get_invoice_by_id(conn, done.invoice_id)
        if invoice is None:
            return
        record_event(
            conn,
            org_id=done.org_id,
            livemode=done.livemode,
            type="invoice.publish_failed",
            object_id=invoice.id,
            data={**invoice_resource(invoice), "publication": publication_resource(done)},
        )


def sweep_publications(requeue_after: int, batch: int = 100) -> dict[str, int]:
    """Re-send queued publications whose message was lost and take back running ones whose
    worker died (their lease ran out); forget abandoned authorizations."""
    with db.transaction() as conn:
        released = repository.release_overrun(conn, batch)
        overdue = repository.queued_overdue(conn, requeue_after, batch)
        repository.delete_expired_authorizations(conn)
    resent = sum(taskqueue.enqueue_publication(i) for i in {*released, *overdue})
    return {"publications_resent": resent}
