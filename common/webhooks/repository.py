"""SQL for webhook endpoints, deliveries and attempts. Never commits; holds no rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common.db import Conn


@dataclass(frozen=True)
class Endpoint:
    id: str
    org_id: str
    livemode: bool
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Delivery:
    id: str
    endpoint_id: str
    event_id: str
    ordering_key: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    response_status: int | None
    response_body: str | None
    duration_ms: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


ENDPOINT_COLUMNS = (
    "id, org_id, livemode, url, description, events, enabled, disabled_reason,"
    " secret, previous_secret, previous_secret_expires_at, failing_since,"
    " created_at, updated_at"
)
DELIVERY_COLUMNS = (
    "d.id, d.endpoint_id, d.event_id, d.ordering_key, d.status, d.attempts,"
    " d.next_attempt_at, d.last_attempt_at, d.response_status, d.response_body,"
    " d.duration_ms, d.last_error, d.created_at, d.updated_at"
)
# A delivery may go only when no earlier one of its chain is still pending or being sent.
HEAD_OF_CHAIN = (
    " not exists (select 1 from webhook_deliveries e where e.endpoint_id ="
    " d.endpoint_id and e.ordering_key = d.ordering_key and e.seq < d.seq"
    " and e.status in ('pending', 'sending'))"
)


def insert_endpoint(conn: Conn, **values: Any) -> Endpoint:
    row = conn.execute(
        "insert into webhook_endpoints (id, org_id, livemode, url, description, events,"
        " enabled, secret) values (%(id)s, %(org_id)s, %(livemode)s, %(url)s,"
        f" %(description)s, %(events)s, %(enabled)s, %(secret)s) returning {ENDPOINT_COLUMNS}",
        values,
    ).fetchone()
    assert row is not None  # insert/update ... returning always yields the row
    return Endpoint(**row)


def get_endpoint(
    conn: Conn,
    org_id: str,
    livemode: bool,
    endpoint_id: str,
    *,
    for_update: bool = False,
) -> Endpoint | None:
    row = conn.execute(
        f"select {ENDPOINT_COLUMNS} from webhook_endpoints where id = %(id)s"
        " and org_id = %(org_id)s and livemode = %(livemode)s"
        + (" for update" if for_update else ""),
        {"id": endpoint_id, "org_id": org_id, "livemode": livemode},
    ).fetchone()
    return Endpoint(**row) if row else None


def list_endpoints(
    conn: Conn, org_id: str, livemode: bool, *, limit: int, after_id: str | None
) -> list[Endpoint]:
    rows = conn.execute(
        f"select {ENDPOINT_COLUMNS} from webhook_endpoints where org_id = %(org_id)s"
        " and livemode = %(livemode)s and (%(after)s::text is null or id < %(after)s)"
        " order by id desc limit %(limit)s",
        {"org_id": org_id, "livemode": livemode, "after": after_id, "limit": limit},
    ).fetchall()
    return [Endpoint(**row) for row in rows]


def update_endpoint(conn: Conn, endpoint_id: str, changes: dict[str, Any]) -> Endpoint:
    allowed = {
        "url",
        "description",
        "events",
        "enabled",
        "disabled_reason",
        "secret",
        "previous_secret",
        "previous_secret_expires_at",
        "failing_since",
    }
    assert set(changes) <= allowed, set(changes) - allowed
    assignments = ", ".join(f"{column} = %({column})s" for column in changes)
    row = conn.execute(
        f"update webhook_endpoints set {assignments}, updated_at = now() where id = %(id)s"
        f" returning {ENDPOINT_COLUMNS}",
        {**changes, "id": endpoint_id},
    ).fetchone()
    assert row is not None  # insert/update ... returning always yields the row
    return Endpoint(**row)


def delete_endpoint(conn: Conn, endpoint_id: str) -> None:
    conn.execute("delete from webhook_endpoints where id = %(id)s", {"id": endpoint_id})


# The endpoints (alias `e`) subscribed to an event: its tenant's enabled endpoints that take
# every type or its type. Parameters org_id, livemode, event_type. The upload's statement
# (common/invoices/repository.py insert_upload) embeds it too.
SUBSCRIBED = (
    "e.org_id = %(org_id)s and e.livemode = %(livemode)s and e.enabled"
    " and (e.events = '{}' or %(event_type)s = any(e.events))"
)


def insert_deliveries_for_event(
    conn: Conn, *, event_id: str, org_id: str, livemode: bool, event_type: str, ordering_key: str
) -> int:
    """A delivery of the event to each subscribed endpoint, in one statement (the database
    mints their IDs: invex_new_id, migration 0011); how many it made."""
    cur = conn.execute(
        "insert into webhook_deliveries (id, endpoint_id, event_id, ordering_key)"
        " select invex_new_id('dlv'), e.id, %(event_id)s, %(ordering_key)s"
        f" from webhook_endpoints e where {SUBSCRIBED} order by e.id",
        {
            "event_id": event_id,
            "org_id": org_id,
            "livemode": livemode,
            "event_type": event_type,
            "ordering_key": ordering_key,
        },
    )
    return cur.rowcount


def insert_delivery(
    conn: Conn, delivery_id: str, endpoint_id: str, event_id: str, ordering_key: str
) -> None:
    conn.execute(
        "insert into webhook_deliveries (id, endpoint_id, event_id, ordering_key)"
        " values (%(id)s, %(endpoint)s, %(event)s, %(key)s)",
        {"id": delivery_id, "endpoint": endpoint_id, "event": event_id, "key": ordering_key},
    )


def record_attempt(
    conn: Conn,
    delivery: Delivery,
    *,
    status: str,
    next_attempt_at: datetime | None,
    response_status: int | None,
    response_body: str | None,
    duration_ms: int | None,
    error: str | None,
) -> None:
    conn.execute(
        "insert into webhook_attempts (delivery_id, attempt, response_status, response_body,"
        " duration_ms, error) values (%(id)s, %(attempt)s, %(rs)s, %(rb)s, %(ms)s, %(err)s)"
        " on conflict do nothing",
        {
            "id": delivery.id,
            "attempt": delivery.attempts,
            "rs": response_status,
            "rb": response_body,
            "ms": duration_ms,
            "err": error,
        },
    )
    conn.execute(
        "update webhook_deliveries set status = %(status)s,"
        " next_attempt_at = coalesce(%(next)s, next_attempt_at), lease_expires_at = null,"
        " last_attempt_at = now(), response_status = %(rs)s, response_body = %(rb)s,"
        " duration_ms = %(ms)s, last_error = %(err)s, updated_at = now() where id = %(id)s",
        {
            "id": delivery.id,
            "status": status,
            "next": next_attempt_at,
            "rs": response_status,
            "rb": response_body,
            "ms": duration_ms,
            "err": error,
        },
    )


def next_in_chain(conn: Conn, endpoint_id: str, ordering_key: str) -> str | None:
    row = conn.execute(
        "select id from webhook_deliveries where endpoint_id = %(endpoint)s and ordering_key ="
        " %(key)s and status = 'pending' and next_attempt_at <= now() order by seq limit 1",
        {"endpoint": endpoint_id, "key": ordering_key},
    ).fetchone()
    return row["id"] if row else None


def due_delivery_ids(conn: Conn, limit: int) -> list[str]:
    """Pending deliveries that are due and head their chain; overrun sends go back first."""
    conn.execute(
        "update webhook_deliveries set status = 'pending', task_id = null,"
        " lease_expires_at = null where status = 'sending' and lease_expires_at < now()"
    )
    rows = conn.execute(
        "select d.id from webhook_deliveries d where d.status = 'pending'"
        f" and d.next_attempt_at <= now() and {HEAD_OF_CHAIN}"
        " order by d.next_attempt_at limit %(limit)s",
        {"limit": limit},
    ).fetchall()
    return [row["id"] for row in rows]


def list_deliveries(
    conn: Conn, endpoint_id: str, *, limit: int, after_id: str | None
) -> list[Delivery]:
    rows = conn.execute(
        f"select {DELIVERY_COLUMNS} from webhook_deliveries d where d.endpoint_id = %(e)s"
        " and (%(after)s::text is null or d.id < %(after)s) order by d.id desc"
        " limit %(limit)s",
        {"e": endpoint_id, "after": after_id, "limit": limit},
    ).fetchall()
    return [Delivery(**row) for row in rows]


def get_delivery(conn: Conn, endpoint_id: str, delivery_id: str) -> Delivery | None:
    row = conn.execute(
        f"select {DELIVERY_COLUMNS} from webhook_deliveries d where d.id = %(id)s"
        " and d.endpoint_id = %(e)s",
        {"id": delivery_id, "e": endpoint_id},
    ).fetchone()
    return Delivery(**row) if row else None


def reset_delivery(conn: Conn, delivery_id: str) -> bool:
    """Make the delivery due now, unless a sender holds it ('sending'): False then."""
    return (
        conn.execute(
            "update webhook_deliveries set status = 'pending', next_attempt_at = now(),"
            " task_id = null, lease_expires_at = null, updated_at = now()"
            " where id = %(id)s and status in ('pending', 'succeeded', 'failed')",
            {"id": delivery_id},
        ).rowcount
        == 1
    )


def give_up_pending(conn: Conn, endpoint_id: str, reason: str) -> None:
    conn.execute(
        "update webhook_deliveries set status = 'failed', last_error = %(reason)s,"
        " updated_at = now() where endpoint_id = %(e)s and status = 'pending'",
        {"e": endpoint_id, "reason": reason},
    )


def _with_context(
    claimed_cte: str, params: dict[str, Any], conn: Conn
) -> list[tuple[Delivery, Endpoint, dict[str, Any]]]:
    """Rows of a `claimed` CTE joined with their endpoint and event, in one round trip."""
    endpoint_columns = ", ".join(
        f"w.{c.strip()} as w_{c.strip()}" for c in ENDPOINT_COLUMNS.split(",")
    )
    rows = conn.execute(
        f"with {claimed_cte}"
        f" select claimed.*, {endpoint_columns}, ev.id as ev_id, ev.org_id as ev_org_id,"
        " ev.livemode as ev_livemode, ev.type as ev_type, ev.object_id as ev_object_id,"
        " ev.data as ev_data, ev.created_at as ev_created_at"
        " from claimed join webhook_endpoints w on w.id = claimed.endpoint_id"
        " join events ev on ev.id = claimed.event_id order by claimed.id",
        params,
    ).fetchall()
    return [
        (
            Delivery(**{k: v for k, v in row.items() if not k.startswith(("w_", "ev_"))}),
            Endpoint(**{k[2:]: v for k, v in row.items() if k.startswith("w_")}),
            {k[3:]: v for k, v in row.items() if k.startswith("ev_")},
        )
        for row in rows
    ]


CLAIM_SET = (
    "status = 'sending', attempts = attempts + 1, task_id = %(task)s,"
    " lease_expires_at = now() + make_interval(secs => %(lease)s), updated_at = now()"
)


def claim_due_batch(
    conn: Conn, task_id: str, lease_seconds: int, limit: int
) -> list[tuple[Delivery, Endpoint, dict[str, Any]]]:
    """Take up to `limit` due deliveries that head their chains. SKIP LOCKED lets several
    senders take disjoint batches; a chain's second delivery is never due beside its first."""
    return _with_context(
        "picked as (select d.id from webhook_deliveries d where d.status = 'pending'"
        f" and d.next_attempt_at <= now() and {HEAD_OF_CHAIN}"
        " order by d.next_attempt_at, d.seq limit %(limit)s for update skip locked),"
        f" claimed as (update webhook_deliveries d set {CLAIM_SET} from picked"
        f" where d.id = picked.id returning {DELIVERY_COLUMNS})",
        {"task": task_id, "lease": lease_seconds, "limit": limit},
        conn,
    )


def record_success(
    conn: Conn,
    delivery: Delivery,
    *,
    response_status: int,
    response_body: str,
    duration_ms: int,
) -> str | None:
    """Record a 2xx in one round trip; returns the next due delivery of the same chain."""
    row = conn.execute(
        "with attempt as (insert into webhook_attempts (delivery_id, attempt, response_status,"
        " response_body, duration_ms) values (%(id)s, %(attempt)s, %(rs)s, %(rb)s, %(ms)s)"
        " on conflict do nothing),"
        " done as (update webhook_deliveries set status = 'succeeded', lease_expires_at = null,"
        " last_attempt_at = now(), response_status = %(rs)s, response_body = %(rb)s,"
        " duration_ms = %(ms)s, last_error = null, updated_at = now() where id = %(id)s)"
        " select id from webhook_deliveries where endpoint_id = %(endpoint)s"
        " and ordering_key = %(key)s and status = 'pending' and next_attempt_at <= now()"
        " order by seq limit 1",
        {
            "id": delivery.id,
            "attempt": delivery.attempts,
            "rs": response_status,
            "rb": response_body,
            "ms": duration_ms,
            "endpoint": delivery.endpoint_id,
            "key": delivery.ordering_key,
        },
    ).fetchone()
    return row["id"] if row else None
