"""An upload that only nudges the extraction dispatcher ends extracted: the nudge's message
reaches a real extraction worker, which dispatches, then extracts."""

from __future__ import annotations

import pytest

from common import db, taskqueue
from common.ids import new_id
from common.storage import file_store
from tests.support import make_text_pdf, wait_until

pytestmark = pytest.mark.slow


def queued_invoice_with_file(org_id: str, data: bytes) -> str:
    """The rows an upload that nudges commits: queued, its task not sent (dispatched_at null)."""
    invoice_id = new_id("inv")
    with db.transaction() as conn:
        conn.execute(
            "insert into invoices (id, org_id, livemode, file_name, content_type, file_size,"
            " file_sha256) values (%(id)s, %(org)s, true, 'invoice.pdf', 'application/pdf',"
            " %(size)s, 'sha')",
            {"id": invoice_id, "org": org_id, "size": len(data)},
        )
        file_store().put(conn, invoice_id, data)
    return invoice_id


def statuses(ids: list[str]) -> dict[str, str]:
    with db.connection() as conn:
        rows = conn.execute(
            "select id, status from invoices where id = any(%(ids)s)", {"ids": ids}
        ).fetchall()
    return {row["id"]: row["status"] for row in rows}


def test_invoices_woken_only_by_a_nudge_end_succeeded(service, tenant):
    ids = [
        queued_invoice_with_file(
            tenant.org.id, make_text_pdf(["ACME GmbH", f"Invoice number: N-{n}", "Total: 5.00 EUR"])
        )
        for n in range(3)
    ]
    # Invoices left queued by in-process API tests (which run no worker) would be dispatched
    # and extracted ahead of ours, as ServiceProcesses.start drops their messages for the same
    # reason; and no dispatch is pending from before.
    with db.connection() as conn:
        conn.execute(
            "update invoices set dispatched_at = now() where status = 'queued'"
            " and dispatched_at is null and id <> all(%(ids)s)",
            {"ids": ids},
        )
    taskqueue.clear_nudge(taskqueue.EXTRACT_NUDGE_KEY)

    assert taskqueue.nudge_extraction_dispatcher()

    final = wait_until(
        lambda: (
            (s := statuses(ids)) and all(v in ("succeeded", "failed") for v in s.values()) and s
        ),
        60,
        interval=0.1,
        message="the nudged dispatcher did not get the invoices extracted",
    )
    assert set(final.values()) == {"succeeded"}
