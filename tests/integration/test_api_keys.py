"""The keys API: the secret once, hashed storage, revocation at once, no privilege gain."""

from __future__ import annotations

import io

from common import db
from common.keys import secret_looks_valid
from tests.integration.test_api_contract import assert_contract_error
from tests.support import make_text_pdf


def test_created_key_works_and_its_secret_is_shown_once(client, tenant):
    created = client.post("/v1/api-keys", headers=tenant.headers, json={"name": "ci"})
    assert created.status_code == 201
    secret = created.get_json()["secret"]
    assert secret_looks_valid(secret)
    listed = client.get("/v1/api-keys", headers=tenant.headers).get_json()["data"]
    assert all("secret" not in k for k in listed)
    assert (
        client.get("/v1/invoices", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )


def test_secrets_are_stored_only_as_hashes(client, tenant):
    secret = client.post("/v1/api-keys", headers=tenant.headers, json={}).get_json()["secret"]
    with db.connection() as conn:
        dump = conn.execute("select * from api_keys").fetchall()
    assert secret not in repr(dump)


def test_revoked_key_fails_on_its_next_request(client, tenant):
    created = client.post("/v1/api-keys", headers=tenant.headers, json={}).get_json()
    headers = {"Authorization": f"Bearer {created['secret']}"}
    assert client.get("/v1/invoices", headers=headers).status_code == 200
    revoked = client.delete(f"/v1/api-keys/{created['id']}", headers=tenant.headers)
    assert revoked.get_json()["revoked"] is not None
    assert_contract_error(client.get("/v1/invoices", headers=headers), 401, "invalid_api_key")


def test_scoped_key_cannot_create_a_stronger_key(client, tenant):
    limited = tenant.new_key(scopes=["settings:write", "invoices:read"])
    headers = {"Authorization": f"Bearer {limited}"}
    for scopes in ([], ["upload:write"]):
        response = client.post("/v1/api-keys", headers=headers, json={"scopes": scopes})
        assert_contract_error(response, 403, "insufficient_scope")
    ok = client.post("/v1/api-keys", headers=headers, json={"scopes": ["invoices:read"]})
    assert ok.status_code == 201
    weaker = {"Authorization": f"Bearer {ok.get_json()['secret']}"}
    upload = client.post(
        "/v1/invoices", headers=weaker, data={"file": (io.BytesIO(make_text_pdf()), "a.pdf")}
    )
    assert_contract_error(upload, 403, "insufficient_scope")


def test_keys_of_another_org_cannot_be_revoked(client, tenant, other_tenant):
    created = client.post("/v1/api-keys", headers=tenant.headers, json={}).get_json()
    response = client.delete(f"/v1/api-keys/{created['id']}", headers=other_tenant.headers)
    assert_contract_error(response, 404, "resource_not_found")
