"""Dated versions: pinned by header or by the organisation's default, always echoed."""

from __future__ import annotations

import io

from common import db
from common.versions import LATEST
from tests.integration.test_api_contract import assert_contract_error
from tests.support import make_text_pdf

PDF = make_text_pdf()


def upload(client, tenant, version: str | None = None):
    headers = {**tenant.headers, **({"Invex-Version": version} if version else {})}
    return client.post("/v1/invoices", headers=headers, data={"file": (io.BytesIO(PDF), "a.pdf")})


def test_every_response_echoes_the_version(client):
    assert client.get("/v1/ping").headers["Invex-Version"] == LATEST
    pinned = client.get("/v1/ping", headers={"Invex-Version": "2026-06-01"})
    assert pinned.headers["Invex-Version"] == "2026-06-01"


def test_unknown_version_is_refused(client):
    response = client.get("/v1/ping", headers={"Invex-Version": "2020-01-01"})
    assert_contract_error(response, 400, "invalid_version")


def test_two_versions_render_the_same_invoice_differently(client, tenant):
    new = upload(client, tenant).get_json()
    old = upload(client, tenant, "2026-06-01").get_json()
    assert "duplicate_of" in new
    assert "is_duplicate" not in new
    assert "duplicate_of" not in old
    assert old["is_duplicate"] is True  # the same bytes as the first upload


def test_the_organisation_default_applies_without_a_header(client, tenant):
    with db.connection() as conn:
        conn.execute(
            "update orgs set api_version = '2026-06-01' where id = %(id)s", {"id": tenant.org.id}
        )
    response = client.get("/v1/invoices", headers=tenant.headers)
    assert response.headers["Invex-Version"] == "2026-06-01"
    upload(client, tenant)
    listed = client.get("/v1/invoices", headers=tenant.headers).get_json()["data"]
    assert "is_duplicate" in listed[0]
