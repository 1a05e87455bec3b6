"""The event outbox: a row per state change, written inside the transaction that made it,
with one delivery row per subscribed webhook endpoint."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from common import db
from common.db import Conn
from common.errors import ResourceNotFound
from common.ids import new_id
from common.pagination import decode_cursor, encode_cursor
from common.webhooks import repository as webhooks_repository
from common.webhooks.nudges import nudge_sender_soon

EVENT_TYPES = frozenset(
    {
        "invoice.created",
        "invoice.processing",
        "invoice.succeeded",
        "invoice.failed",
        "invoice.updated",
        "invoice.approved",
        "invoice.rejected",
        "invoice.paid",
        "invoice.archived",
        "invoice.deleted",
        "invoice.published",
        "invoice.publish_failed",
        "export.completed",
        "export.failed",
        "bank_statement.processed",
        "bank.reconciled",
        "quote.received",
        "quote.accepted",
        "quote.rejected",
        "quote.expired",
        "purchase_order.invoiced",
        "webhook_endpoint.disabled",
        "ping",
    }
)
# The contract's types whose features are not built yet: endpoints may subscribe to them
# ahead, and discovery (GET /v1) says that nothing sends them. Remove a type here when its
# first record_event lands (every type is sent today).
NOT_YET_EMITTED: frozenset[str] = frozenset()


def event_data(obj: dict) -> Jsonb:
    """An event's `data`: the object as the contract shows it."""
    return Jsonb({"object": obj})


def record_event(
    conn: Conn,
    *,
    org_id: str,
    livemode: bool,
    type: str,
    object_id: str | None,
    data: dict,
) -> str:
    """Insert an event; the caller's transaction commits it together with the change."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event_id = new_id("evt")
    conn.execute(
        "insert into events (id, org_id, livemode, type, object_id, data)"
        " values (%(id)s, %(org_id)s, %(livemode)s, %(type)s, %(object_id)s, %(data)s)",
        {
            "id": event_id,
            "org_id": org_id,
            "livemode": livemode,
            "type": type,
            "object_id": object_id,
            "data": event_data(data),
        },
    )
    fan_out(
        conn,
        event_id=event_id,
        org_id=org_id,
        livemode=livemode,
        event_type=type,
        object_id=object_id,
    )
    return event_id


RETENTION_DAYS = 30


def event_resource(row: dict) -> dict:
    return {
        "id": row["id"],
        "object": "event",
        "type": row["type"],
        "created": int(row["created_at"].timestamp()),
        "livemode": row["livemode"],
        "data": row["data"],
    }


def list_events(
    org_id: str, livemode: bool, *, limit: int, cursor: str | None, type: str | None = None
) -> tuple[list[dict], bool, str | None]:
    """Events of the last 30 days, newest first."""
    after_id = decode_cursor(cursor, "evt")
    with db.transaction() as conn:
        rows = conn.execute(
            "select id, type, created_at, livemode, data from events where org_id = %(org)s"
            " and livemode = %(live)s and created_at > now() - make_interval(days => %(days)s)"
            " and (%(after)s::text is null or id < %(after)s)"
            " and (%(type)s::text is null or type = %(type)s)"
            " order by id desc limit %(limit)s",
            {
                "org": org_id,
                "live": livemode,
                "days": RETENTION_DAYS,
                "after": after_id,
                "type": type,
                "limit": limit + 1,
            },
        ).fetchall()
    has_more = len(rows) > limit
    rows = rows[:limit]
    return (
        [event_resource(r) for r in rows],
        has_more,
        encode_cursor(rows[-1]["id"]) if has_more else None,
    )


def get_event(org_id: str, livemode: bool, event_id: str) -> dict:
    with db.transaction() as conn:
        row = conn.execute(
            "select id, type, created_at, livemode, data from events where id = %(id)s"
            " and org_id = %(org)s and livemode = %(live)s"
            " and created_at > now() - make_interval(days => %(days)s)",
            {"id": event_id, "org": org_id, "live": livemode, "days": RETENTION_DAYS},
        ).fetchone()
    if row is None:
        raise ResourceNotFound(f"No event {event_id!r}.", param="id")
    return event_resource(row)


def purge_expired_events(batch: int = 10_000) -> int:
    """Events (and with them their deliveries) older than the 30 days the contract keeps."""
    with db.connection() as conn:
        cur = conn.execute(
            "delete from events where id in (select id from events"
            " where created_at < now() - make_interval(days => %(days)s) limit %(batch)s)",
            {"days": RETENTION_DAYS, "batch": batch},
        )
        return cur.rowcount


# The outbox: a delivery row per subscribed endpoint, in the transaction of the change that
# caused the event, so none is lost between commit and queue (common/webhooks/service.py
# sends them).
def fan_out(
    conn: Conn,
    *,
    event_id: str,
    org_id: str,
    livemode: bool,
    event_type: str,
    object_id: str | None,
) -> None:
    if event_type == "ping":  # pings go to the one endpoint being tested
        return
    if webhooks_repository.insert_deliveries_for_event(
        conn,
        event_id=event_id,
        org_id=org_id,
        livemode=livemode,
        event_type=event_type,
        ordering_key=object_id or event_id,
    ):
        # One wake-up for the sender, however many endpoints: it takes due rows in batches;
        # sent by this process's nudge thread, so the change waits on no round trip for it.
        db.after_commit(conn, nudge_sender_soon)
