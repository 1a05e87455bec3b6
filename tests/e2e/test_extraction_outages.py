"""What happens to extraction when one of its processes dies, through real processes:
gunicorn, a Celery worker, PostgreSQL and Redis, over real HTTP (PostgreSQL's outage:
test_extraction_flow.py)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from common import taskqueue
from tests.e2e.test_extraction_flow import post_file, status_of
from tests.support import make_text_pdf, wait_until

pytestmark = pytest.mark.slow
# Its tests stop and kill workers, restart and empty the broker: a service of its own.
OWN_SERVICE = True


def test_worker_killed_mid_extraction_still_ends_succeeded(service, tenant):
    # long enough to be caught mid-extraction, and then extracted twice
    big_pdf = make_text_pdf(
        [f"Line {n} of a long invoice, amount {n}.00 EUR" for n in range(45)]
        + ["Invoice number: KILL-1", "Total: 99.00 EUR"],
        pages=20,
    )
    with service.client(tenant.secret) as http:
        invoice_id = post_file(http, big_pdf).json()["id"]
        wait_until(
            lambda: status_of(http, invoice_id) == "processing",
            30,
            interval=0.005,
            message="extraction did not start",
        )
        children = service.worker_children()
        assert children
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        final = wait_until(
            lambda: (
                (r := http.get(f"/v1/invoices/{invoice_id}").json())["status"]
                in ("succeeded", "failed")
                and r
            ),
            90,
            message="invoice never finished",
        )
    assert final["status"] == "succeeded", final.get("error")
    assert final["file"]["pages"] == 20
    assert not set(children) & set(service.worker_children())  # they really died


def test_queued_jobs_survive_a_redis_restart(service, servers, tenant):
    service.stop_worker()
    try:
        with service.client(tenant.secret) as http:
            ids = [
                post_file(
                    http, make_text_pdf(["ACME GmbH", f"Invoice number: R-{n}", "Total: 10.00 EUR"])
                ).json()["id"]
                for n in range(5)
            ]
            servers["redis"].restart()
            service.start_worker()
            wait_until(
                lambda: all(status_of(http, i) == "succeeded" for i in ids),
                60,
                interval=0.2,
                message="queued invoices were lost",
            )
    finally:
        if service.worker is None or service.worker.poll() is not None:
            service.start_worker()


def test_flushed_broker_is_repaired_by_the_sweeper(service, servers, tenant):
    import redis

    from common.invoices.service import sweep_overdue_extractions

    service.stop_worker()
    try:
        with service.client(tenant.secret) as http:
            ids = [
                post_file(
                    http, make_text_pdf(["ACME GmbH", f"Invoice number: F-{n}", "Total: 10.00 EUR"])
                ).json()["id"]
                for n in range(3)
            ]
            # The API's nudge thread sends the uploads' nudge (and, 20 ms after it, answers
            # the later asks with a SET NX that finds the key): let them land, then lose them.
            broker = redis.Redis.from_url(servers["redis_url"])
            wait_until(lambda: broker.exists(taskqueue.EXTRACT_NUDGE_KEY), 5, interval=0.01)
            time.sleep(10 * taskqueue.EXTRACT_NUDGE_SPACING)
            broker.flushdb()  # the service's broker database (the shared e2e service has another)
            service.start_worker()
            time.sleep(1)
            assert all(status_of(http, i) == "queued" for i in ids)
            outcome = sweep_overdue_extractions(requeue_after=0, max_attempts=3)
            assert outcome["resent"] >= 3
            wait_until(
                lambda: all(status_of(http, i) == "succeeded" for i in ids),
                60,
                interval=0.2,
                message="the sweeper did not repair the lost tasks",
            )
    finally:
        if service.worker is None or service.worker.poll() is not None:
            service.start_worker()
