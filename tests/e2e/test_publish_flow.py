"""Publishing end to end: gunicorn, a real `publish` worker and the webhook worker against
the local Xero and QuickBooks double. Connect through the API and the provider's consent,
approve an invoice, publish it to each provider, see `invoice.published` delivered; a 429
from Xero is retried after its Retry-After by the worker."""

from __future__ import annotations

import pytest

from tests.doubles.accounting import AccountingDouble
from tests.e2e.test_extraction_flow import post_file
from tests.support import Receiver, ServiceProcesses, make_text_pdf, wait_until

pytestmark = pytest.mark.slow
# Its service has the accounting double's settings: a database of its own.
OWN_SERVICE = True

SECRET_KEY = "e2e-secret-key-for-the-publish-flow-0123456789"


@pytest.fixture(scope="module")
def double():
    server = AccountingDouble()
    yield server
    server.close()


@pytest.fixture(scope="module")
def publish_service(module_database, servers, double):
    processes = ServiceProcesses(
        servers["database_url"],
        servers["redis_url"],
        INVEX_SECRET_KEY=SECRET_KEY,
        **double.settings_env(),
    )
    processes.start()
    processes.start_publish_worker()
    try:
        yield processes
    finally:
        processes.stop()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def connect(http, double, provider: str) -> None:
    started = http.post(f"/v1/integrations/{provider}/connect")
    assert started.status_code == 200, started.text
    callback = double.consent(started.json()["authorization_url"])
    # the browser's return from the provider: no API key
    done = http.get(
        f"/v1/integrations/{provider}/callback", params=callback, headers={"Authorization": ""}
    )
    assert done.status_code == 200, done.text
    mapping = {"tax_codes": {"19": "INPUT2" if provider == "xero" else "TAX19"}}
    mapping["expense_account"] = "429" if provider == "xero" else "7"
    assert http.put(f"/v1/integrations/{provider}/mappings", json=mapping).status_code == 200


def approved_invoice(http) -> dict:
    invoice = post_file(http, make_text_pdf(), wait="20").json()
    assert invoice["status"] == "succeeded", invoice
    approved = http.post(f"/v1/invoices/{invoice['id']}/approve")
    assert approved.status_code == 200, approved.text
    return approved.json()


def published_events(receiver: Receiver, target: str) -> list[dict]:
    return [
        e
        for e in receiver.events()
        if e["type"] == "invoice.published"
        and e["data"]["object"]["publication"]["target"] == target
    ]


@pytest.mark.parametrize("target", ["xero", "quickbooks"])
def test_an_approved_invoice_is_published_and_announced(
    publish_service, tenant, double, receiver, target
):
    with publish_service.client(tenant.secret) as http:
        hook = http.post(
            "/v1/webhooks",
            json={"url": receiver.url, "events": ["invoice.published", "invoice.publish_failed"]},
        )
        assert hook.status_code == 201, hook.text
        connect(http, double, target)
        invoice = approved_invoice(http)
        response = http.post(
            f"/v1/invoices/{invoice['id']}/publish",
            json={"target": target},
            headers={"Idempotency-Key": f"e2e-{target}"},
        )
        assert response.status_code == 202, response.text

        wait_until(lambda: published_events(receiver, target), 60, message="no invoice.published")
        event = published_events(receiver, target)[0]
        published = event["data"]["object"]["published"]
        assert [p["target"] for p in published] == [target]
        bills = double.xero_invoices if target == "xero" else double.qb_bills
        external = bills[-1]["InvoiceID"] if target == "xero" else bills[-1]["Id"]
        assert published[0]["external_id"] == external
        shown = http.get(f"/v1/invoices/{invoice['id']}").json()
        assert shown["published"] == published
        status = next(
            s for s in http.get("/v1/integrations/status").json()["data"] if s["provider"] == target
        )
        assert status["connected"] is True
        assert status["last_sync"] is not None
    assert double.violations == []


def test_a_429_is_retried_after_its_retry_after(publish_service, tenant, double, receiver):
    with publish_service.client(tenant.secret) as http:
        http.post("/v1/webhooks", json={"url": receiver.url, "events": ["invoice.published"]})
        connect(http, double, "xero")
        invoice = approved_invoice(http)
        bills_before = len(double.xero_invoices)
        double.fail_next("xero", "PUT", "^/api.xro/2.0/Invoices$", 429, retry_after=3)
        assert (
            http.post(f"/v1/invoices/{invoice['id']}/publish", json={"target": "xero"}).status_code
            == 202
        )
        wait_until(lambda: published_events(receiver, "xero"), 60, message="not published")
    tries = double.made("xero", "PUT", "^/xero/api/api.xro/2.0/Invoices$")[-2:]
    assert tries[1].at - tries[0].at >= 3.0
    assert len(double.xero_invoices) == bills_before + 1
