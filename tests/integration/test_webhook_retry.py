"""Retrying a delivery by hand: a finished one is sent again, one waiting for its next
attempt is sent now, and one being sent right now is a conflict. No sender runs here: the
state a sender leaves is written directly."""

from __future__ import annotations

import io
import time

import pytest

from common import db
from tests.integration.test_api_contract import assert_contract_error
from tests.support import make_text_pdf


@pytest.fixture
def delivery(client, tenant) -> tuple[str, str]:
    """(endpoint id, delivery id) of the `invoice.created` delivery of one upload."""
    endpoint = client.post(
        "/v1/webhooks", headers=tenant.headers, json={"url": "http://127.0.0.1:9/hook"}
    ).get_json()
    client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_text_pdf()), "a.pdf")},
    )
    listed = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=tenant.headers)
    (first,) = listed.get_json()["data"]
    return endpoint["id"], first["id"]


def set_delivery(delivery_id: str, sql: str) -> None:
    with db.transaction() as conn:
        conn.execute(f"update webhook_deliveries set {sql} where id = %(id)s", {"id": delivery_id})


def retry(client, tenant, endpoint_id: str, delivery_id: str):
    return client.post(
        f"/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry", headers=tenant.headers
    )


def test_retrying_a_delivery_waiting_for_its_next_attempt_sends_it_now(client, tenant, delivery):
    endpoint_id, delivery_id = delivery
    # The whole state, status included: a webhook worker left running by an earlier test of
    # the suite may have tried the delivery already.
    set_delivery(
        delivery_id,
        "status = 'pending', task_id = null, lease_expires_at = null, attempts = 1,"
        " next_attempt_at = now() + interval '1 hour'",
    )
    response = retry(client, tenant, endpoint_id, delivery_id)
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["next_attempt"] <= time.time() + 1


def test_retrying_a_delivery_being_sent_is_a_conflict(client, tenant, delivery):
    endpoint_id, delivery_id = delivery
    set_delivery(
        delivery_id,
        "status = 'sending', attempts = 1, lease_expires_at = now() + interval '1 minute'",
    )
    response = retry(client, tenant, endpoint_id, delivery_id)
    assert_contract_error(response, 409, "delivery_in_progress")


def test_retrying_a_succeeded_delivery_makes_a_new_attempt(client, tenant, delivery):
    endpoint_id, delivery_id = delivery
    set_delivery(delivery_id, "status = 'succeeded', attempts = 1, response_status = 200")
    response = retry(client, tenant, endpoint_id, delivery_id)
    assert response.status_code == 202
    body = response.get_json()
    assert (body["status"], body["attempts"]) == ("pending", 1)
    assert body["next_attempt"] <= time.time() + 1
