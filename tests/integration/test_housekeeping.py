"""The sweeper's housekeeping: idempotency keys after 24 hours, events after 30 days."""

from __future__ import annotations

from common import db
from common.events import record_event


def test_sweeper_forgets_old_idempotency_keys_and_events(tenant):
    from workers.tasks import sweep_overdue_work

    with db.transaction() as conn:
        old_event, new_event = (
            record_event(
                conn,
                org_id=tenant.org.id,
                livemode=True,
                type="invoice.deleted",
                object_id=None,
                data={},
            )
            for _ in range(2)
        )
        conn.execute(
            "update events set created_at = now() - interval '31 days' where id = %(id)s",
            {"id": old_event},
        )
        conn.execute(
            "insert into idempotency_keys (org_id, livemode, key, request_hash,"
            " created_at) values (%(org)s, true, 'old', 'h', now() - interval '25 hours'),"
            " (%(org)s, true, 'fresh', 'h', now())",
            {"org": tenant.org.id},
        )
    outcome = sweep_overdue_work.apply().get()
    assert outcome["events_purged"] >= 1
    assert outcome["idempotency_keys_purged"] >= 1
    with db.connection() as conn:
        events = {r["id"] for r in conn.execute("select id from events").fetchall()}
        keys = {
            r["key"]
            for r in conn.execute(
                "select key from idempotency_keys where org_id = %(org)s", {"org": tenant.org.id}
            )
        }
    assert old_event not in events
    assert new_event in events
    assert keys == {"fresh"}
