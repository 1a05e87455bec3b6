"""Which events a webhook endpoint may subscribe to: every type of the contract, and the
discovery document says which of them nothing sends yet."""

from __future__ import annotations

import pytest

RECEIVER = "http://127.0.0.1:9/hooks"

# The contract's types (API.md, "Webhooks").
CONTRACT_EVENT_TYPES = [
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
]


def subscribe(client, tenant, events: list[str]):
    return client.post(
        "/v1/webhooks", headers=tenant.headers, json={"url": RECEIVER, "events": events}
    )


def test_an_endpoint_may_subscribe_to_ping(client, tenant):
    response = subscribe(client, tenant, ["ping"])
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["events"] == ["ping"]


@pytest.mark.parametrize("event_type", CONTRACT_EVENT_TYPES)
def test_an_endpoint_may_subscribe_to_every_event_type_of_the_contract(client, tenant, event_type):
    response = subscribe(client, tenant, [event_type])
    assert response.status_code == 201, response.get_data(as_text=True)


def test_discovery_lists_every_event_type_and_that_each_is_sent(client):
    listed = {e["type"]: e for e in client.get("/v1").get_json()["event_types"]}
    assert set(listed) == set(CONTRACT_EVENT_TYPES)
    # quotes and publishing were the last to land: every type is sent now
    assert all(e["emitted"] is True and e["note"] is None for e in listed.values())


def test_discovery_lists_every_scope_and_notes_those_no_endpoint_checks_yet(client):
    listed = {s["scope"]: s for s in client.get("/v1").get_json()["scopes"]}
    assert {"publish:xero", "publish:qb", "invoices:read", "bank:read"} <= set(listed)
    assert listed["invoices:read"]["checked"] is True
    # one endpoint takes either publishing scope (the body's `target` picks which)
    assert listed["publish:xero"]["checked"] is True
    assert listed["publish:qb"]["checked"] is True
    assert all(bool(s["note"]) != s["checked"] for s in listed.values())


def test_the_contract_s_test_endpoint_sends_a_ping_to_the_endpoint(client, tenant):
    endpoint = subscribe(client, tenant, ["invoice.created"]).get_json()
    response = client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=tenant.headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    events = client.get("/v1/events?type=ping", headers=tenant.headers).get_json()["data"]
    assert [e["data"]["object"]["id"] for e in events] == [endpoint["id"]]
