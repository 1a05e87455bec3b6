"""The event outbox: a row per state change, written inside the transaction that made it."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from common.ids import new_id

EVENT_TYPES = frozenset({
    "invoice.created", "invoice.processing", "invoice.succeeded", "invoice.failed",
    "invoice.updated", "invoice.approved", "invoice.rejected", "invoice.paid",
    "invoice.archived", "invoice.deleted", "export.completed", "export.failed",
    "bank_statement.processed", "bank.reconciled", "webhook_endpoint.disabled", "ping",
})


def record_event(conn: psycopg.Connection, *, org_id: str, livemode: bool, type: str,
                 object_id: str | None, data: dict) -> str:
    """Insert an event; the caller's transaction commits it together with the change."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event_id = new_id("evt")
    conn.execute(
        "insert into events (id, org_id, livemode, type, object_id, data)"
        " values (%(id)s, %(org_id)s, %(livemode)s, %(type)s, %(object_id)s, %(data)s)",
        {"id": event_id, "org_id": org_id, "livemode": livemode, "type": type,
         "object_id": object_id, "data": Jsonb({"object": data})})
    return event_id
