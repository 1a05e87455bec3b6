"""Webhook tasks, on queue `webhooks` (a threads pool: deliveries wait on the network)."""

from __future__ import annotations

from celery import shared_task

from common.taskqueue import DISPATCH_TASK, SEND_DUE_TASK
from common.webhooks import service


@shared_task(name=DISPATCH_TASK, acks_late=True, soft_time_limit=60, time_limit=90)
def dispatch_due_deliveries() -> int:
    """Beat: put back sends whose worker died, and wake a sender when anything is due.
    Harmless to run twice."""
    return service.dispatch_due()


@shared_task(
    name=SEND_DUE_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=90,
    time_limit=120,
)
def send_due_deliveries(self) -> int:
    """Send everything due, batch after batch, then stop. Each delivery is claimed under a
    lease; if this worker dies, beat puts its claims back when the lease ends."""
    return service.send_due_deliveries(self.request.id)
