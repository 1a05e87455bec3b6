"""Accounting integrations against the local double of Xero and QuickBooks Online (a real
HTTP server, tests/doubles/accounting.py, checking every Xero request against Xero's
OpenAPI document): connect with state and PKCE, tokens encrypted, refresh under
concurrency, revocation, mappings, and publishing (the task run in this process)."""

from __future__ import annotations

import io
import os
import threading
from urllib.parse import parse_qs, urlsplit

import pytest

from common import db, secretbox
from common.config import get_settings
from common.integrations import service as connections
from tests.doubles.accounting import AccountingDouble
from tests.integration.test_api_contract import assert_contract_error
from tests.support import extract_now, make_text_pdf

SECRET_KEY = "test-secret-key-for-integrations-0123456789"


@pytest.fixture(scope="module")
def double(module_database):
    server = AccountingDouble()
    saved = {name: os.environ.get(name) for name in [*server.settings_env(), "INVEX_SECRET_KEY"]}
    os.environ.update({**server.settings_env(), "INVEX_SECRET_KEY": SECRET_KEY})
    get_settings.cache_clear()
    try:
        yield server
    finally:
        server.close()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _clean_double(double):
    yield
    with double.lock:
        double.failures.clear()
        double.violations.clear()
    double.refresh_delay = 0.0


def connect(client, tenant, double, provider: str) -> dict:
    started = client.post(f"/v1/integrations/{provider}/connect", headers=tenant.headers)
    assert started.status_code == 200, started.get_data(as_text=True)
    callback = double.consent(started.get_json()["authorization_url"])
    done = client.get(f"/v1/integrations/{provider}/callback", query_string=callback)
    assert done.status_code == 200, done.get_data(as_text=True)
    return done.get_json()


def status_of(client, tenant, provider: str) -> dict:
    listed = client.get("/v1/integrations/status", headers=tenant.headers).get_json()["data"]
    return next(entry for entry in listed if entry["provider"] == provider)


def stored_integration(tenant, provider: str) -> dict:
    with db.connection() as conn:
        row = conn.execute(
            "select * from integrations where org_id = %(org)s and provider = %(p)s",
            {"org": tenant.org.id, "p": provider},
        ).fetchone()
    assert row is not None
    return row


def expire_stored_token(tenant, provider: str) -> None:
    with db.connection() as conn:
        conn.execute(
            "update integrations set expires_at = now() - interval '1 minute'"
            " where org_id = %(org)s and provider = %(p)s",
            {"org": tenant.org.id, "p": provider},
        )


# --- connections -----------------------------------------------------------------------------


def test_a_provider_without_client_credentials_says_not_configured(client, tenant, monkeypatch):
    monkeypatch.setenv("INVEX_XERO_CLIENT_ID", "")
    get_settings.cache_clear()
    try:
        assert status_of(client, tenant, "xero")["status"] == "not_configured"
        response = client.post("/v1/integrations/xero/connect", headers=tenant.headers)
        assert_contract_error(response, 409, "integration_not_configured")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_connect_answers_an_authorization_url_with_state_and_an_s256_challenge(
    client, tenant, double
):
    response = client.post("/v1/integrations/xero/connect", headers=tenant.headers)
    assert response.status_code == 200
    body = response.get_json()
    url = urlsplit(body["authorization_url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == (
        f"{double.url}/xero/login/identity/connect/authorize"
    )
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32
    assert query["redirect_uri"] == body["redirect_uri"]
    assert body["redirect_uri"].endswith("/v1/integrations/xero/callback")
    again = client.post("/v1/integrations/xero/connect", headers=tenant.headers).get_json()
    assert parse_qs(urlsplit(again["authorization_url"]).query)["state"][0] != query["state"]


def test_connecting_xero_exchanges_the_code_with_the_pkce_verifier(client, tenant, double):
    connected = connect(client, tenant, double, "xero")
    assert connected["status"] == "connected"
    assert connected["tenant_id"] == double.XERO_TENANT
    assert connected["company_name"] == "Demo Company (UK)"
    exchange = double.made("xero", "POST", "/connect/token")[-1]
    form = parse_qs(exchange.body.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert len(form["code_verifier"][0]) >= 43  # the double checked its S256 against the URL


def test_connecting_quickbooks_looks_up_the_company_of_the_realm(client, tenant, double):
    connected = connect(client, tenant, double, "quickbooks")
    assert (connected["tenant_id"], connected["company_name"]) == (
        double.REALM,
        "Sandbox Company_US_1",
    )
    assert status_of(client, tenant, "quickbooks")["connected"] is True


def test_tokens_are_stored_encrypted_and_never_shown(client, tenant, double):
    connect(client, tenant, double, "xero")
    row = stored_integration(tenant, "xero")
    live = double.live_refresh_tokens("xero")
    assert secretbox.decrypt(row["refresh_token"]) in live
    assert row["refresh_token"] not in live
    shown = client.get("/v1/integrations/status", headers=tenant.headers).get_data(as_text=True)
    assert "token" not in shown
    assert secretbox.decrypt(row["access_token"]) not in shown


def test_a_wrong_state_is_refused(client, tenant, double):
    started = client.post("/v1/integrations/xero/connect", headers=tenant.headers).get_json()
    callback = double.consent(started["authorization_url"])
    forged = {**callback, "state": "not-the-state-we-sent"}
    response = client.get("/v1/integrations/xero/callback", query_string=forged)
    assert_contract_error(response, 400, "invalid_oauth_state")


def test_a_state_works_once(client, tenant, double):
    started = client.post("/v1/integrations/xero/connect", headers=tenant.headers).get_json()
    callback = double.consent(started["authorization_url"])
    assert client.get("/v1/integrations/xero/callback", query_string=callback).status_code == 200
    replay = client.get("/v1/integrations/xero/callback", query_string=callback)
    assert_contract_error(replay, 400, "invalid_oauth_state")


def test_a_state_of_one_provider_does_not_complete_the_other(client, tenant, double):
    started = client.post("/v1/integrations/xero/connect", headers=tenant.headers).get_json()
    callback = double.consent(started["authorization_url"])
    response = client.get("/v1/integrations/quickbooks/callback", query_string=callback)
    assert_contract_error(response, 400, "invalid_oauth_state")


def test_connecting_needs_settings_write(client, tenant):
    reader = tenant.new_key(scopes=["settings:read"])
    response = client.post(
        "/v1/integrations/xero/connect", headers={"Authorization": f"Bearer {reader}"}
    )
    assert_contract_error(response, 403, "insufficient_scope")


def test_an_unknown_provider_is_not_found(client, tenant):
    response = client.post("/v1/integrations/sage/connect", headers=tenant.headers)
    assert response.status_code == 404


def test_two_workers_refreshing_at_once_keep_the_connection(client, tenant, double):
    connect(client, tenant, double, "xero")
    first_token = secretbox.decrypt(stored_integration(tenant, "xero")["refresh_token"])
    expire_stored_token(tenant, "xero")
    double.refresh_delay = 0.3  # both arrive while the first refresh is under way
    refreshes_before = len(double.made("xero", "POST", "/connect/token"))
    results: list[object] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        try:
            results.append(connections.credentials(tenant.org.id, True, "xero"))
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(isinstance(r, connections.Credentials) for r in results), results
    assert len(double.made("xero", "POST", "/connect/token")) == refreshes_before + 1
    row = stored_integration(tenant, "xero")
    assert row["status"] == "connected"
    # the rotated refresh token is the one saved, and it still works
    rotated = secretbox.decrypt(row["refresh_token"])
    assert rotated != first_token
    assert rotated in double.live_refresh_tokens("xero")
    assert first_token not in double.live_refresh_tokens("xero")
    expire_stored_token(tenant, "xero")
    assert connections.credentials(tenant.org.id, True, "xero").access_token


def test_a_connection_revoked_at_the_provider_shows_in_status(client, other_tenant, double):
    connect(client, other_tenant, double, "quickbooks")
    double.revoke_everything("quickbooks")
    expire_stored_token(other_tenant, "quickbooks")
    with pytest.raises(Exception, match="connect again"):
        connections.credentials(other_tenant.org.id, True, "quickbooks")
    shown = status_of(client, other_tenant, "quickbooks")
    assert (shown["status"], shown["connected"]) == ("revoked", False)
    assert "invalid_grant" in shown["last_error"]


def test_disconnecting_revokes_the_refresh_token(client, other_tenant, double):
    connect(client, other_tenant, double, "xero")
    token = secretbox.decrypt(stored_integration(other_tenant, "xero")["refresh_token"])
    response = client.delete("/v1/integrations/xero", headers=other_tenant.headers)
    assert response.status_code == 200
    assert response.get_json()["status"] == "not_connected"
    assert token not in double.live_refresh_tokens("xero")
    assert stored_integration(other_tenant, "xero")["refresh_token"] is None


# --- mappings --------------------------------------------------------------------------------


def test_mappings_are_replaced_and_read_back_with_normalised_rates(client, tenant):
    response = client.put(
        "/v1/integrations/xero/mappings",
        headers=tenant.headers,
        json={"tax_codes": {"19": "INPUT2", "7.0": "INPUT7"}, "expense_account": "400"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    read = client.get("/v1/integrations/xero/mappings", headers=tenant.headers).get_json()
    assert read["tax_codes"] == {"19.00": "INPUT2", "7.00": "INPUT7"}
    assert read["expense_account"] == "400"


def test_a_mapping_rate_that_is_not_a_rate_is_refused(client, tenant):
    response = client.put(
        "/v1/integrations/xero/mappings", headers=tenant.headers, json={"tax_codes": {"x": "A"}}
    )
    assert_contract_error(response, 400, "validation_error")


# --- publishing ------------------------------------------------------------------------------

LINES = [
    {
        "description": "Widgets",
        "quantity": "2",
        "unit_price": 4000,
        "total_price": 8000,
        "tax_rate": "19.00",
    },
    {
        "description": "Delivery",
        "quantity": "1",
        "unit_price": 2000,
        "total_price": 2000,
        "tax_rate": "7.00",
    },
]


def approved_invoice(
    client, tenant, *, vendor: str = "ACME Supplies GmbH", tax_id: str = "DE123456789"
) -> dict:
    created = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_text_pdf()), "acme-0042.pdf")},
    ).get_json()
    assert extract_now(created["id"]) == "succeeded"
    patched = client.patch(
        f"/v1/invoices/{created['id']}",
        headers=tenant.headers,
        json={
            "vendor_name": vendor,
            "vendor_tax_id": tax_id,
            "currency": "EUR",
            "line_items": LINES,
        },
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)
    approved = client.post(f"/v1/invoices/{created['id']}/approve", headers=tenant.headers)
    assert approved.status_code == 200
    return approved.get_json()


def publish(client, tenant, invoice_id: str, target: str, **headers):
    return client.post(
        f"/v1/invoices/{invoice_id}/publish",
        headers={**tenant.headers, **headers},
        json={"target": target},
    )


def publish_now(publication_id: str) -> str:
    from workers.publish_tasks import publish_invoice

    return publish_invoice.apply(args=[publication_id]).get()


def set_mapping(client, tenant, provider: str, codes: dict, account: str) -> None:
    response = client.put(
        f"/v1/integrations/{provider}/mappings",
        headers=tenant.headers,
        json={"tax_codes": codes, "expense_account": account},
    )
    assert response.status_code == 200


def test_only_an_approved_invoice_is_published(client, tenant, double):
    created = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_text_pdf()), "a.pdf")},
    ).get_json()
    extract_now(created["id"])
    response = publish(client, tenant, created["id"], "xero")
    assert_contract_error(response, 409, "invoice_not_approved")


def test_publishing_to_a_provider_not_connected_is_refused(client, other_tenant, double):
    invoice = approved_invoice(client, other_tenant)
    response = publish(client, other_tenant, invoice["id"], "xero")  # disconnected above
    assert_contract_error(response, 409, "integration_not_connected")


def test_publishing_needs_the_target_s_scope(client, tenant):
    invoice = approved_invoice(client, tenant)
    qb_only = tenant.new_key(scopes=["publish:qb"])
    response = client.post(
        f"/v1/invoices/{invoice['id']}/publish",
        headers={"Authorization": f"Bearer {qb_only}"},
        json={"target": "xero"},
    )
    assert_contract_error(response, 403, "insufficient_scope")


def test_publishing_to_xero_creates_one_bill_with_lines_tax_codes_and_the_document(
    client, tenant, double
):
    connect(client, tenant, double, "xero")
    set_mapping(client, tenant, "xero", {"19.00": "INPUT2", "7.00": "INPUT7"}, "429")
    invoice = approved_invoice(client, tenant, vendor="Xero Vendor Ltd", tax_id="DE111111111")
    bills_before = len(double.xero_invoices)
    response = publish(client, tenant, invoice["id"], "xero", **{"Idempotency-Key": "pub-x-1"})
    assert response.status_code == 202, response.get_data(as_text=True)
    publication = response.get_json()
    assert publication["status"] == "queued"
    assert publish_now(publication["id"]) == "succeeded"

    assert double.violations == []
    assert len(double.xero_invoices) == bills_before + 1
    bill = double.xero_invoices[-1]
    assert bill["Type"] == "ACCPAY"
    assert bill["Reference"] == invoice["id"]
    assert [
        (line["Description"], line["Quantity"], line["UnitAmount"], line["TaxType"])
        for line in bill["LineItems"]
    ] == [("Widgets", 2.0, 40.0, "INPUT2"), ("Delivery", 1.0, 20.0, "INPUT7")]
    assert {line["AccountCode"] for line in bill["LineItems"]} == {"429"}
    contact = next(
        c for c in double.xero_contacts if c["ContactID"] == bill["Contact"]["ContactID"]
    )
    assert (contact["Name"], contact["TaxNumber"]) == ("Xero Vendor Ltd", "DE111111111")
    attachment = double.xero_attachments[-1]
    assert attachment["InvoiceID"] == bill["InvoiceID"]
    assert attachment["FileName"] == "acme-0042.pdf"
    assert attachment["data"].startswith(b"%PDF")
    assert (
        double.made("xero", "PUT", "/Invoices$")[-1].headers["Idempotency-Key"]
        == (publication["id"])
    )
    assert double.made("xero", "PUT", "/Attachments/")[-1].headers["Idempotency-Key"] == (
        f"{publication['id']}-attachment"
    )

    shown = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).get_json()
    assert [(p["target"], p["external_id"]) for p in shown["published"]] == [
        ("xero", bill["InvoiceID"])
    ]
    events = client.get(
        "/v1/events", headers=tenant.headers, query_string={"type": "invoice.published"}
    ).get_json()["data"]
    assert events[0]["data"]["object"]["id"] == invoice["id"]
    assert status_of(client, tenant, "xero")["last_sync"] is not None

    # a replay of the request, a new request and a second run of the task: no second bill
    replay = publish(client, tenant, invoice["id"], "xero", **{"Idempotency-Key": "pub-x-1"})
    assert replay.headers["Idempotent-Replayed"] == "true"
    again = publish(client, tenant, invoice["id"], "xero")
    assert again.get_json()["id"] == publication["id"]
    assert again.get_json()["status"] == "succeeded"
    assert publish_now(publication["id"]) == "skipped"
    assert len(double.xero_invoices) == bills_before + 1


def test_an_existing_xero_contact_is_found_by_tax_number(client, tenant, double):
    connect(client, tenant, double, "xero")
    with double.lock:
        double.xero_contacts.append(
            {"ContactID": "existing-contact", "Name": "Old Name Ltd", "TaxNumber": "GB999"}
        )
    invoice = approved_invoice(client, tenant, vendor="Renamed Supplier GmbH", tax_id="GB999")
    contacts_before = len(double.xero_contacts)
    publication = publish(client, tenant, invoice["id"], "xero").get_json()
    assert publish_now(publication["id"]) == "succeeded"
    assert double.xero_invoices[-1]["Contact"]["ContactID"] == "existing-contact"
    assert len(double.xero_contacts) == contacts_before


def test_publishing_to_quickbooks_creates_one_bill_with_tax_code_refs_and_the_document(
    client, tenant, double
):
    connect(client, tenant, double, "quickbooks")
    set_mapping(client, tenant, "quickbooks", {"19.00": "TAX19", "7.00": "TAX7"}, "7")
    invoice = approved_invoice(client, tenant, vendor="Intuit Vendor Inc")
    # the module's other tests publish to the same double, in any order
    bills_before, attachables_before = len(double.qb_bills), len(double.qb_attachables)
    publication = publish(client, tenant, invoice["id"], "quickbooks").get_json()
    assert publish_now(publication["id"]) == "succeeded"

    assert double.violations == []
    assert len(double.qb_bills) == bills_before + 1
    bill = double.qb_bills[-1]
    assert [
        (
            line["Amount"],
            line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"],
            line["AccountBasedExpenseLineDetail"]["TaxCodeRef"]["value"],
        )
        for line in bill["Line"]
    ] == [(80.0, "7", "TAX19"), (20.0, "7", "TAX7")]
    vendor = next(v for v in double.qb_vendors if v["Id"] == bill["VendorRef"]["value"])
    assert vendor["DisplayName"] == "Intuit Vendor Inc"
    assert len(double.qb_attachables) == attachables_before + 1
    attachable = double.qb_attachables[-1]
    assert attachable["AttachableRef"][0]["EntityRef"] == {
        "name": "",
        "type": "Bill",
        "value": bill["Id"],
    }
    assert attachable["data"].startswith(b"%PDF")
    assert double.made("quickbooks", "POST", "/bill$")[-1].query["requestid"] == [publication["id"]]
    assert publish_now(publication["id"]) == "skipped"
    assert len(double.qb_bills) == bills_before + 1


def test_a_bill_made_before_a_crash_is_not_made_again(client, tenant, double):
    """The worker died after the bill was stored but before the attachment: the next run
    attaches, and creates no second bill."""
    connect(client, tenant, double, "xero")
    invoice = approved_invoice(client, tenant, vendor="Crash Test Ltd")
    publication = publish(client, tenant, invoice["id"], "xero").get_json()
    double.fail_next("xero", "PUT", "/Attachments/", 400, body={"Message": "bad file"})
    assert publish_now(publication["id"]) == "failed"
    bills = len(double.xero_invoices)
    again = publish(client, tenant, invoice["id"], "xero").get_json()
    assert again["status"] == "queued"
    assert publish_now(again["id"]) == "succeeded"
    assert len(double.xero_invoices) == bills
    assert double.xero_attachments[-1]["InvoiceID"] == double.xero_invoices[-1]["InvoiceID"]


def test_a_provider_refusal_fails_the_publication_with_its_words(client, tenant, double):
    connect(client, tenant, double, "xero")
    invoice = approved_invoice(client, tenant, vendor="Refused Ltd")
    publication = publish(client, tenant, invoice["id"], "xero").get_json()
    double.fail_next(
        "xero",
        "PUT",
        "^/api.xro/2.0/Invoices$",
        400,
        body={"Elements": [{"ValidationErrors": [{"Message": "Account code '429' is archived"}]}]},
    )
    assert publish_now(publication["id"]) == "failed"
    events = client.get(
        "/v1/events", headers=tenant.headers, query_string={"type": "invoice.publish_failed"}
    ).get_json()["data"]
    failed = events[0]["data"]["object"]["publication"]
    assert failed["error"]["code"] == "provider_rejected"
    assert "Account code '429' is archived" in failed["error"]["message"]
    assert "archived" in status_of(client, tenant, "xero")["last_error"]


def test_the_xero_limiter_holds_calls_past_sixty_a_minute(settings):
    from common.integrations.limiter import TenantLimiter

    limiter = TenantLimiter(settings.redis_url, per_minute=3)
    assert [limiter.wait_for("tenant-a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.wait_for("tenant-a")
    assert 50 < wait <= 60
    assert limiter.wait_for("tenant-b") == 0.0


def test_a_retry_waits_the_provider_s_retry_after():
    from workers.publish_tasks import MAX_DELAY, retry_delay

    assert 7.0 <= retry_delay(0, 7.0) <= 7.5
    assert retry_delay(3, 10_000.0) <= MAX_DELAY
    assert 2.5 <= retry_delay(0, None) <= 5.0


def test_another_organisation_sees_none_of_the_connection(client, tenant, other_tenant, double):
    connect(client, tenant, double, "xero")
    shown = status_of(client, other_tenant, "xero")
    assert (shown["status"], shown["tenant_id"]) == ("not_connected", None)
    assert client.delete("/v1/integrations/xero", headers=other_tenant.headers).status_code == 404
    assert status_of(client, tenant, "xero")["connected"] is True


def test_the_xero_double_refuses_a_body_outside_xero_s_document(double):
    """The check the publishing tests rely on: a field Xero's schema does not name, or a
    value of the wrong type, is a violation."""
    import httpx

    with double.lock:
        double.access_tokens["probe"] = {"provider": "xero", "live": True, "expires": 4e9}
    response = httpx.put(
        f"{double.url}/xero/api/api.xro/2.0/Invoices",
        headers={"Authorization": "Bearer probe", "xero-tenant-id": double.XERO_TENANT},
        json={"Invoices": [{"Type": "ACCPAY", "LineItems": [{"Qty": 1, "UnitAmount": "x"}]}]},
    )
    assert response.status_code == 400
    assert "Qty" in double.violations[-1]
    assert "UnitAmount" in double.violations[-1]


def test_a_5xx_is_retried_and_the_bill_made_once(client, tenant, double):
    connect(client, tenant, double, "quickbooks")
    set_mapping(client, tenant, "quickbooks", {}, "7")
    invoice = approved_invoice(client, tenant, vendor="Flaky Provider Inc")
    publication = publish(client, tenant, invoice["id"], "quickbooks").get_json()
    bills = len(double.qb_bills)
    double.fail_next("quickbooks", "POST", "/bill$", 503)
    # run eagerly here, the retry follows at once (the worker's delay: test_publish_flow)
    assert publish_now(publication["id"]) == "succeeded"
    assert len(double.made("quickbooks", "POST", "/bill$")) >= 2
    assert len(double.qb_bills) == bills + 1


def test_past_xero_s_minute_a_call_is_not_made_and_retried_later(double, monkeypatch, settings):
    from common.integrations import limiter, providers
    from common.integrations.bills import bill_from_invoice
    from common.integrations.xero import XeroPublisher

    tight = limiter.TenantLimiter(settings.redis_url, per_minute=1)
    monkeypatch.setattr(limiter, "_limiter", tight)
    tenant_id = "tenant-over-its-minute"
    assert tight.wait_for(tenant_id) == 0.0
    creds = connections.Credentials(providers.provider("xero"), "unused", tenant_id)
    calls_before = len(double.requests)
    with pytest.raises(providers.ProviderError) as refused:
        XeroPublisher(creds).find_or_create_vendor(bill_from_invoice("inv_x", {}, {}))
    assert refused.value.status == 429
    assert 50 < refused.value.retry_after <= 60
    assert len(double.requests) == calls_before


def test_the_sweeper_resends_a_publication_whose_message_was_lost(client, tenant, double):
    from common.integrations.publishing import sweep_publications

    connect(client, tenant, double, "xero")
    invoice = approved_invoice(client, tenant, vendor="Lost Message Ltd")
    publication = publish(client, tenant, invoice["id"], "xero").get_json()
    with db.connection() as conn:
        conn.execute(
            "update publications set enqueued_at = now() - interval '1 hour' where id = %(id)s",
            {"id": publication["id"]},
        )
    assert sweep_publications(requeue_after=60)["publications_resent"] >= 1


def test_a_refused_access_token_is_refreshed_and_a_revoked_connection_told(client, tenant, double):
    connect(client, tenant, double, "xero")
    invoice = approved_invoice(client, tenant, vendor="Revoked Meanwhile Ltd")
    publication = publish(client, tenant, invoice["id"], "xero").get_json()
    double.revoke_everything("xero")  # the user removed Invex in Xero's settings
    assert publish_now(publication["id"]) == "failed"
    shown = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).get_json()
    assert shown["published"] == []
    assert status_of(client, tenant, "xero")["status"] == "revoked"
    events = client.get(
        "/v1/events", headers=tenant.headers, query_string={"type": "invoice.publish_failed"}
    ).get_json()["data"]
    assert events[0]["data"]["object"]["publication"]["error"]["code"] == (
        "integration_not_connected"
    )


def test_an_access_token_refused_early_is_refreshed_and_the_bill_made(client, tenant, double):
    connect(client, tenant, double, "quickbooks")
    set_mapping(client, tenant, "quickbooks", {}, "7")
    invoice = approved_invoice(client, tenant, vendor="Early Expiry Inc")
    publication = publish(client, tenant, invoice["id"], "quickbooks").get_json()
    refreshes = len(double.made("quickbooks", "POST", "/qb/token$"))
    double.expire_access_tokens()  # the provider ends the token before its expires_in
    assert publish_now(publication["id"]) == "succeeded"
    assert len(double.made("quickbooks", "POST", "/qb/token$")) == refreshes + 1


def test_an_unused_connection_is_refreshed_before_its_refresh_token_dies(client, tenant, double):
    from workers.publish_tasks import refresh_idle_connections_task

    connect(client, tenant, double, "xero")
    before = secretbox.decrypt(stored_integration(tenant, "xero")["refresh_token"])
    with db.connection() as conn:
        conn.execute(
            "update integrations set updated_at = now() - interval '31 days'"
            " where org_id = %(org)s",
            {"org": tenant.org.id},
        )
    outcome = refresh_idle_connections_task.apply().get()
    assert outcome["connections_refreshed"] >= 1
    after = secretbox.decrypt(stored_integration(tenant, "xero")["refresh_token"])
    assert after != before
    assert after in double.live_refresh_tokens("xero")
    # refreshed now: the next day's run leaves it alone
    assert refresh_idle_connections_task.apply().get()["connections_refreshed"] == 0


def test_the_quickbooks_double_refuses_keys_outside_intuit_s_schema(double):
    """The check the QuickBooks tests rely on: a key the XSD type lacks, at any depth."""
    import httpx

    with double.lock:
        double.access_tokens["qb-probe"] = {
            "provider": "quickbooks",
            "live": True,
            "expires": 4e9,
        }
    bill = {
        "VendorRef": {"value": "1"},
        "Line": [
            {
                "DetailType": "AccountBasedExpenseLineDetail",
                "Amount": 1.0,
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "7"}, "TaxCode": "X"},
            }
        ],
        "VendorReference": "1",
    }
    response = httpx.post(
        f"{double.url}/qb/api/v3/company/{double.REALM}/bill",
        params={"minorversion": "75"},
        headers={"Authorization": "Bearer qb-probe"},
        json=bill,
    )
    assert response.status_code == 400
    assert "/VendorReference" in double.violations[-1]
    assert "/Line/0/AccountBasedExpenseLineDetail/TaxCode" in double.violations[-1]


REFRESH_IN_A_PROCESS = """
import sys, time
from common import db
from common.config import get_settings
from common.integrations.service import credentials

db.configure(get_settings().database_url)
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # both start together
credentials(sys.argv[1], True, "xero")
"""


def test_two_worker_processes_refreshing_at_once_keep_the_connection(
    client, tenant, double, servers
):
    import subprocess
    import sys
    import time

    from tests.support import ROOT

    connect(client, tenant, double, "xero")
    first_token = secretbox.decrypt(stored_integration(tenant, "xero")["refresh_token"])
    expire_stored_token(tenant, "xero")
    double.refresh_delay = 0.5
    refreshes_before = len(double.made("xero", "POST", "/connect/token"))
    env = {**os.environ, "INVEX_DATABASE_URL": servers["database_url"]}
    start_at = str(time.time() + 3.0)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", REFRESH_IN_A_PROCESS, tenant.org.id, start_at],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    errors = [worker.communicate(timeout=60)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], errors
    assert len(double.made("xero", "POST", "/connect/token")) == refreshes_before + 1
    rotated = secretbox.decrypt(stored_integration(tenant, "xero")["refresh_token"])
    assert rotated != first_token
    assert rotated in double.live_refresh_tokens("xero")


def test_a_declined_consent_connects_nothing(client, tenant, double):
    started = client.post("/v1/integrations/quickbooks/connect", headers=tenant.headers)
    state = parse_qs(urlsplit(started.get_json()["authorization_url"]).query)["state"][0]
    response = client.get(
        "/v1/integrations/quickbooks/callback",
        query_string={"state": state, "error": "access_denied"},
    )
    assert_contract_error(response, 400, "invalid_request_error")
    assert "access_denied" in response.get_json()["error"]["message"]
    assert status_of(client, tenant, "quickbooks")["status"] == "not_connected"


def test_a_code_the_token_endpoint_refuses_answers_provider_error(client, tenant, double):
    started = client.post("/v1/integrations/xero/connect", headers=tenant.headers).get_json()
    callback = double.consent(started["authorization_url"])
    response = client.get(
        "/v1/integrations/xero/callback", query_string={**callback, "code": "forged-code"}
    )
    assert_contract_error(response, 502, "provider_error")
    assert status_of(client, tenant, "xero")["status"] == "not_connected"
