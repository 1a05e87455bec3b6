"""Usage of the current calendar month (UTC): invoices, pages, API calls, and how often
people corrected each extracted field, the accuracy users actually see."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import redis

from common import db
from common.accounts.service import Principal
from common.health import redis_client
from common.threads import ProcessThread

log = logging.getLogger(__name__)


def _period(now: datetime) -> tuple[datetime, datetime]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


def _calls_key(org_id: str, livemode: bool, start: datetime) -> str:
    return f"invex:usage:{org_id}:{'live' if livemode else 'test'}:{start:%Y-%m}:calls"


# API calls are counted in the process and added to Redis once a second by a daemon thread,
# so a request costs no round trip for its count. A crash loses at most a second's counts;
# a Redis outage keeps them (one integer per organisation and mode) until it returns.
FLUSH_SECONDS = 1.0


class _PendingCalls:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, int]] = Counter()  # (key, its expiry) -> calls
        self._flusher = ProcessThread(self._flush_forever, "usage-flush")

    def add(self, key: str, expire_at: int) -> None:
        with self._lock:
            self._counts[key, expire_at] += 1
            self._flusher.ensure()

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return
        try:
            pipe = redis_client().pipeline(transaction=False)
            for (key, expire_at), calls in counts.items():
                pipe.incrby(key, calls)
                pipe.expireat(key, expire_at)
            pipe.execute()
        except (redis.RedisError, OSError):
            log.debug("usage counter unavailable", exc_info=True)
            with self._lock:
                self._counts.update(counts)  # counted again on the next flush

    def _flush_at_exit(self) -> None:
        """The thread ends first (ProcessThread.stop says why), then the last counts go."""
        self._flusher.stop(timeout=FLUSH_SECONDS + 2)
        self.flush()

    def _flush_forever(self) -> None:
        stopping = self._flusher.stopping
        while not stopping.wait(FLUSH_SECONDS):
            try:
                self.flush()
            except Exception:  # a defect must not end the counting for the process's life
                log.exception("usage counter flush failed")


_pending = _PendingCalls()
atexit.register(_pending._flush_at_exit)


class _MonthKeys:
    """The current month's counter key of each organisation and mode, made once a month:
    a request costs a lookup, not a calendar computation and a strftime. A new month starts
    an empty table, so it holds only the tenants seen this month; the month's state is one
    tuple, replaced whole, so a thread never sees half of a new month."""

    def __init__(self) -> None:
        # (its first moment, its end in Unix seconds, (org, livemode) -> key)
        self._month: tuple[datetime, int, dict[tuple[str, bool], str]] = (
            datetime.min.replace(tzinfo=UTC),
            0,
            {},
        )

    def key(self, org_id: str, livemode: bool) -> tuple[str, int]:
        """The key, and when Redis is to expire it."""
        now = time.time()
        start, end, keys = self._month
        if now >= end:
            start, end_moment = _period(datetime.fromtimestamp(now, UTC))
            end, keys = int(end_moment.timestamp()), {}
            self._month = (start, end, keys)
        key = keys.get((org_id, livemode))
        if key is None:
            key = keys[org_id, livemode] = _calls_key(org_id, livemode, start)
        return key, end + 40 * 86400


_month_keys = _MonthKeys()


def count_api_call(principal: Principal) -> None:
    """One authenticated request; never a round trip, and a Redis outage never fails it."""
    _pending.add(*_month_keys.key(principal.org_id, principal.livemode))


def usage(principal: Principal) -> dict[str, Any]:
    start, end = _period(datetime.now(UTC))
    params = {"org": principal.org_id, "live": principal.livemode, "start": start, "end": end}
    with db.connection() as conn:
        totals = conn.execute(
            "select count(*) as invoices, coalesce(sum(file_pages), 0) as pages,"
            " count(*) filter (where status = 'succeeded') as extracted"
            " from invoices where org_id = %(org)s and livemode = %(live)s"
            " and created_at >= %(start)s and created_at < %(end)s",
            params,
        ).fetchone()
        corrected = conn.execute(
            "select h.field, count(distinct h.invoice_id) as invoices from invoice_history h"
            " join invoices i on i.id = h.invoice_id"
            " where h.org_id = %(org)s and h.livemode = %(live)s and h.kind = 'correction'"
            " and i.created_at >= %(start)s and i.created_at < %(end)s group by h.field",
            params,
        ).fetchall()
    _pending.flush()  # this process's latest calls; others' arrive within FLUSH_SECONDS
    try:
        calls = int(
            redis_client().get(_calls_key(principal.org_id, principal.livemode, start)) or 0
        )
    except (redis.RedisError, OSError):
        calls = None
    assert totals is not None
    extracted = totals["extracted"]
    return {
        "object": "usage",
        "livemode": principal.livemode,
        "period": {"start": int(start.timestamp()), "end": int(end.timestamp())},
        "invoices": totals["invoices"],
        "pages": int(totals["pages"]),
        "api_calls": calls,
        "corrections": {
            row["field"]: {
                "invoices": row["invoices"],
                "share": round(row["invoices"] / extracted, 4) if extracted else None,
            }
            for row in corrected
        },
    }
