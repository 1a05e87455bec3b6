"""The review web app through Flask's test client: sign-in and sessions, CSRF, roles, the
inbox, the invoice page, uploads, settings. In a browser: tests/e2e/test_web_browser.py."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from common import db
from tests.support import extract_now, make_text_pdf
from tests.support_web import PASSWORD, add_member, csrf_token_in, sign_in


@pytest.fixture
def member(tenant) -> str:
    email = f"reviewer-{tenant.org.id[-6:].lower()}@example.com"
    add_member(tenant.org.id, email, "member")
    return email


@pytest.fixture
def viewer(tenant) -> str:
    email = f"viewer-{tenant.org.id[-6:].lower()}@example.com"
    add_member(tenant.org.id, email, "viewer")
    return email


@pytest.fixture
def invoice_id(client, tenant) -> str:
    created = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_text_pdf()), "invoice.pdf")},
    ).get_json()
    assert extract_now(created["id"]) == "succeeded"
    return created["id"]


def test_pages_send_a_visitor_to_sign_in(client):
    response = client.get("/inbox")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=%2Finbox")
    assert client.get("/").headers["Location"] == "/inbox"


def test_sign_in_sets_a_secure_session_cookie_and_opens_the_inbox(client, member):
    response = sign_in(client, member)
    assert response.status_code == 302
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("invex_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http here; https sets it (next test)
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    assert "Inbox" in inbox.get_data(as_text=True)
    assert inbox.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in inbox.headers["Content-Security-Policy"]


def test_the_session_cookie_is_secure_over_https(client, member):
    page = client.get("/signin", base_url="https://localhost").get_data(as_text=True)
    response = client.post(
        "/signin",
        base_url="https://localhost",
        data={"email": member, "password": PASSWORD, "csrf_token": csrf_token_in(page)},
    )
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("invex_session=")
    )
    assert "Secure" in cookie


def test_a_wrong_password_is_refused_without_saying_which_part(client, member):
    response = sign_in(client, member, "not the password at all")
    assert response.status_code == 401
    assert "The email or the password is not right." in response.get_data(as_text=True)
    assert sign_in(client, "nobody@example.com").status_code == 401
    assert client.get("/inbox").status_code == 302


def test_sign_in_without_its_csrf_token_is_refused(client, member):
    client.get("/signin")
    response = client.post("/signin", data={"email": member, "password": PASSWORD})
    assert response.status_code == 403


def test_a_post_without_the_sessions_csrf_token_is_refused(client, member, invoice_id):
    sign_in(client, member)
    refused = client.post(f"/invoices/{invoice_id}/move/approve")
    assert refused.status_code == 403
    wrong = client.post(f"/invoices/{invoice_id}/move/approve", data={"csrf_token": "x" * 43})
    assert wrong.status_code == 403
    page = client.get(f"/invoices/{invoice_id}").get_data(as_text=True)
    assert "received" in page
    approved = client.post(
        f"/invoices/{invoice_id}/move/approve", data={"csrf_token": csrf_token_in(page)}
    )
    assert approved.status_code == 302
    assert "approved" in client.get(f"/invoices/{invoice_id}").get_data(as_text=True)


def test_sign_out_ends_the_session(client, member):
    sign_in(client, member)
    page = client.get("/inbox").get_data(as_text=True)
    assert client.post("/signout", data={"csrf_token": csrf_token_in(page)}).status_code == 302
    assert client.get("/inbox").status_code == 302


def test_an_idle_session_is_sent_to_sign_in_saying_it_expired(client, member):
    sign_in(client, member)
    with db.transaction() as conn:
        conn.execute(
            "update web_sessions set last_seen_at = now() - %(idle)s",
            {"idle": timedelta(hours=1)},
        )
    response = client.get("/inbox")
    assert response.status_code == 302
    assert "expired=1" in response.headers["Location"]
    assert "Your session has ended" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_a_session_ends_at_its_absolute_expiry_however_active(client, member):
    sign_in(client, member)
    with db.transaction() as conn:
        conn.execute("update web_sessions set expires_at = now() - interval '1 second'")
    assert client.get("/inbox").status_code == 302


def test_a_deactivated_member_loses_its_session(client, tenant, member):
    sign_in(client, member)
    with db.transaction() as conn:
        conn.execute("update members set status = 'inactive' where email = %(e)s", {"e": member})
    assert client.get("/inbox").status_code == 302


def test_the_app_ignores_api_keys_and_the_api_ignores_sessions(client, tenant, member):
    assert client.get("/inbox", headers=tenant.headers).status_code == 302
    sign_in(client, member)
    api = client.get("/v1/invoices")
    assert api.status_code == 401
    assert api.get_json()["error"]["code"] == "authentication_required"


def test_the_inbox_lists_filters_and_pages_invoices(client, member, invoice_id):
    sign_in(client, member)
    page = client.get("/inbox").get_data(as_text=True)
    assert f"/invoices/{invoice_id}" in page
    assert "Total of this page" in page
    assert f"/invoices/{invoice_id}" not in client.get("/inbox?review_status=approved").get_data(
        as_text=True
    )
    assert f"/invoices/{invoice_id}" not in client.get("/inbox?vendor=zzz-nobody").get_data(
        as_text=True
    )
    bad = client.get("/inbox?review_status=lost")
    assert bad.status_code == 400
    assert "review_status is one of" in bad.get_data(as_text=True)


def test_bulk_approve_approves_the_selected_invoices(client, member, invoice_id):
    sign_in(client, member)
    page = client.get("/inbox").get_data(as_text=True)
    response = client.post(
        "/inbox/approve",
        data={"csrf_token": csrf_token_in(page), "invoice_id": [invoice_id, "inv_missing"]},
    )
    assert response.status_code == 302
    assert (
        "Approved+1" in response.headers["Location"]
        or "Approved%201" in response.headers["Location"]
    )
    assert "approved" in client.get(f"/invoices/{invoice_id}").get_data(as_text=True)


def test_a_viewer_sees_no_approve_button_and_cannot_approve(client, viewer, invoice_id):
    sign_in(client, viewer)
    page = client.get(f"/invoices/{invoice_id}").get_data(as_text=True)
    assert "/move/approve" not in page
    assert "Approve selected" not in client.get("/inbox").get_data(as_text=True)
    refused = client.post(
        f"/invoices/{invoice_id}/move/approve", data={"csrf_token": csrf_token_in(page)}
    )
    assert refused.status_code == 403
    bulk = client.post(
        "/inbox/approve", data={"csrf_token": csrf_token_in(page), "invoice_id": invoice_id}
    )
    assert bulk.status_code == 403
    assert "received" in client.get(f"/invoices/{invoice_id}").get_data(as_text=True)


def test_a_field_corrected_on_the_page_is_kept_in_the_history(client, tenant, member, invoice_id):
    sign_in(client, member)
    page = client.get(f"/invoices/{invoice_id}").get_data(as_text=True)
    saved = client.post(
        f"/invoices/{invoice_id}/fields/total_amount",
        data={"csrf_token": csrf_token_in(page), "value": "123.45"},
    )
    assert saved.status_code == 302
    resource = client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers).get_json()
    assert resource["total_amount"] == 12345
    history = client.get(f"/v1/invoices/{invoice_id}/history", headers=tenant.headers).get_json()
    change = next(h for h in history["data"] if h["field"] == "total_amount")
    assert change["new"] == 12345
    assert change["key_id"].startswith("mem_")  # the member who made it
    assert f"by {member}" in client.get(f"/invoices/{invoice_id}").get_data(as_text=True)


def test_a_field_that_does_not_parse_is_refused_with_a_message(client, member, invoice_id):
    sign_in(client, member)
    page = client.get(f"/invoices/{invoice_id}").get_data(as_text=True)
    token = csrf_token_in(page)
    for name, value, message in (
        ("total_amount", "twelve", "not a number"),
        ("total_amount", "1.234", "at most 2 decimals"),
        ("invoice_date", "31/12/2026", "Invoice date"),
    ):
        response = client.post(
            f"/invoices/{invoice_id}/fields/{name}", data={"csrf_token": token, "value": value}
        )
        assert response.status_code == 302
        shown = client.get(response.headers["Location"]).get_data(as_text=True)
        assert message in shown, (name, value)


def test_the_page_image_is_rendered_once_then_served_from_the_cache(client, member, invoice_id):
    sign_in(client, member)
    first = client.get(f"/invoices/{invoice_id}/pages/1.png")
    assert first.status_code == 200
    assert first.data.startswith(b"\x89PNG")
    with db.connection() as conn:
        cached = conn.execute("select count(*) as n from page_images").fetchone()["n"]
        conn.execute("update page_images set png = %(png)s", {"png": b"cached"})
    assert cached >= 1
    assert client.get(f"/invoices/{invoice_id}/pages/1.png").data == b"cached"
    assert client.get(f"/invoices/{invoice_id}/pages/9.png").status_code == 404


def test_another_organisations_invoice_is_not_found(client, other_tenant, invoice_id):
    email = f"other-{other_tenant.org.id[-6:].lower()}@example.com"
    add_member(other_tenant.org.id, email, "owner")
    sign_in(client, email)
    assert client.get(f"/invoices/{invoice_id}").status_code == 404
    assert client.get(f"/invoices/{invoice_id}/pages/1.png").status_code == 404
    assert client.get(f"/invoices/{invoice_id}/download/original").status_code == 404


def test_downloads_and_comments(client, member, invoice_id):
    sign_in(client, member)
    original = client.get(f"/invoices/{invoice_id}/download/original")
    assert original.data.startswith(b"%PDF")
    assert client.get(f"/invoices/{invoice_id}/download/ubl").data.startswith(b"<?xml")
    page = client.get(f"/invoices/{invoice_id}").get_data(as_text=True)
    client.post(
        f"/invoices/{invoice_id}/comments",
        data={"csrf_token": csrf_token_in(page), "body": "Checked against the PO."},
    )
    assert "Checked against the PO." in client.get(f"/invoices/{invoice_id}").get_data(as_text=True)


def test_upload_through_the_app_answers_the_invoice_to_poll(client, member):
    sign_in(client, member)
    page = client.get("/upload").get_data(as_text=True)
    response = client.post(
        "/upload",
        headers={"X-CSRF-Token": csrf_token_in(page), "Accept": "application/json"},
        data={"file": (io.BytesIO(make_text_pdf()), "dropped.pdf")},
    )
    assert response.status_code == 202
    created = response.get_json()
    assert created["status"] == "queued"
    assert extract_now(created["id"]) == "succeeded"
    polled = client.get(created["status_url"]).get_json()
    assert polled["status"] == "succeeded"


def test_settings_show_members_and_create_a_key_shown_once(client, tenant):
    email = f"owner-{tenant.org.id[-6:].lower()}@example.com"
    add_member(tenant.org.id, email, "owner")
    sign_in(client, email)
    page = client.get("/settings").get_data(as_text=True)
    assert email in page
    created = client.post(
        "/settings/api-keys", data={"csrf_token": csrf_token_in(page), "name": "from the app"}
    ).get_data(as_text=True)
    secret = re.search(r'value="(invx_live_[0-9A-Za-z]{36})"', created)
    assert secret, "the new key's secret is shown"
    assert secret.group(1) not in client.get("/settings").get_data(as_text=True)  # only once


def test_set_password_refuses_a_short_password(tenant, member):
    from common.errors import ValidationFailed
    from common.sessions.service import set_password

    with pytest.raises(ValidationFailed):
        set_password(tenant.org.id, member, "short")


def _sign_in_from(app, email: str, password: str, ip: str):
    client = app.test_client()
    page = client.get("/signin", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True)
    return client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": csrf_token_in(page)},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_failed_sign_ins_are_limited_per_address_and_per_account(settings, member):
    from tests.integration.test_limits import limited_app

    app = limited_app(settings, auth_failures_per_minute=2)
    for _ in range(2):
        assert _sign_in_from(app, member, "wrong password!!", "198.18.7.1").status_code == 401
    # the account's budget is spent: even the right password from elsewhere waits
    limited = _sign_in_from(app, member, PASSWORD, "198.18.7.2")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    # the address's too, for any account
    assert _sign_in_from(app, "else@example.com", PASSWORD, "198.18.7.1").status_code == 429
    # another address and account are not held up
    assert _sign_in_from(app, "else@example.com", PASSWORD, "198.18.7.3").status_code == 401


def test_invex_members_set_password_reads_the_password_from_stdin(
    client, tenant, member, monkeypatch, capsys
):
    from common.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new passphrase\n"))
    assert main(["members", "set-password", "--org", tenant.org.id, "--email", member]) == 0
    assert "password set" in capsys.readouterr().out
    assert sign_in(client, member).status_code == 401  # the old one no longer works
    assert sign_in(client, member, "a brand new passphrase").status_code == 302


def test_the_sweeper_deletes_ended_sessions(client, member):
    from workers.tasks import sweep_overdue_work

    sign_in(client, member)
    with db.transaction() as conn:
        conn.execute("update web_sessions set expires_at = now() - interval '1 second'")
    assert sweep_overdue_work.apply().get()["web_sessions_purged"] >= 1
    with db.connection() as conn:
        assert conn.execute("select count(*) as n from web_sessions").fetchone()["n"] == 0


def test_an_invited_member_sets_a_password_through_the_link_once(client, tenant):
    owner = f"boss-{tenant.org.id[-6:].lower()}@example.com"
    add_member(tenant.org.id, owner, "owner")
    sign_in(client, owner)
    page = client.get("/settings").get_data(as_text=True)
    invited = client.post(
        "/settings/members",
        data={
            "csrf_token": csrf_token_in(page),
            "email": "newbie@example.com",
            "name": "New Bie",
            "role": "viewer",
        },
    ).get_data(as_text=True)
    link = re.search(r'value="http://localhost(/invitations/[^"]+)"', invited)
    assert link, "the invitation link is shown"
    guest = client.application.test_client()
    form = guest.get(link.group(1)).get_data(as_text=True)
    assert "newbie@example.com" in form
    differ = guest.post(
        link.group(1),
        data={
            "csrf_token": csrf_token_in(form),
            "password": PASSWORD,
            "password_again": PASSWORD + "x",
        },
    )
    assert differ.status_code == 400
    form = differ.get_data(as_text=True)
    accepted = guest.post(
        link.group(1),
        data={"csrf_token": csrf_token_in(form), "password": PASSWORD, "password_again": PASSWORD},
    )
    assert accepted.status_code == 302
    inbox = guest.get("/inbox").get_data(as_text=True)
    assert "viewer" in inbox  # signed in, as the role it was given
    assert guest.get(link.group(1)).status_code == 404  # used once


def test_set_password_can_create_the_first_owner(client, tenant, monkeypatch):
    from common.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    email = f"first-{tenant.org.id[-6:].lower()}@example.com"
    argv = ["members", "set-password", "--org", tenant.org.id, "--email", email]
    assert main([*argv, "--create-as", "owner"]) == 0
    assert sign_in(client, email).status_code == 302
    assert "owner" in client.get("/inbox").get_data(as_text=True)


def test_set_password_names_a_missing_member(tenant, capsys, monkeypatch):
    from common.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    argv = ["members", "set-password", "--org", tenant.org.id, "--email", "ghost@example.com"]
    assert main(argv) == 1
    assert "resource_not_found" in capsys.readouterr().err


def test_field_boxes_point_at_where_each_value_is_printed(client, member, invoice_id):
    sign_in(client, member)
    boxes = client.get(f"/invoices/{invoice_id}/boxes.json").get_json()
    number = boxes["invoice_number"][0]
    assert number["page"] == 1
    # make_text_pdf prints the number on its third line, 72 pt from the left of an A4 page
    assert 0.1 < number["x"] < 0.5
    assert 0.1 < number["y"] < 0.2
    assert boxes["total_amount"][0]["y"] > number["y"]  # printed lower down


def test_printed_forms_of_an_amount():
    from common.invoices.field_boxes import printed_forms

    assert printed_forms("total_amount", 123456, "EUR") == ["1,234.56", "1.234,56", "1234.56"]
    assert printed_forms("total_amount", 1500, "JPY") == ["1,500", "1.500", "1500"]
    assert printed_forms("invoice_number", "7", None) == []
    assert printed_forms("vendor_address", "1 Main St\nSpringfield", None) == ["1 Main St"]


@pytest.fixture
def owner(client, tenant) -> str:
    email = f"owner-{tenant.org.id[-6:].lower()}@example.com"
    add_member(tenant.org.id, email, "owner")
    sign_in(client, email)
    return email


def test_settings_manage_webhooks_their_deliveries_and_keys(client, tenant, owner, member):
    page = client.get("/settings").get_data(as_text=True)
    token = csrf_token_in(page)
    created = client.post(
        "/settings/webhooks",
        data={"csrf_token": token, "url": "http://127.0.0.1:9/hook", "events": ""},
    ).get_data(as_text=True)
    from common.signing import SECRET_PREFIX

    assert f'value="{SECRET_PREFIX}' in created  # the signing secret, shown once
    endpoint_id = re.search(r"/settings/webhooks/(whk_[0-9A-Za-z]+)", created).group(1)
    tested = client.post(f"/settings/webhooks/{endpoint_id}/test", data={"csrf_token": token})
    assert tested.status_code == 302
    deliveries = client.get(tested.headers["Location"]).get_data(as_text=True)
    assert "Test event sent." in deliveries
    delivery_id = re.search(r"(dlv_[0-9A-Za-z]+)", deliveries).group(1)
    retried = client.post(
        f"/settings/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry",
        data={"csrf_token": token},
    )
    assert retried.status_code == 302  # no sender holds it: nothing runs in this module
    disabled = client.post(f"/settings/webhooks/{endpoint_id}/disable", data={"csrf_token": token})
    assert "Endpoint disabled." in client.get(disabled.headers["Location"]).get_data(as_text=True)
    rotated = client.post(
        f"/settings/webhooks/{endpoint_id}/rotate-secret", data={"csrf_token": token}
    ).get_data(as_text=True)
    assert "keeps signing beside it for 24 hours" in rotated
    assert f'value="{SECRET_PREFIX}' in rotated

    key = client.post("/settings/api-keys", data={"csrf_token": token, "name": "to revoke"})
    key_id = re.search(r"(key_[0-9A-Za-z]+)", client.get("/settings").get_data(as_text=True))
    assert key.status_code == 200
    revoked = client.post(
        f"/settings/api-keys/{key_id.group(1)}/revoke", data={"csrf_token": token}
    )
    assert "revoked" in client.get(revoked.headers["Location"]).get_data(as_text=True)

    with db.connection() as conn:
        member_id = conn.execute(
            "select id from members where email = %(e)s", {"e": member}
        ).fetchone()["id"]
    assert f"/settings/members/{member_id}/role" in client.get("/settings").get_data(as_text=True)
    changed = client.post(
        f"/settings/members/{member_id}/role", data={"csrf_token": token, "role": "viewer"}
    )
    assert "Role changed." in client.get(changed.headers["Location"]).get_data(as_text=True)


def test_a_viewer_sees_settings_without_keys_or_changes(client, viewer):
    sign_in(client, viewer)
    page = client.get("/settings").get_data(as_text=True)
    assert "Plan and credits" in page
    assert "Create key" not in page
    assert "Invite" not in page
    refused = client.post(
        "/settings/api-keys", data={"csrf_token": csrf_token_in(page), "name": "nope"}
    )
    assert refused.status_code == 403


def test_an_image_upload_has_its_page_rendered(client, tenant, member):
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(picture, format="PNG")
    created = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(picture.getvalue()), "photo.png")},
    ).get_json()
    sign_in(client, member)
    image = client.get(f"/invoices/{created['id']}/pages/1.png")
    assert image.status_code == 200
    assert image.data.startswith(b"\x89PNG")
    assert client.get(f"/invoices/{created['id']}/pages/2.png").status_code == 404
    assert client.get(f"/invoices/{created['id']}/boxes.json").get_json() == {}


def test_an_xml_invoice_is_shown_as_the_pdf_drawn_from_its_fields(client, tenant, member):
    from tests.support import make_ubl_invoice

    created = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_ubl_invoice()), "invoice.xml")},
    ).get_json()
    assert extract_now(created["id"]) == "succeeded"
    sign_in(client, member)
    assert client.get(f"/invoices/{created['id']}/pages/1.png").data.startswith(b"\x89PNG")
    assert "UBL-7" in client.get(f"/invoices/{created['id']}").get_data(as_text=True)


def test_an_unexpected_error_shows_a_page_not_a_trace(client, member, monkeypatch, caplog):
    from common.invoices import service

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    sign_in(client, member)
    monkeypatch.setattr(service, "list_invoices", broken)
    response = client.get("/inbox")
    assert response.status_code == 500
    assert "safe to retry" in response.get_data(as_text=True)
    assert "boom" not in response.get_data(as_text=True)
    assert "unhandled error on page" in caplog.text


def test_the_request_log_keeps_invitation_secrets_out(settings, caplog):
    import dataclasses
    import logging

    from api.app import create_app
    from common import logs
    from common.config import get_settings

    app = create_app(dataclasses.replace(get_settings(), log_format="json"))
    try:
        with caplog.at_level(logging.INFO, logger="api.requests"):
            app.test_client().get("/invitations/a-secret-token-from-an-email")
            app.test_client().get("/signin")
    finally:  # the process's logging as the other tests have it
        logs.configure_logging(settings.log_level, settings.log_format)
    lines = [r.getMessage() for r in caplog.records if r.name == "api.requests"]
    assert any("/invitations/<token>" in line for line in lines)
    assert any("/signin" in line for line in lines)
    assert not any("a-secret-token" in line for line in lines)


def test_the_session_cookie_is_secure_behind_a_trusted_https_proxy(settings, member):
    import dataclasses
    import ipaddress

    from api.app import create_app
    from common.config import get_settings

    proxy = ipaddress.ip_network("10.0.0.0/8")
    app = create_app(dataclasses.replace(get_settings(), trusted_proxies=(proxy,)))

    def session_cookie(remote: str) -> str:
        client = app.test_client()
        environ = {"REMOTE_ADDR": remote}
        page = client.get("/signin", environ_base=environ).get_data(as_text=True)
        response = client.post(
            "/signin",
            data={"email": member, "password": PASSWORD, "csrf_token": csrf_token_in(page)},
            headers={"X-Forwarded-Proto": "https"},
            environ_base=environ,
        )
        return next(
            c for c in response.headers.getlist("Set-Cookie") if c.startswith("invex_session=")
        )

    assert "Secure" in session_cookie("10.1.2.3")
    assert "Secure" not in session_cookie("192.0.2.7")  # anyone can send the header


def test_boxes_come_from_the_extraction_and_else_from_the_text_layer(client, member, invoice_id):
    sign_in(client, member)
    with db.connection() as conn:
        stored = conn.execute(
            "select fields->'field_sources' as s from invoices where id = %(id)s",
            {"id": invoice_id},
        ).fetchone()["s"]
    assert stored["invoice_number"]["page"] == 1  # the extraction recorded the line it read
    from_extraction = client.get(f"/invoices/{invoice_id}/boxes.json").get_json()
    assert from_extraction["invoice_number"] == [stored["invoice_number"]]
    with db.transaction() as conn:
        conn.execute(
            "update invoices set fields = fields - 'field_sources' where id = %(id)s",
            {"id": invoice_id},
        )
    searched = client.get(f"/invoices/{invoice_id}/boxes.json").get_json()
    # the value alone, right of its label on the same line
    assert searched["invoice_number"][0]["x"] > stored["invoice_number"]["x"]
    assert abs(searched["invoice_number"][0]["y"] - stored["invoice_number"]["y"]) < 0.01


def test_a_split_upload_links_its_documents_and_each_names_its_pages(client, tenant, member):
    import pymupdf

    from training import synth

    batch = pymupdf.open()
    for seed in (3, 5):
        with pymupdf.open(stream=synth.generate(seed).pdf, filetype="pdf") as part:
            batch.insert_pdf(part)
    created = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(batch.tobytes()), "batch.pdf")},
    ).get_json()
    assert extract_now(created["id"]) == "succeeded"  # the upload's status; its documents queue
    parent = client.get(f"/v1/invoices/{created['id']}", headers=tenant.headers).get_json()
    first = parent["split_into"][0]["invoice"]
    sign_in(client, member)
    page = client.get(f"/invoices/{created['id']}").get_data(as_text=True)
    assert "This file held 2 documents" in page
    assert f"/invoices/{first}" in page
    child = client.get(f"/invoices/{first}").get_data(as_text=True)
    assert f'Pages 1&ndash;1 of <a href="/invoices/{created["id"]}"' in child
