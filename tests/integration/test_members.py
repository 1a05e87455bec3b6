"""Members: invite, activate, deactivate, roles; keys that act for a member follow its
status and are capped by its role."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator

import pytest

from common.accounts.service import authenticate, create_api_key
from common.cli import main as invex
from common.errors import LastOwner
from common.members.service import update_member
from tests.integration.test_api_contract import assert_contract_error
from tests.support import HTTP, ServiceProcesses, make_text_pdf, wait_until


def invite(client, tenant, email: str, role: str = "member", headers=None) -> dict:
    response = client.post(
        "/v1/members", headers=headers or tenant.headers, json={"email": email, "role": role}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def active_member(client, tenant, email: str, role: str = "member") -> dict:
    member = invite(client, tenant, email, role)
    response = client.post(f"/v1/members/{member['id']}/activate", headers=tenant.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def key_for(tenant, member: dict, scopes: list[str] | None = None) -> dict[str, str]:
    """Headers with a new key of `tenant` acting for `member`."""
    secret = create_api_key(tenant.org.id, scopes=scopes, member_id=member["id"]).secret
    return {"Authorization": f"Bearer {secret}"}


def upload(client, headers):
    return client.post(
        "/v1/invoices", headers=headers, data={"file": (io.BytesIO(make_text_pdf()), "a.pdf")}
    )


def test_an_invited_member_is_pending(client, tenant):
    member = invite(client, tenant, "ada@example.com", "admin")
    assert member["id"].startswith("mem_")
    assert member["object"] == "member"
    assert (member["email"], member["role"], member["status"]) == (
        "ada@example.com",
        "admin",
        "pending",
    )
    assert member["activated"] is None


def test_list_filters_by_status(client, tenant):
    pending = invite(client, tenant, "p@example.com")
    active = active_member(client, tenant, "a@example.com")
    listed = client.get("/v1/members?status=active", headers=tenant.headers).get_json()
    assert [m["id"] for m in listed["data"]] == [active["id"]]
    listed = client.get("/v1/members?status=pending", headers=tenant.headers).get_json()
    assert [m["id"] for m in listed["data"]] == [pending["id"]]


def test_list_pages_newest_first_with_a_cursor(client, tenant):
    ids = [invite(client, tenant, f"m{n}@example.com")["id"] for n in range(5)]
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v1/members{query}", headers=tenant.headers).get_json()
        seen += [m["id"] for m in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == ids[::-1]


def test_an_unknown_status_filter_is_refused(client, tenant):
    response = client.get("/v1/members?status=gone", headers=tenant.headers)
    assert assert_contract_error(response, 400, "validation_error")["param"] == "status"


def test_an_email_is_unique_per_organisation_whatever_its_case(client, tenant):
    invite(client, tenant, "Grace@Example.com")
    response = client.post(
        "/v1/members", headers=tenant.headers, json={"email": "grace@example.COM"}
    )
    assert assert_contract_error(response, 409, "resource_already_exists")["param"] == "email"


def test_two_organisations_may_invite_the_same_email(client, tenant, other_tenant):
    invite(client, tenant, "shared@example.com")
    invite(client, other_tenant, "shared@example.com")


def test_an_invitation_needs_a_valid_email(client, tenant):
    response = client.post("/v1/members", headers=tenant.headers, json={"email": "nope"})
    assert assert_contract_error(response, 400, "validation_error")["param"] == "email"


def test_activating_an_active_member_is_an_invalid_transition(client, tenant):
    member = active_member(client, tenant, "x@example.com")
    response = client.post(f"/v1/members/{member['id']}/activate", headers=tenant.headers)
    assert_contract_error(response, 409, "invalid_state_transition")


def test_a_pending_invitation_can_be_withdrawn_by_deactivating_it(client, tenant):
    member = invite(client, tenant, "late@example.com")
    response = client.post(f"/v1/members/{member['id']}/deactivate", headers=tenant.headers)
    assert response.get_json()["status"] == "inactive"
    assert response.get_json()["deactivated"] is not None


def test_a_role_change_is_shown_on_the_member(client, tenant):
    member = invite(client, tenant, "r@example.com", "viewer")
    response = client.patch(
        f"/v1/members/{member['id']}", headers=tenant.headers, json={"role": "admin"}
    )
    assert response.status_code == 200
    assert response.get_json()["role"] == "admin"


def test_an_unknown_role_is_refused(client, tenant):
    member = invite(client, tenant, "r@example.com")
    response = client.patch(
        f"/v1/members/{member['id']}", headers=tenant.headers, json={"role": "god"}
    )
    assert assert_contract_error(response, 400, "validation_error")["param"] == "role"


def test_the_last_active_owner_cannot_be_deactivated(client, tenant):
    owner = active_member(client, tenant, "boss@example.com", "owner")
    response = client.post(f"/v1/members/{owner['id']}/deactivate", headers=tenant.headers)
    assert_contract_error(response, 409, "last_owner")


def test_the_last_active_owner_cannot_be_demoted(client, tenant):
    owner = active_member(client, tenant, "boss@example.com", "owner")
    response = client.patch(
        f"/v1/members/{owner['id']}", headers=tenant.headers, json={"role": "admin"}
    )
    assert_contract_error(response, 409, "last_owner")


def test_an_owner_can_leave_while_another_active_owner_remains(client, tenant):
    first = active_member(client, tenant, "one@example.com", "owner")
    active_member(client, tenant, "two@example.com", "owner")
    response = client.post(f"/v1/members/{first['id']}/deactivate", headers=tenant.headers)
    assert response.status_code == 200


def test_two_owners_demoted_at_once_leave_one_owner(client, tenant):
    owners = [active_member(client, tenant, f"o{n}@example.com", "owner") for n in range(2)]
    principal = authenticate(tenant.secret)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(member_id: str) -> None:
        barrier.wait()
        try:
            update_member(principal, member_id, role="admin")
            outcomes.append("demoted")
        except LastOwner:
            outcomes.append("refused")

    threads = [threading.Thread(target=demote, args=(o["id"],)) for o in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["demoted", "refused"]


def test_an_admin_cannot_grant_the_owner_role(client, tenant):
    admin = active_member(client, tenant, "admin@example.com", "admin")
    member = invite(client, tenant, "m@example.com")
    response = client.patch(
        f"/v1/members/{member['id']}", headers=key_for(tenant, admin), json={"role": "owner"}
    )
    assert_contract_error(response, 403, "insufficient_scope")


def test_an_admin_cannot_deactivate_an_owner(client, tenant):
    active_member(client, tenant, "o1@example.com", "owner")
    owner = active_member(client, tenant, "o2@example.com", "owner")
    admin = active_member(client, tenant, "admin@example.com", "admin")
    response = client.post(f"/v1/members/{owner['id']}/deactivate", headers=key_for(tenant, admin))
    assert_contract_error(response, 403, "insufficient_scope")


def test_an_admin_can_deactivate_a_member(client, tenant):
    admin = active_member(client, tenant, "admin@example.com", "admin")
    member = active_member(client, tenant, "m@example.com")
    response = client.post(f"/v1/members/{member['id']}/deactivate", headers=key_for(tenant, admin))
    assert response.get_json()["status"] == "inactive"


def test_listing_members_needs_team_read(client, tenant):
    headers = {"Authorization": f"Bearer {tenant.new_key(scopes=['invoices:read'])}"}
    assert_contract_error(client.get("/v1/members", headers=headers), 403, "insufficient_scope")


def test_inviting_needs_team_write(client, tenant):
    headers = {"Authorization": f"Bearer {tenant.new_key(scopes=['team:read'])}"}
    assert client.get("/v1/members", headers=headers).status_code == 200
    response = client.post("/v1/members", headers=headers, json={"email": "a@example.com"})
    assert_contract_error(response, 403, "insufficient_scope")


def test_a_key_of_a_deactivated_member_fails_on_its_next_request(client, tenant):
    member = active_member(client, tenant, "leaver@example.com")
    headers = key_for(tenant, member)
    assert client.get("/v1/invoices", headers=headers).status_code == 200
    client.post(f"/v1/members/{member['id']}/deactivate", headers=tenant.headers)
    assert_contract_error(client.get("/v1/invoices", headers=headers), 401, "invalid_api_key")


def test_a_key_of_a_pending_member_does_not_authenticate(client, tenant):
    member = invite(client, tenant, "soon@example.com")
    response = client.get("/v1/invoices", headers=key_for(tenant, member))
    assert_contract_error(response, 401, "invalid_api_key")


def test_a_reactivated_members_keys_work_again(client, tenant):
    member = active_member(client, tenant, "back@example.com")
    headers = key_for(tenant, member)
    client.post(f"/v1/members/{member['id']}/deactivate", headers=tenant.headers)
    client.post(f"/v1/members/{member['id']}/activate", headers=tenant.headers)
    assert client.get("/v1/invoices", headers=headers).status_code == 200


def test_a_viewers_full_access_key_can_read_but_not_write(client, tenant):
    viewer = active_member(client, tenant, "v@example.com", "viewer")
    headers = key_for(tenant, viewer)
    assert client.get("/v1/invoices", headers=headers).status_code == 200
    assert_contract_error(upload(client, headers), 403, "insufficient_scope")


def test_a_keys_scopes_still_bind_within_its_members_role(client, tenant):
    member = active_member(client, tenant, "m@example.com", "member")
    assert upload(client, key_for(tenant, member)).status_code in (200, 202)
    reader = key_for(tenant, member, scopes=["invoices:read"])
    assert_contract_error(upload(client, reader), 403, "insufficient_scope")


def test_a_role_change_applies_to_the_members_keys_at_once(client, tenant):
    member = active_member(client, tenant, "m@example.com", "member")
    headers = key_for(tenant, member)
    client.patch(f"/v1/members/{member['id']}", headers=tenant.headers, json={"role": "viewer"})
    assert_contract_error(upload(client, headers), 403, "insufficient_scope")


def test_a_key_is_tied_to_a_member_through_the_api(client, tenant):
    member = active_member(client, tenant, "m@example.com")
    created = client.post(
        "/v1/api-keys", headers=tenant.headers, json={"member_id": member["id"]}
    ).get_json()
    assert created["member_id"] == member["id"]
    listed = client.get("/v1/api-keys", headers=tenant.headers).get_json()["data"]
    assert {k["id"]: k["member_id"] for k in listed}[created["id"]] == member["id"]


def test_a_key_cannot_be_tied_to_another_organisations_member(client, tenant, other_tenant):
    theirs = invite(client, other_tenant, "m@example.com")
    response = client.post("/v1/api-keys", headers=tenant.headers, json={"member_id": theirs["id"]})
    assert_contract_error(response, 404, "resource_not_found")


def test_a_members_key_makes_keys_for_that_member_only(client, tenant):
    admin = active_member(client, tenant, "admin@example.com", "admin")
    other = active_member(client, tenant, "other@example.com", "owner")
    headers = key_for(tenant, admin)
    made = client.post("/v1/api-keys", headers=headers, json={}).get_json()
    assert made["member_id"] == admin["id"]
    response = client.post("/v1/api-keys", headers=headers, json={"member_id": other["id"]})
    assert_contract_error(response, 403, "insufficient_scope")


def test_the_cli_ties_a_key_to_a_member(client, tenant, capsys):
    member = active_member(client, tenant, "cli@example.com", "viewer")
    assert (
        invex(["keys", "create", "--org", tenant.org.id, "--member", member["id"], "--json"]) == 0
    )
    secret = json.loads(capsys.readouterr().out)["secret"]
    assert authenticate(secret).member_role == "viewer"


@pytest.fixture(scope="module")
def api_processes(module_database, servers) -> Iterator[ServiceProcesses]:
    """gunicorn with its two workers on the module's database, and no Celery worker."""
    processes = ServiceProcesses(servers["database_url"], servers["redis_url"])
    processes.start_api(workers=2)
    try:
        yield processes
    finally:
        processes.stop()


def test_a_deactivated_members_key_fails_on_every_api_process_within_a_second(
    client, api_processes, tenant
):
    member = active_member(client, tenant, "gone@example.com")
    secret = create_api_key(tenant.org.id, member_id=member["id"]).secret
    url = f"{api_processes.base_url}/v1/invoices"
    headers = {"Authorization": f"Bearer {secret}"}
    # A fresh connection per request, so both gunicorn workers answer some; the second
    # round, once their cache listeners are connected, is answered from their caches.
    assert all(HTTP.get(url, headers=headers).status_code == 200 for _ in range(6))
    time.sleep(0.5)
    assert all(HTTP.get(url, headers=headers).status_code == 200 for _ in range(6))
    client.post(f"/v1/members/{member['id']}/deactivate", headers=tenant.headers)
    # Each process forgets the keys it read when the change's notification reaches it
    # (milliseconds); then every request fails, whichever process answers it.
    wait_until(lambda: HTTP.get(url, headers=headers).status_code == 401, 1, interval=0.01)
    assert [HTTP.get(url, headers=headers).status_code for _ in range(10)] == [401] * 10
