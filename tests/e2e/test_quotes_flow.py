"""Quote to invoice end to end: a quote PDF uploaded and extracted by the real worker
becomes a received quote; it is accepted; the supplier's invoice at a higher price is
matched against it by the worker and carries `price_above_quote`; the quote events reach a
real webhook receiver."""

from __future__ import annotations

import pytest

from tests.e2e.test_extraction_flow import post_file
from tests.support import HIGHER_PRICE_TEXTS, QUOTE_TEXTS, Receiver, make_demo_pdf, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def test_an_invoice_above_its_accepted_quote_is_flagged(service, tenant, receiver):
    with service.client(tenant.secret) as http:
        hook = http.post(
            "/v1/webhooks",
            json={
                "url": receiver.url,
                "events": ["quote.received", "quote.accepted", "invoice.succeeded"],
            },
        )
        assert hook.status_code == 201, hook.text

        upload = post_file(http, make_demo_pdf(QUOTE_TEXTS), "angebot.pdf", wait="20").json()
        assert upload["status"] == "succeeded", upload
        assert upload["document_type"] == "quote"
        quotes = http.get("/v1/quotes", params={"status": "received"}).json()["data"]
        assert [q["upload_id"] for q in quotes] == [upload["id"]]
        quote = quotes[0]

        accepted = http.post(f"/v1/quotes/{quote['id']}/accept", json={"reason": "ok"})
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "accepted"

        invoice = post_file(
            http, make_demo_pdf(HIGHER_PRICE_TEXTS), "rechnung.pdf", wait="20"
        ).json()
        assert invoice["status"] == "succeeded", invoice
        assert invoice["matched_document"] == {
            "type": "quote",
            "id": quote["id"],
            "number": "AN-2026-0042",
        }
        warning = next(w for w in invoice["warnings"] if w["code"] == "price_above_quote")
        assert warning["line"] == 2
        assert "82.00 EUR" in warning["message"]

        def announced() -> bool:
            types = [e["type"] for e in receiver.events()]
            return {"quote.received", "quote.accepted"} <= set(types) and types.count(
                "invoice.succeeded"
            ) == 2

        wait_until(announced, 60, message="the events did not arrive")
        events = receiver.events()
        received = next(e for e in events if e["type"] == "quote.received")
        assert received["data"]["object"]["id"] == quote["id"]
        billed = next(
            e
            for e in events
            if e["type"] == "invoice.succeeded" and e["data"]["object"]["id"] == invoice["id"]
        )
        assert [w["code"] for w in billed["data"]["object"]["warnings"]] == ["price_above_quote"]
