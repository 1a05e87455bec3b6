"""Publication tasks, on queue `publish`: calls to Xero and QuickBooks Online, which spend
their time waiting on the network (and on the providers' rate limits), hence a thread pool."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from common.errors import ServiceUnavailable
from common.integrations import publishing
from common.integrations.service import refresh_idle_connections
from common.taskqueue import PUBLISH_TASK, REFRESH_IDLE_TASK

log = logging.getLogger(__name__)

TIME_LIMIT = 120
# Retries of temporary failures (429, 5xx, unreachable) before the publication fails.
MAX_RETRIES = 8
# Without a Retry-After: 5 s, 10 s, 20 s ... at most 10 min, with jitter.
BASE_DELAY = 5.0
MAX_DELAY = 600.0
# The publication's lease outlives the longest wait between two tries, so the sweeper
# never takes back a publication that is only waiting for its retry.
LEASE_SECONDS = TIME_LIMIT + int(MAX_DELAY) + 120


def retry_delay(retries: int, retry_after: float | None) -> float:
    """The provider's Retry-After when it gave one (to the second, plus a little so the
    window has surely moved), else exponential backoff with jitter."""
    if retry_after is not None:
        return min(MAX_DELAY, retry_after + random.uniform(0.0, 0.5))  # noqa: S311 - jitter
    backoff = min(MAX_DELAY, BASE_DELAY * 2**retries)
    return backoff / 2 + random.uniform(0.0, backoff / 2)  # noqa: S311 - jitter


@shared_task(
    name=PUBLISH_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=TIME_LIMIT,
    time_limit=TIME_LIMIT + 30,
    autoretry_for=(ServiceUnavailable,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
)
def publish_invoice(self, publication_id: str) -> str:
    """Create the vendor, the bill and its attachment for one publication.

    A second run (retry, redelivery, a duplicate message) resumes after the last step whose
    external ID was stored, so it never creates a second bill; a publication another run
    holds, or one already finished, is left alone.
    """
    try:
        outcome = publishing.run_publication(
            publication_id, self.request.id, lease_seconds=LEASE_SECONDS
        )
    except SoftTimeLimitExceeded:
        outcome = publishing.Outcome("retry", None, f"took longer than {TIME_LIMIT} s")
    except ServiceUnavailable:
        raise  # our own database or queue: retried with backoff
    except Exception:
        log.exception("publication %s crashed", publication_id)
        publishing.fail_publication(
            publication_id,
            self.request.id,
            "publish_failed",
            "The invoice could not be published because of an internal error.",
        )
        return "failed"
    if outcome.status != "retry":
        return outcome.status
    if self.request.retries >= MAX_RETRIES:
        publishing.fail_publication(
            publication_id,
            self.request.id,
            "provider_unavailable",
            f"Gave up after {MAX_RETRIES + 1} attempts: {outcome.message}",
        )
        return "failed"
    raise self.retry(countdown=retry_delay(self.request.retries, outcome.retry_after))


@shared_task(name=REFRESH_IDLE_TASK, acks_late=True, soft_time_limit=600, time_limit=660)
def refresh_idle_connections_task() -> dict[str, int]:
    """The daily keep-alive of unused accounting connections. A second run finds them
    fresh and does nothing."""
    return refresh_idle_connections()
