"""What is waiting: the broker's queue lengths and, from PostgreSQL (where the work really
is), how many jobs of each kind wait and since when. Read by `/metrics` at scrape time and
by `invex status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import redis

from common import db
from common.taskqueue import EXPORTS_QUEUE, EXTRACT_QUEUE, WEBHOOKS_QUEUE

QUEUES = (EXTRACT_QUEUE, WEBHOOKS_QUEUE, EXPORTS_QUEUE)
# kombu's Redis transport keeps a queue's messages of priority p > 0 in `<queue>\x06\x16<p>`.
_PRIORITY_SUFFIXES = ("", *(f"\x06\x16{p}" for p in (3, 6, 9)))

# Each uses a partial index on its waiting rows (invoices_queued, webhook_deliveries_due,
# exports_unfinished), so a scrape costs index scans of the backlog only.
_WAITING_SQL = """
select 'extraction' as kind, count(*) as waiting, min(enqueued_at) as oldest
  from invoices where status = 'queued'
union all
select 'webhook_delivery', count(*), min(next_attempt_at)
  from webhook_deliveries where status = 'pending' and next_attempt_at <= now()
union all
select 'export', count(*), min(enqueued_at)
  from exports where status = 'queued'
"""


@dataclass(frozen=True)
class Waiting:
    kind: str
    waiting: int
    oldest: datetime | None


def queue_lengths(client: redis.Redis) -> dict[str, int]:
    """Messages waiting in each Celery queue of the broker (not those a worker holds)."""
    with client.pipeline(transaction=False) as pipe:
        for queue in QUEUES:
            for suffix in _PRIORITY_SUFFIXES:
                pipe.llen(queue + suffix)
        counts = pipe.execute()
    width = len(_PRIORITY_SUFFIXES)
    return {queue: sum(counts[i * width : (i + 1) * width]) for i, queue in enumerate(QUEUES)}


def waiting_jobs() -> list[Waiting]:
    """Jobs due and not yet taken by a worker, by kind, with the oldest one's due time."""
    with db.connection() as conn:
        rows = conn.execute(_WAITING_SQL).fetchall()
    return [Waiting(row["kind"], row["waiting"], row["oldest"]) for row in rows]


def credits_used_this_month() -> int:
    """Pages taken from plans' monthly allotments this month, all organisations together."""
    with db.connection() as conn:
        row = conn.execute(
            "select coalesce(sum(used), 0) as used from credit_balances"
            " where period = date_trunc('month', now() at time zone 'UTC')::date"
        ).fetchone()
    return int(row["used"]) if row else 0
