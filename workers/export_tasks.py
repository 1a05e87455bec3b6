"""Export tasks, on queue `exports` (one export at a time per process: an export is long and
streams; more processes run more exports at once)."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from common import metrics
from common.config import get_settings
from common.errors import ServiceUnavailable
from common.exports import service
from common.taskqueue import EXPORT_TASK

log = logging.getLogger(__name__)
settings = get_settings()


@shared_task(
    name=EXPORT_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.export_time_limit,
    time_limit=settings.export_time_limit + 60,
    autoretry_for=(ServiceUnavailable,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=10,
)
def run_export(self, export_id: str) -> str:
    """Write one export's file and store it with its outcome and event.

    A second run of the same message (redelivered after its worker died) takes the export
    back and writes it again from the start; a duplicate message for an export another run
    holds, or one already finished or deleted, does nothing. Each claim counts an attempt:
    an export that keeps killing its worker ends `failed` after service.MAX_ATTEMPTS.
    """
    started = time.monotonic()
    outcome = "failed"
    try:
        outcome = _run_export(self.request.id, export_id)
    finally:
        metrics.EXPORT_SECONDS.labels(outcome).observe(time.monotonic() - started)
    return outcome


def _run_export(task_id: str, export_id: str) -> str:
    try:
        return service.run_export(
            export_id,
            task_id,
            lease_seconds=settings.export_time_limit + 120,
            retention_days=settings.export_retention_days,
        )
    except SoftTimeLimitExceeded:
        service.fail_export(
            export_id,
            task_id,
            "export_timeout",
            f"The export took longer than {settings.export_time_limit} s.",
        )
        return "failed"
    except ServiceUnavailable:
        raise  # temporary: retried with backoff (the claim takes its own row back)
    except Exception:
        # A defect, not a property of the request we can name: keep the details in our log.
        log.exception("export %s crashed", export_id)
        service.fail_export(
            export_id,
            task_id,
            "export_failed",
            "The export could not be written because of an internal error.",
        )
        return "failed"
