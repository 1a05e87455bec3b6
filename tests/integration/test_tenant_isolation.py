"""Tenant isolation, proven by walking every endpoint of the OpenAPI document with another
organisation's key, and with a test-mode key of the same organisation: every ID of the first
organisation answers 404, and no list shows it."""

from __future__ import annotations

import io
import re

import pytest

from tests.support import extract_now, make_text_pdf

BODIES = {  # the smallest valid body, so validation cannot answer before the lookup
    "/v1/invoices/{invoice_id}/comments": {"body": "hello"},
    "/v1/webhooks/{endpoint_id}": {"description": "x"},
    "/v1/invoices/{invoice_id}": {"notes": "x"},
    "/v1/schemas/{schema_id}": {"name": "x"},
}


@pytest.fixture
def owned(client, tenant) -> dict[str, str]:
    """One of everything, owned by `tenant`, by path parameter name."""
    headers = tenant.headers
    invoice = client.post(
        "/v1/invoices",
        headers=headers,
        data={"file": (io.BytesIO(make_text_pdf()), "a.pdf")},
    ).get_json()
    extract_now(invoice["id"])
    endpoint = client.post(
        "/v1/webhooks", headers=headers, json={"url": "https://example.com/h"}
    ).get_json()
    ping = client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=headers).get_json()
    schema = client.post(
        "/v1/schemas", headers=headers, json={"name": "s", "fields": [{"name": "f"}]}
    ).get_json()
    key = client.post("/v1/api-keys", headers=headers, json={}).get_json()
    event = client.get("/v1/events", headers=headers).get_json()["data"][0]
    return {
        "invoice_id": invoice["id"],
        "endpoint_id": endpoint["id"],
        "delivery_id": ping["id"],
        "schema_id": schema["id"],
        "key_id": key["id"],
        "event_id": event["id"],
    }


@pytest.mark.parametrize("outsider", ["other organisation", "test mode"])
def test_every_endpoint_hides_another_tenants_objects(
    client, app, tenant, other_tenant, owned, outsider
):
    secret = (
        other_tenant.secret if outsider == "other organisation" else tenant.new_key(livemode=False)
    )
    headers = {"Authorization": f"Bearer {secret}"}
    spec = client.get("/v1/openapi.json").get_json()
    walked = 0
    for path, operations in spec["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if not params:
            continue
        url = path
        for name in params:
            url = url.replace("{" + name + "}", owned[name])
        for method in operations:
            if method not in ("get", "post", "patch", "delete"):
                continue
            if outsider == "test mode" and path.startswith("/v1/api-keys"):
                continue  # keys belong to the organisation, across its modes
            response = client.open(
                url, method=method.upper(), headers=headers, json=BODIES.get(path, {})
            )
            assert response.status_code == 404, (method, url, response.get_data(as_text=True))
            assert response.get_json()["error"]["code"] == "resource_not_found"
            walked += 1
    assert walked >= 20
    for path, operations in spec["paths"].items():
        if "{" in path or "get" not in operations or path in ("/v1", "/v1/ping"):
            continue
        if outsider == "test mode" and path == "/v1/api-keys":
            continue
        body = client.get(path, headers=headers).get_data(as_text=True)
        for value in owned.values():
            assert value not in body, (path, value)
