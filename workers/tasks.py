"""Thin tasks: load by ID, call the engine or a service, record."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from common import idempotency, logs, metrics
from common.bank.service import sweep_statements
from common.commercial.service import expire_quotes
from common.config import get_settings
from common.errors import ServiceUnavailable
from common.events import purge_expired_events
from common.exports.service import sweep_exports
from common.integrations.publishing import sweep_publications
from common.invoices import service
from common.sessions.service import delete_expired_sessions
from common.taskqueue import DISPATCH_EXTRACT_TASK, EXTRACT_TASK, SWEEP_TASK
from workers.extraction import ExtractionError

log = logging.getLogger(__name__)
settings = get_settings()


@shared_task(
    name=EXTRACT_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.extract_time_limit,
    time_limit=settings.extract_time_limit + 30,
    autoretry_for=(ServiceUnavailable,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=10,
)
def extract_invoice(self, invoice_id: str) -> str:
    """Extract one invoice and record the result.

    A second run of the same message (redelivered after its worker died) takes the invoice
    back and extracts again; a duplicate message for an invoice someone else holds, or one
    already finished, does nothing. Each claim counts an attempt: an invoice whose file keeps
    killing its worker ends `failed` (`extraction_failed`) instead of looping.
    """
    task_id = self.request.id
    invoice = service.claim_extraction(
        invoice_id, task_id, lease_seconds=settings.extract_time_limit + 60
    )
    if invoice is None:
        return "skipped"
    logs.bind(org_id=invoice.org_id)
    if invoice.attempts > settings.extract_max_attempts:
        service.record_extraction_failure(
            invoice_id,
            task_id,
            "extraction_failed",
            f"Extraction did not finish after {settings.extract_max_attempts} attempts.",
        )
        return "failed"
    data = service.load_file(invoice_id)
    specs = service.custom_field_specs(invoice)
    started = time.monotonic()
    # Here, not at the top: every worker loads this module, and only the extraction worker
    # needs PyMuPDF (which it imported before its pool forked: workers/celery_app.py).
    from workers.extraction import extract_document  # noqa: PLC0415

    try:
        result = extract_document(
            data,
            filename=invoice.file_name,
            deadline=started + settings.extract_time_limit,
            custom_fields=specs,
            max_pages=settings.max_pages,  # the limit the upload checked
            split=service.may_split(invoice),
        )
    except ExtractionError as exc:
        _count_extraction(started, "unreadable", "failed")
        service.record_extraction_failure(invoice_id, task_id, exc.code, exc.message)
        return "failed"
    except SoftTimeLimitExceeded:
        _count_extraction(started, "unknown", "timeout")
        service.record_extraction_failure(
            invoice_id,
            task_id,
            "extraction_timeout",
            f"Extraction took longer than {settings.extract_time_limit} s.",
        )
        return "failed"
    except Exception:
        # A defect, not a property of the file we can name: keep the details in our log.
        log.exception("extraction of %s crashed", invoice_id)
        _count_extraction(started, "unknown", "crashed")
        service.record_extraction_failure(
            invoice_id,
            task_id,
            "extraction_failed",
            "The document could not be extracted because of an internal error.",
        )
        return "failed"
    elapsed = _count_extraction(started, str(result.fields.get("source") or "split"), "succeeded")
    if result.fields.get("source") == "ocr" and result.pages:
        metrics.OCR_SECONDS_PER_PAGE.observe(elapsed / result.pages)
    log.info(
        "extracted %s (%s, %d page%s) in %.0f ms",
        invoice_id,
        result.content_type,
        result.pages,
        "" if result.pages == 1 else "s",
        elapsed * 1000,
    )
    if result.documents:
        service.record_split(invoice, task_id, data, result.documents, result.pages)
        log.info("split %s into %d documents", invoice_id, len(result.documents))
        return "split"
    service.record_extraction(invoice_id, task_id, result.fields, result.pages)
    return "succeeded"


def _count_extraction(started: float, source: str, outcome: str) -> float:
    elapsed = time.monotonic() - started
    metrics.EXTRACTION_SECONDS.labels(source, outcome).observe(elapsed)
    return elapsed


@shared_task(
    name=DISPATCH_EXTRACT_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=30,
    time_limit=45,
)
def dispatch_extractions() -> int:
    """Send the extraction tasks of uploads that only nudged (and of any a lost nudge left:
    beat runs this every 5 s). A second run finds nothing left to send."""
    return service.dispatch_extractions()


@shared_task(name=SWEEP_TASK, acks_late=True, soft_time_limit=60, time_limit=90)
def sweep_overdue_work() -> dict[str, int]:
    """Re-send work the broker lost and recover work whose worker died; delete expired
    export files and ended web sessions; expire quotes past their validity. Idempotent."""
    outcome = service.sweep_overdue_extractions(
        settings.requeue_after, settings.extract_max_attempts
    )
    outcome.update(sweep_exports(settings.requeue_after))
    outcome.update(sweep_statements(settings.requeue_after))
    outcome["quotes_expired"] = expire_quotes()
    outcome.update(sweep_publications(settings.requeue_after))
    outcome["idempotency_keys_purged"] = idempotency.purge_expired()
    outcome["events_purged"] = purge_expired_events()
    outcome["web_sessions_purged"] = delete_expired_sessions()
    if any(outcome.values()):
        log.info("sweeper: %s", outcome)
    return outcome
