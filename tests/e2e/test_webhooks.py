"""Webhooks end to end: a real receiver on loopback, the real webhook worker, signatures
checked byte for byte, the retry schedule walked by moving the clock in Postgres."""

from __future__ import annotations

import json
import time

import pytest

from common import db
from common.signing import verify_signature
from common.webhooks.service import RETRY_DELAYS, dispatch_due
from tests.e2e.test_extraction_flow import post_file
from tests.support import Receiver, make_text_pdf, wait_until

pytestmark = pytest.mark.slow
# Its tests kill the webhook worker and empty the broker: a service of its own (conftest).
OWN_SERVICE = True


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def create_endpoint(http, url: str, events: list[str] | None = None) -> dict:
    response = http.post("/v1/webhooks", json={"url": url, "events": events or ["*"]})
    assert response.status_code == 201, response.text
    return response.json()


def move_clock(endpoint_id: str, seconds: float) -> None:
    """As if `seconds` passed: every scheduled time of this endpoint comes that much closer."""
    with db.transaction() as conn:
        conn.execute(
            "update webhook_deliveries set next_attempt_at = next_attempt_at"
            " - make_interval(secs => %(s)s) where endpoint_id = %(e)s and status = 'pending'",
            {"s": seconds, "e": endpoint_id},
        )
        conn.execute(
            "update webhook_endpoints set failing_since = failing_since"
            " - make_interval(secs => %(s)s) where id = %(e)s",
            {"s": seconds, "e": endpoint_id},
        )


def deliveries(http, endpoint_id: str) -> list[dict]:
    return http.get(f"/v1/webhooks/{endpoint_id}/deliveries?limit=100").json()["data"]


def test_invoice_events_arrive_signed_and_in_order(service, tenant, receiver):
    with service.client(tenant.secret) as http:
        endpoint = create_endpoint(http, receiver.url)
        assert endpoint["secret"].startswith("whsec_")
        assert "secret" not in http.get(f"/v1/webhooks/{endpoint['id']}").json()
        invoice = post_file(http, make_text_pdf(), wait="20").json()
    wait_until(lambda: len(receiver.events()) >= 3, 30, message="events did not arrive")
    assert [e["type"] for e in receiver.events()] == [
        "invoice.created",
        "invoice.processing",
        "invoice.succeeded",
    ]
    for request in receiver.requests:
        headers = request["headers"]
        event = json.loads(request["body"])
        verify_signature(request["body"], headers["Invex-Signature"], endpoint["secret"])
        assert headers["Content-Type"] == "application/json"
        assert headers["User-Agent"] == "invex-webhooks/1"
        assert headers["Invex-Event"] == event["type"]
        assert headers["Invex-Delivery"].startswith("dlv_")
        assert headers["webhook-id"] == event["id"]
        assert event["data"]["object"]["id"] == invoice["id"]
    assert receiver.events()[-1]["data"]["object"]["status"] == "succeeded"


def test_failing_receiver_walks_the_whole_schedule_then_gives_up(service, tenant, receiver):
    receiver.default = (500, 0.0)
    with service.client(tenant.secret) as http:
        endpoint = create_endpoint(http, receiver.url, ["invoice.created"])
        post_file(http, make_text_pdf())
        wait_until(lambda: len(receiver.requests) == 1, 20, message="first attempt")
        for attempt, delay in enumerate(RETRY_DELAYS, start=1):
            log = wait_until(
                lambda n=attempt: [
                    d
                    for d in deliveries(http, endpoint["id"])
                    if d["attempts"] == n and d["status"] == "pending"
                ],
                20,
                message=f"attempt {attempt} not recorded",
            )[0]
            assert log["next_attempt"] - log["last_attempt"] == pytest.approx(delay, abs=2)
            assert log["response_status"] == 500
            assert log["response_body"] == "answer 500"
            dispatch_due()  # not due yet: nothing is sent early
            time.sleep(0.3)
            assert len(receiver.requests) == attempt
            move_clock(endpoint["id"], delay)
            dispatch_due()
            wait_until(
                lambda n=attempt: len(receiver.requests) == n + 1,
                20,
                message=f"retry {attempt} not sent",
            )
        final = wait_until(
            lambda: [d for d in deliveries(http, endpoint["id"]) if d["status"] == "failed"], 20
        )[0]
    assert final["attempts"] == len(RETRY_DELAYS) + 1


def test_connection_refused_is_retried_and_logged(service, tenant):
    dead = Receiver()
    url = dead.url
    dead.close()
    with service.client(tenant.secret) as http:
        endpoint = create_endpoint(http, url, ["invoice.created"])
        post_file(http, make_text_pdf())
        log = wait_until(
            lambda: [
                d
                for d in deliveries(http, endpoint["id"])
                if d["attempts"] == 1 and d["status"] == "pending"
            ],
            20,
        )[0]
    assert log["response_status"] is None
    assert "Connect" in log["error"]


def test_gone_disables_the_endpoint_with_an_event(service, tenant, receiver):
    receiver.default = (410, 0.0)
    with service.client(tenant.secret) as http:
        endpoint = create_endpoint(http, receiver.url, ["invoice.created"])
        post_file(http, make_text_pdf())
        wait_until(
            lambda: not http.get(f"/v1/webhooks/{endpoint['id']}").json()["enabled"],
            20,
            message="410 did not disable the endpoint",
        )
        disabled = http.get("/v1/events?type=webhook_endpoint.disabled").json()["data"]
    assert disabled[0]["data"]["object"]["id"] == endpoint["id"]


def test_three_days_of_failures_disable_the_endpoint(service, tenant, receiver):
    receiver.default = (503, 0.0)
    with service.client(tenant.secret) as http:
        endpoint = create_endpoint(http, receiver.url, ["invoice.created"])
        post_file(http, make_text_pdf())
        wait_until(lambda: len(receiver.requests) == 1, 20)
        wait_until(  # the failure is recorded (and the endpoint's failing clock started)
            lambda: (
                deliveries(http, endpoint["id"])[0]["attempts"] == 1
                and deliveries(http, endpoint["id"])[0]["status"] == "pending"
            ),
            20,
        )
        move_clock(endpoint["id"], 3 * 24 * 3600)
        dispatch_due()
        wait_until(
            lambda: not http.get(f"/v1/webhooks/{endpoint['id']}").json()["enabled"],
            20,
            message="three days of failures did not disable the endpoint",
        )


def test_later_events_wait_while_an_earlier_one_is_retried(service, tenant, receiver):
    receiver.script = [(500, 0.0)]  # the first delivery (invoice.created) fails once
    with service.client(tenant.secret) as http:
        endpoint = create_endpoint(http, receiver.url)
        invoice = post_file(http, make_text_pdf(), wait="20").json()
        assert invoice["status"] == "succeeded"
        time.sleep(1)
        assert receiver.events() == []  # processing and succeeded wait behind created
        move_clock(endpoint["id"], RETRY_DELAYS[0])
        dispatch_due()
        wait_until(lambda: len(receiver.events()) == 3, 20, message="the chain did not resume")
    assert [e["type"] for e in receiver.events()] == [
        "invoice.created",
        "invoice.processing",
        "invoice.succeeded",
    ]


def test_killed_webhook_worker_still_delivers_the_same_event(service, tenant, receiver):
    receiver.script = [(200, 5.0)]  # the first request hangs while we kill the worker
    with service.client(tenant.secret) as http:
        endpoint = create_endpoint(http, receiver.url, ["invoice.created"])
        post_file(http, make_text_pdf())
        wait_until(lambda: len(receiver.requests) == 1, 20, message="delivery did not start")
        service.kill_webhook_worker()
        first_event = json.loads(receiver.requests[0]["body"])["id"]
        service.start_webhook_worker()
        with db.transaction() as conn:  # the lease of the dead worker runs out
            conn.execute(
                "update webhook_deliveries set lease_expires_at = now()"
                " - interval '1 second' where endpoint_id = %(e)s",
                {"e": endpoint["id"]},
            )
        dispatch_due()
        wait_until(lambda: len(receiver.requests) >= 2, 30, message="event was lost")
        delivered = wait_until(
            lambda: [d for d in deliveries(http, endpoint["id"]) if d["status"] == "succeeded"], 20
        )
    assert json.loads(receiver.requests[-1]["body"])["id"] == first_event
    assert delivered[0]["attempts"] >= 2


def test_flushed_broker_loses_no_delivery(service, servers, tenant, receiver):
    import redis

    service.kill_webhook_worker()
    try:
        with service.client(tenant.secret) as http:
            create_endpoint(http, receiver.url, ["invoice.created"])
            post_file(http, make_text_pdf())
            # the service's broker database (the shared e2e service has another)
            redis.Redis.from_url(servers["redis_url"]).flushdb()
    finally:
        service.start_webhook_worker()
    dispatch_due()
    wait_until(lambda: len(receiver.events()) == 1, 20, message="pending delivery was lost")


def test_rotated_secret_signs_with_old_and_new(service, tenant, receiver):
    with service.client(tenant.secret) as http:
        endpoint = create_endpoint(http, receiver.url)
        rotated = http.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret").json()
        assert rotated["secret"] != endpoint["secret"]
        assert http.post(f"/v1/webhooks/{endpoint['id']}/test").status_code == 202
    wait_until(receiver.events, 20, message="ping did not arrive")
    request = receiver.requests[0]
    assert json.loads(request["body"])["type"] == "ping"
    assert request["headers"]["Invex-Signature"].count("v1=") == 2
    for secret in (endpoint["secret"], rotated["secret"]):
        verify_signature(request["body"], request["headers"]["Invex-Signature"], secret)


def test_unknown_event_type_names_the_param(service, tenant):
    with service.client(tenant.secret) as http:
        response = http.post(
            "/v1/webhooks", json={"url": "https://example.com/h", "events": ["invoice.exploded"]}
        )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "events"


def test_timeouts_walk_the_whole_schedule(service, tenant, monkeypatch):
    """A receiver slower than the timeout fails every attempt, each logged as a timeout,
    until the delivery is given up. (The 15 s limit is shortened for the test; the sends run
    in this process so the shortened limit applies to them.)"""
    from common.webhooks import service as webhooks

    slow = Receiver(default=(200, 2.0))
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.5)
    service.kill_webhook_worker()  # this process sends; no worker may race it
    try:
        with service.client(tenant.secret) as http:
            endpoint = create_endpoint(http, slow.url, ["invoice.created"])
            post_file(http, make_text_pdf())
            for attempt in range(1, len(RETRY_DELAYS) + 2):
                assert webhooks.send_due_deliveries(f"test-{attempt}") == 1
                log = deliveries(http, endpoint["id"])[0]
                assert log["attempts"] == attempt
                assert "Timeout" in log["error"]
                if attempt <= len(RETRY_DELAYS):
                    assert log["status"] == "pending"
                    assert webhooks.send_due_deliveries("early") == 0  # not due yet
                    move_clock(endpoint["id"], RETRY_DELAYS[attempt - 1])
            assert log["status"] == "failed"
    finally:
        slow.close()
        service.start_webhook_worker()
