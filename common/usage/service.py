"""Usage of the current calendar month (UTC): invoices, pages, API calls, and how often
people corrected each extracted field, the accuracy users actually see."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import redis

from common import db
from common.accounts.service import Principal
from common.health import redis_client

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


def count_api_call(principal: Principal) -> None:
    """One authenticated request; a Redis outage costs the count, never the request."""
    start, end = _period(datetime.now(UTC))
    key = _calls_key(principal.org_id, principal.livemode, start)
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expireat(key, int(end.timestamp()) + 40 * 86400)
        pipe.execute()
    except (redis.RedisError, OSError):
        log.debug("usage counter unavailable", exc_info=True)


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
