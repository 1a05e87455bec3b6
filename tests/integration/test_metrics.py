"""The API's Prometheus `/metrics`: request latency by route, the backlog read at scrape
time, and refused to anyone but the addresses allowed (the in-process app; the real
processes are in test_supervisor.py)."""

from __future__ import annotations

import io
import re

from tests.support import make_text_pdf


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample `name` with exactly these labels, or None."""
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match is None:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if found == labels:
            return float(match.group(2))
    return None


def test_requests_are_counted_by_route_template_method_and_status(client, tenant):
    route = "/v1/invoices/<id(inv):invoice_id>"
    before = (
        sample(
            scrape(client),
            "invex_http_request_seconds_count",
            route=route,
            method="GET",
            status="404",
        )
        or 0
    )
    for invoice_id in ("inv_00000000000000000000000001", "inv_00000000000000000000000002"):
        assert client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers).status_code == 404
    after = sample(
        scrape(client), "invex_http_request_seconds_count", route=route, method="GET", status="404"
    )
    assert after == before + 2


def test_a_path_no_route_matches_is_counted_as_unmatched(client):
    client.get("/no/such/thing")
    text = scrape(client)
    assert sample(
        text, "invex_http_request_seconds_count", route="unmatched", method="GET", status="404"
    )
    assert "/no/such/thing" not in text


def test_waiting_jobs_and_credits_used_are_read_when_scraped(client, tenant):
    before = sample(scrape(client), "invex_credits_used_pages") or 0
    response = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_text_pdf(pages=2)), "invoice.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202
    text = scrape(client)
    assert sample(text, "invex_credits_used_pages") == before + 2
    for kind in ("extraction", "webhook_delivery", "export"):
        assert sample(text, "invex_jobs_waiting", kind=kind) is not None
        assert sample(text, "invex_oldest_waiting_job_seconds", kind=kind) is not None
    for queue in ("extract", "webhooks", "exports"):
        assert sample(text, "invex_queue_messages", queue=queue) is not None


def test_a_request_relayed_by_a_proxy_gets_404(client):
    response = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 404
    assert response.get_json()["error"]["type"]


def test_an_address_outside_the_allowed_networks_gets_404(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 404
