"""Tenant isolation, proven by walking every endpoint of the OpenAPI document with another
organisation's key, and with a test-mode key of the same organisation: every ID of the first
organisation answers 404, and no list shows it."""

from __future__ import annotations

import re

import pytest

from tests.support import one_of_everything

BODIES = {  # the smallest valid body, so validation cannot answer before the lookup
    "/v1/invoices/{invoice_id}/comments": {"body": "hello"},
    "/v1/webhooks/{endpoint_id}": {"description": "x"},
    "/v1/invoices/{invoice_id}": {"notes": "x"},
    "/v1/schemas/{schema_id}": {"name": "x"},
    "/v1/members/{member_id}": {"name": "x"},
    "/v1/invoices/{invoice_id}/publish": {"target": "xero"},
}
# Keys and members belong to the organisation across its modes: a test-mode key of the same
# organisation sees them, by design.
ORGANISATION_WIDE = ("/v1/api-keys", "/v1/members")
# `{provider}` names xero or quickbooks, not an object: every organisation has its own
# connection and mappings under the same path (tests/integration/test_integrations.py).
PER_PROVIDER = "/v1/integrations/"


@pytest.fixture
def owned(client, tenant) -> dict[str, str]:
    return one_of_everything(client, tenant.headers)


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
        if not params or path.startswith(PER_PROVIDER):
            continue
        url = path
        for name in params:
            url = url.replace("{" + name + "}", owned[name])
        for method in operations:
            if method not in ("get", "post", "patch", "delete"):
                continue
            if outsider == "test mode" and path.startswith(ORGANISATION_WIDE):
                continue
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
        if outsider == "test mode" and path in ORGANISATION_WIDE:
            continue
        body = client.get(path, headers=headers).get_data(as_text=True)
        for name, value in owned.items():
            if name != "provider":  # a provider's name, shown to every organisation
                assert value not in body, (path, value)
