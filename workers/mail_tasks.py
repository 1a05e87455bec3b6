"""Mail tasks, on queue `mail`: beat's dispatcher sends a poll per due mailbox; a poll
reads the mailbox's new messages into invoices (common/mail/service.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from common import taskqueue
from common.errors import ServiceUnavailable
from common.mail import service
from common.taskqueue import DISPATCH_MAIL_TASK, POLL_MAILBOX_TASK

log = logging.getLogger(__name__)

# Below the dispatcher's claim (service.POLL_LEASE_SECONDS): a poll ends before the mailbox
# is due again, so the next poll never finds this one still holding the lock.
TIME_LIMIT = service.POLL_LEASE_SECONDS - 20


@shared_task(name=DISPATCH_MAIL_TASK, acks_late=True, soft_time_limit=30, time_limit=60)
def dispatch_polls() -> int:
    """Send one poll task per mailbox that is due; returns how many. A second run finds
    them claimed (their next poll pushed ahead) and sends nothing; a poll task lost on the
    way is sent again once that claim runs out."""
    mailbox_ids = service.claim_due_mailboxes()
    if mailbox_ids:
        taskqueue.send_mail_polls(mailbox_ids, expires=service.POLL_LEASE_SECONDS)
    return len(mailbox_ids)


@shared_task(
    name=POLL_MAILBOX_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=TIME_LIMIT,
    time_limit=TIME_LIMIT + 10,
    autoretry_for=(ServiceUnavailable,),
    retry_backoff=2,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=3,
)
def poll_mailbox(mailbox_id: str) -> dict | int:
    """Take the mailbox's new mail. Run twice at once, the second returns `busy` at once;
    run again later, it takes only what is new (the message rows say what was taken).
    Returns 0 when there was nothing (the idle service's logs stay quiet), else counts."""
    result = service.poll_mailbox(mailbox_id)
    if result == service.PollResult():
        return 0
    return {
        "taken": result.taken,
        "skipped": result.skipped,
        "rejected": result.rejected,
        "busy": result.busy,
        "error": result.error,
    }
