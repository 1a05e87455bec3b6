"""Splitting's rules without worker processes: who may split, and recording a split twice
(a redelivered task) makes its documents once. The whole flow is in tests/e2e."""

from __future__ import annotations

import pytest

from common import db
from common.invoices import repository, service
from tests.integration.test_uploads import upload
from tests.support import make_text_pdf


def _stored(invoice_id: str) -> repository.Invoice:
    with db.connection() as conn:
        invoice = repository.get_invoice_by_id(conn, invoice_id)
    assert invoice is not None
    return invoice


def test_the_upload_says_else_the_organisation_default(client, tenant):
    two_pages = make_text_pdf(pages=2)
    default = upload(client, tenant, two_pages).get_json()
    assert service.may_split(_stored(default["id"]))

    service.set_split_default(tenant.org.id, False)
    off = upload(client, tenant, two_pages).get_json()
    assert not service.may_split(_stored(off["id"]))
    asked = upload(client, tenant, two_pages, split="true").get_json()
    assert service.may_split(_stored(asked["id"]))

    service.set_split_default(tenant.org.id, True)
    refused = upload(client, tenant, two_pages, split="false").get_json()
    assert not service.may_split(_stored(refused["id"]))


def test_one_page_files_and_xml_are_never_split(client, tenant):
    one_page = upload(client, tenant, make_text_pdf()).get_json()
    assert not service.may_split(_stored(one_page["id"]))


def test_an_unknown_organisation_is_named(settings):
    from common.errors import ResourceNotFound

    with pytest.raises(ResourceNotFound):
        service.set_split_default("org_doesnotexist", False)


def test_recording_a_split_twice_makes_its_documents_once(client, tenant):
    three_pages = make_text_pdf(pages=3)
    invoice_id = upload(client, tenant, three_pages).get_json()["id"]
    used = client.get("/v1/credits", headers=tenant.headers).get_json()["used"]
    claimed = service.claim_extraction(invoice_id, "task-1", lease_seconds=60)
    if claimed is None:  # the suite's e2e worker took it first; nothing to test here
        pytest.skip("a running worker claimed the invoice")
    parent = service.record_split(claimed, "task-1", three_pages, ((0, 0), (1, 2)), 3)
    assert parent is not None
    assert parent.status == "succeeded"
    assert [c["first_page"] for c in parent.fields["split_into"]] == [1, 2]
    again = service.record_split(claimed, "task-1", three_pages, ((0, 0), (1, 2)), 3)
    assert again is None  # the task no longer holds it: nothing recorded twice
    with db.connection() as conn:
        children = repository.split_children(conn, invoice_id)
    assert [(c.split_from or {}).get("last_page") for c in children] == [1, 3]
    assert [c.file_pages for c in children] == [1, 2]
    assert all(not service.may_split(c) for c in children)
    shown = client.get(f"/v1/invoices/{children[1].id}", headers=tenant.headers).get_json()
    assert shown["split_from"] == {"invoice": invoice_id, "first_page": 2, "last_page": 3}
    assert client.get("/v1/credits", headers=tenant.headers).get_json()["used"] == used
