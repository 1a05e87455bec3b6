"""The extraction dispatcher: an upload only nudges it (one coalesced message for many
uploads); it claims the queued invoices whose task has not been sent and sends one task each.

The dispatcher takes every undispatched invoice in its database and an extraction worker left
running by the e2e tests consumes the shared queue, so these tests run against a database and
a Redis database of their own, where the messages sent stay in the queue to be read.
"""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
import redis
from psycopg.conninfo import make_conninfo

from common import db, taskqueue
from common.ids import new_id
from common.invoices import repository, service
from common.migrations import MIGRATIONS_DIR, apply_migrations
from common.taskqueue import DISPATCH_EXTRACT_TASK, EXTRACT_QUEUE, EXTRACT_TASK, make_celery

PRIVATE_REDIS_DB = 9


def create_database(server_url: str) -> str:
    name = f"invex_dispatch_{uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return make_conninfo(server_url, dbname=name)


@pytest.fixture(scope="module")
def private_servers(settings, servers):
    database_url = create_database(servers["database_url"])
    apply_migrations(database_url)
    redis_url = servers["redis_url"].rsplit("/", 1)[0] + f"/{PRIVATE_REDIS_DB}"
    return {
        "database_url": database_url,
        "redis": redis.Redis.from_url(redis_url),
        "celery": make_celery(redis_url),
    }


@pytest.fixture
def org_id(private_servers, settings, monkeypatch):
    """An organisation in the private database, which this test then has to itself (no
    invoices, an empty queue, no nudge pending)."""
    from common.accounts.service import create_org

    monkeypatch.setattr(taskqueue, "celery_app", lambda: private_servers["celery"])
    monkeypatch.setattr(taskqueue, "redis_client", lambda: private_servers["redis"])
    private_servers["redis"].flushdb()
    module_url = db.database_url()
    db.configure(private_servers["database_url"])
    try:
        with db.transaction() as conn:
            conn.execute("delete from invoices")
        yield create_org("Dispatch Test Ltd").id
    finally:
        db.configure(module_url)


def queued_invoices(org_id: str, count: int) -> list[str]:
    """Queued invoices as an upload that only nudges leaves them: no task sent yet."""
    ids = [new_id("inv") for _ in range(count)]
    with db.transaction() as conn:
        conn.execute(
            "insert into invoices (id, org_id, livemode, file_name, content_type, file_size,"
            " file_sha256) select id, %(org)s, true, 'a.pdf', 'application/pdf', 1, 'x'"
            " from unnest(%(ids)s::text[]) id",
            {"org": org_id, "ids": ids},
        )
    return ids


def sent_tasks(private_servers) -> list[tuple[str, list]]:
    """(task name, args) of every message waiting on the private extract queue."""
    messages = [json.loads(raw) for raw in private_servers["redis"].lrange(EXTRACT_QUEUE, 0, -1)]
    return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages]


def extractions_sent(private_servers) -> list[str]:
    return [args[0] for task, args in sent_tasks(private_servers) if task == EXTRACT_TASK]


def undispatched(ids: list[str]) -> set[str]:
    with db.connection() as conn:
        rows = conn.execute(
            "select id from invoices where id = any(%(ids)s) and dispatched_at is null",
            {"ids": ids},
        ).fetchall()
    return {row["id"] for row in rows}


def test_one_dispatch_sends_one_task_per_queued_invoice_and_marks_them(org_id, private_servers):
    ids = queued_invoices(org_id, 45)

    sent = service.dispatch_extractions(batch=20)

    assert sent == 45
    assert sorted(extractions_sent(private_servers)) == sorted(ids)
    assert undispatched(ids) == set()


def test_a_second_dispatch_sends_nothing_again(org_id, private_servers):
    queued_invoices(org_id, 3)
    service.dispatch_extractions()

    assert service.dispatch_extractions() == 0
    assert len(extractions_sent(private_servers)) == 3


def test_invoices_another_dispatcher_holds_are_skipped_not_sent_twice(org_id, private_servers):
    ids = queued_invoices(org_id, 10)
    with db.transaction() as other:  # another dispatcher, between its claim and its commit
        held = repository.claim_undispatched(other, 4)
        sent_meanwhile = service.dispatch_extractions()
        raise psycopg.Rollback  # ... which then failed to send: its claims go back

    assert sent_meanwhile == 6
    assert set(extractions_sent(private_servers)) == set(ids) - set(held)
    assert undispatched(ids) == set(held)
    assert service.dispatch_extractions() == 4
    assert sorted(extractions_sent(private_servers)) == sorted(ids)


def test_two_dispatchers_at_once_never_send_an_invoice_twice(org_id, private_servers):
    ids = queued_invoices(org_id, 400)
    start = threading.Barrier(2)
    counts: list[int] = []

    def dispatcher() -> None:
        start.wait()
        counts.append(service.dispatch_extractions(batch=25))

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(counts) == 400
    assert sorted(extractions_sent(private_servers)) == sorted(ids)
    assert undispatched(ids) == set()


def test_a_dispatch_that_cannot_reach_the_broker_leaves_the_invoices_undispatched(
    org_id, private_servers, monkeypatch
):
    from tests.support import free_port

    ids = queued_invoices(org_id, 3)
    dead_broker = make_celery(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    monkeypatch.setattr(taskqueue, "celery_app", lambda: dead_broker)

    with pytest.raises(Exception, match="Connection refused"):
        service.dispatch_extractions()

    assert undispatched(ids) == set(ids)


def test_the_sweepers_resend_counts_as_dispatched(org_id, private_servers):
    ids = queued_invoices(org_id, 2)

    outcome = service.sweep_overdue_extractions(requeue_after=0, max_attempts=3)

    assert outcome["resent"] == 2
    assert undispatched(ids) == set()
    assert service.dispatch_extractions() == 0


def test_nudges_coalesce_into_one_message_until_the_dispatcher_starts(org_id, private_servers):
    for _ in range(10):
        assert taskqueue.nudge_extraction_dispatcher()
    assert [task for task, _ in sent_tasks(private_servers)] == [DISPATCH_EXTRACT_TASK]

    service.dispatch_extractions()  # clears the key first: the next commit needs a new one
    for _ in range(10):
        taskqueue.nudge_extraction_dispatcher()

    assert [task for task, _ in sent_tasks(private_servers)] == [DISPATCH_EXTRACT_TASK] * 2


def test_a_nudge_with_redis_down_is_logged_and_returns_false(org_id, monkeypatch, caplog):
    from tests.support import free_port

    dead_redis = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setattr(taskqueue, "redis_client", lambda: dead_redis)

    assert taskqueue.nudge_extraction_dispatcher() is False
    assert f"could not send {DISPATCH_EXTRACT_TASK}" in caplog.text


def test_invoices_queued_before_the_migration_count_as_dispatched(servers, tmp_path):
    before = tmp_path / "migrations"
    before.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if path.name < "0012":
            (before / path.name).write_text(path.read_text())
    database_url = create_database(servers["database_url"])
    apply_migrations(database_url, Path(before))
    with psycopg.connect(database_url) as conn:
        conn.execute("insert into orgs (id, name) values ('org_1', 'Old Org')")
        for invoice_id, status in (("inv_queued", "queued"), ("inv_done", "succeeded")):
            conn.execute(
                "insert into invoices (id, org_id, livemode, status, file_name, content_type,"
                " file_size, file_sha256) values (%s, 'org_1', true, %s, 'a.pdf',"
                " 'application/pdf', 1, 'x')",
                (invoice_id, status),
            )

    assert apply_migrations(database_url)[0] == "0012_add_invoice_dispatch.sql"

    with psycopg.connect(database_url) as conn:
        rows = dict(conn.execute("select id, dispatched_at is not null from invoices").fetchall())
    assert rows == {"inv_queued": True, "inv_done": False}
