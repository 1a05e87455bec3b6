"""`invex orgs list`, `invex keys list` and `invex keys revoke`, run in this process
against the module's database, the way an operator runs them."""

from __future__ import annotations

import json

import pytest

from common import cli
from common.accounts.service import create_api_key
from tests.integration.test_api_contract import assert_contract_error


def invex(capsys, *args: str) -> tuple[int, str, str]:
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_orgs_list_shows_each_organisation(capsys, tenant, other_tenant):
    status, out, _ = invex(capsys, "orgs", "list")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "PLAN", "CREATED", "(UTC)"]
    assert any(line.startswith(tenant.org.id) and "Acme Test GmbH" in line for line in lines)
    assert any(line.startswith(other_tenant.org.id) for line in lines)


def test_orgs_list_as_json_is_oldest_first_within_the_limit(capsys, tenant, other_tenant):
    status, out, _ = invex(capsys, "orgs", "list", "--json", "--limit", "1000")
    assert status == 0
    listed = json.loads(out)
    ids = [org["id"] for org in listed]
    assert ids.index(tenant.org.id) < ids.index(other_tenant.org.id)
    assert listed[ids.index(tenant.org.id)]["plan"] == tenant.org.plan
    status, out, _ = invex(capsys, "orgs", "list", "--json", "--limit", "1")
    assert len(json.loads(out)) == 1


def test_orgs_list_refuses_a_limit_out_of_range(capsys, settings):
    status, _, err = invex(capsys, "orgs", "list", "--limit", "0")
    assert status == 1
    assert "validation_error: limit must be 1 to 1000." in err


def test_keys_list_shows_prefix_scopes_and_mode_never_the_secret(capsys, tenant):
    scoped = create_api_key(tenant.org.id, livemode=False, scopes=["invoices:read"], name="reader")
    status, out, _ = invex(capsys, "keys", "list", "--org", tenant.org.id)
    assert status == 0
    assert tenant.secret not in out
    assert scoped.secret not in out
    row = next(line for line in out.splitlines() if line.startswith(scoped.key.id))
    assert row.split()[1:5] == [scoped.key.prefix, "reader", "invoices:read", "test"]
    assert out.splitlines()[0].split() == [
        "ID", "PREFIX", "NAME", "SCOPES", "MODE", "CREATED", "LAST", "USED", "REVOKED"
    ]  # fmt: skip
    full = next(line for line in out.splitlines() if line.startswith(scoped.key.id) is False
                and "all" in line.split())  # fmt: skip
    assert full.split()[2:5] == ["-", "all", "live"]


def test_keys_list_as_json_carries_the_api_resource_without_a_secret(capsys, tenant, client):
    assert client.get("/v1/invoices", headers=tenant.headers).status_code == 200
    status, out, _ = invex(capsys, "keys", "list", "--org", tenant.org.id, "--json")
    assert status == 0
    (key,) = json.loads(out)
    assert "secret" not in key
    assert key["prefix"] == tenant.secret[: len(key["prefix"])]
    assert key["mode"] == "live"
    assert key["scopes"] == []
    assert key["last_used"] is not None  # the request above used it
    assert key["revoked"] is None


def test_keys_list_of_an_unknown_organisation_fails(capsys, settings):
    status, out, err = invex(capsys, "keys", "list", "--org", "org_missing")
    assert status == 1
    assert out == ""
    assert "resource_not_found" in err


def test_keys_revoke_stops_the_key_at_its_next_request(capsys, tenant, client):
    doomed = create_api_key(tenant.org.id, name="doomed")
    headers = {"Authorization": f"Bearer {doomed.secret}"}
    assert client.get("/v1/invoices", headers=headers).status_code == 200
    status, out, _ = invex(capsys, "keys", "revoke", doomed.key.id)
    assert status == 0
    assert out.startswith(
        f"revoked key {doomed.key.id} ({doomed.key.prefix}...) of {tenant.org.id}"
    )
    assert_contract_error(client.get("/v1/invoices", headers=headers), 401, "invalid_api_key")
    assert client.get("/v1/invoices", headers=tenant.headers).status_code == 200
    status, out, _ = invex(capsys, "keys", "list", "--org", tenant.org.id, "--json")
    revoked = {key["id"]: key["revoked"] for key in json.loads(out)}
    assert revoked[doomed.key.id] is not None


def test_keys_revoke_twice_keeps_the_first_time(capsys, tenant):
    key = create_api_key(tenant.org.id)
    _, first, _ = invex(capsys, "keys", "revoke", key.key.id, "--json")
    _, second, _ = invex(capsys, "keys", "revoke", key.key.id, "--json")
    assert json.loads(first)["revoked"] == json.loads(second)["revoked"]


@pytest.mark.parametrize("key_id", ["key_missing", "not-a-key"])
def test_keys_revoke_of_an_unknown_key_fails(capsys, settings, key_id):
    status, out, err = invex(capsys, "keys", "revoke", key_id)
    assert status == 1
    assert out == ""
    assert f"resource_not_found: No API key '{key_id}'." in err
