"""Bank statement tasks, on queue `bank`."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from common.bank import service
from common.errors import ServiceUnavailable
from common.taskqueue import STATEMENT_TASK

log = logging.getLogger(__name__)

# A statement of 100,000 bookings parses in a few seconds; longer is a defect or an attack.
TIME_LIMIT = 120


@shared_task(
    name=STATEMENT_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=TIME_LIMIT,
    time_limit=TIME_LIMIT + 30,
    autoretry_for=(ServiceUnavailable,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=10,
)
def parse_statement(self, statement_id: str) -> str:
    """Parse one bank statement and store its transactions, outcome and event.

    A second run of the same message finds the statement claimed or finished and does
    nothing; one whose worker died is put back by the sweeper, and each claim counts an
    attempt (after service.MAX_ATTEMPTS it ends `failed`).
    """
    task_id = self.request.id
    try:
        return service.run_statement_safely(statement_id, task_id, lease_seconds=TIME_LIMIT + 60)
    except SoftTimeLimitExceeded:
        service.fail_statement(
            statement_id,
            task_id,
            "statement_timeout",
            f"The statement took longer than {TIME_LIMIT} s to read.",
        )
        return "failed"
    except ServiceUnavailable:
        raise  # temporary: retried with backoff
    except Exception:
        log.exception("bank statement %s crashed", statement_id)
        service.fail_statement(
            statement_id,
            task_id,
            "statement_failed",
            "The statement could not be read because of an internal error.",
        )
        return "failed"
