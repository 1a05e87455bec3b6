"""The Celery app as both sides see it: the API only sends, the workers also consume.

Task names are strings so the API never imports worker code (and with it, the OCR stack).
Sending happens after the transaction that wrote the job row has committed; if the broker is
unreachable the row stays queued and the sweeper sends it later, so nothing is lost.
"""

from __future__ import annotations

import logging
from functools import cache

from celery import Celery

from common.config import get_settings

log = logging.getLogger(__name__)

EXTRACT_QUEUE = "extract"
WEBHOOKS_QUEUE = "webhooks"
EXTRACT_TASK = "invex.extract_invoice"
SWEEP_TASK = "invex.sweep_overdue_work"
DISPATCH_TASK = "invex.webhooks.dispatch_due"
SEND_DUE_TASK = "invex.webhooks.send_due"


def make_celery(redis_url: str) -> Celery:
    settings = get_settings()
    hard_limit = settings.extract_time_limit + 30
    app = Celery("invex", broker=redis_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One task at a time per child: OCR jobs are long and memory-hungry.
        worker_prefetch_multiplier=1,
        task_default_queue=EXTRACT_QUEUE,
        task_routes={
            EXTRACT_TASK: {"queue": EXTRACT_QUEUE},
            "invex.webhooks.*": {"queue": WEBHOOKS_QUEUE},
            # Housekeeping rides the I/O queue: behind OCR jobs it would run late.
            SWEEP_TASK: {"queue": WEBHOOKS_QUEUE},
        },
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        # Above the longest job, or a long job would be delivered twice.
        broker_transport_options={
            "visibility_timeout": max(3600, hard_limit * 4),
            "socket_timeout": 5,
            "socket_connect_timeout": 3,
        },
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        worker_hijack_root_logger=False,
        beat_schedule={
            "sweep-overdue-work": {"task": SWEEP_TASK, "schedule": float(settings.sweep_interval)},
            # Retries come due by the clock in Postgres; beat turns them into tasks.
            "dispatch-due-deliveries": {"task": DISPATCH_TASK, "schedule": 5.0},
        },
    )
    return app


@cache
def celery_app() -> Celery:
    settings = get_settings()
    settings.require_servers()
    return make_celery(settings.redis_url)


def enqueue_extraction(invoice_id: str) -> bool:
    """Send the extraction task; False (logged) when the broker is unreachable."""
    try:
        celery_app().send_task(EXTRACT_TASK, args=[invoice_id], queue=EXTRACT_QUEUE)
    except Exception:  # the broker is down: the sweeper re-sends from the database
        log.warning(
            "could not enqueue extraction of %s; the sweeper will", invoice_id, exc_info=True
        )
        return False
    return True
