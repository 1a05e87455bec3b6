"""Uploading, idempotency, listing and managing invoices through the API. No worker is
started for these tests, so invoices stay queued, unless the worker the suite's e2e tests
started is still running and takes one (tests/support.py extract_now): a test that waits
accepts both. Extraction is covered in tests/e2e."""

from __future__ import annotations

import io
import json
import threading

from tests.integration.test_api_contract import assert_contract_error
from tests.support import make_text_pdf, make_ubl_invoice


def upload(
    client,
    tenant,
    data: bytes | None = None,
    name: str = "invoice.pdf",
    headers: dict | None = None,
    **form,
):
    body = {"file": (io.BytesIO(data if data is not None else make_text_pdf()), name), **form}
    return client.post(
        "/v1/invoices",
        headers={**tenant.headers, **(headers or {})},
        data=body,
        content_type="multipart/form-data",
    )


def test_upload_creates_a_queued_invoice_with_its_file(client, tenant):
    pdf = make_text_pdf()
    response = upload(client, tenant, pdf, metadata=json.dumps({"po": "4711"}))
    assert response.status_code == 202
    invoice = response.get_json()
    assert invoice["id"].startswith("inv_")
    assert invoice["object"] == "invoice"
    assert invoice["status"] == "queued"
    assert invoice["review_status"] == "received"
    assert invoice["file"]["content_type"] == "application/pdf"
    assert invoice["file"]["size"] == len(pdf)
    assert invoice["metadata"] == {"po": "4711"}
    stored = client.get(f"/v1/invoices/{invoice['id']}/file", headers=tenant.headers)
    assert stored.status_code == 200
    assert stored.data == pdf


def test_type_is_sniffed_from_the_bytes_not_the_name(client, tenant):
    response = upload(client, tenant, make_ubl_invoice(), name="looks-like.pdf")
    assert response.get_json()["file"]["content_type"] == "application/xml"


def test_unknown_bytes_answer_unsupported_file_type(client, tenant):
    response = upload(client, tenant, b"MZ\x90\x00 this is an executable", name="x.pdf")
    assert_contract_error(response, 415, "unsupported_file_type")


def test_missing_file_names_the_param(client, tenant):
    response = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"wait": "1"},
        content_type="multipart/form-data",
    )
    assert assert_contract_error(response, 400, "validation_error")["param"] == "file"


def test_bad_metadata_names_the_param(client, tenant):
    response = upload(client, tenant, metadata="[1, 2]")
    assert assert_contract_error(response, 400, "validation_error")["param"] == "metadata"


def test_upload_over_the_limit_answers_file_too_large(client, tenant, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    big = b"%PDF-1.7\n" + b"0" * limit
    assert_contract_error(upload(client, tenant, big), 413, "file_too_large")


def test_replayed_upload_returns_the_same_invoice(client, tenant):
    pdf = make_text_pdf()
    first = upload(client, tenant, pdf, headers={"Idempotency-Key": "upload-1"})
    again = upload(client, tenant, pdf, headers={"Idempotency-Key": "upload-1"})
    assert again.status_code == first.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json() == {**first.get_json(), "_meta": {"idempotent_replay": True}}
    listed = client.get("/v1/invoices", headers=tenant.headers).get_json()["data"]
    assert len(listed) == 1


def test_a_replayed_upload_with_wait_answers_what_the_first_answered(client, tenant):
    pdf = make_text_pdf()
    headers = {"Idempotency-Key": "upload-wait"}
    # 202 and queued, or 200 and extracted if the suite's e2e worker is running by now
    first = upload(client, tenant, pdf, headers=headers, wait="1")
    again = upload(client, tenant, pdf, headers=headers, wait="1")
    assert again.status_code == first.status_code
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == {**first.get_json(), "_meta": {"idempotent_replay": True}}


def test_a_replay_for_a_client_on_an_older_version_has_that_version_s_shape(client, tenant):
    pdf = make_text_pdf()
    upload(client, tenant, pdf)
    old = {"Idempotency-Key": "old-shape", "Invex-Version": "2026-06-01"}
    first = upload(client, tenant, pdf, headers=old)
    again = upload(client, tenant, pdf, headers=old)
    assert first.get_json()["is_duplicate"] is True
    assert again.get_json() == {**first.get_json(), "_meta": {"idempotent_replay": True}}


def test_same_key_with_another_file_is_a_conflict(client, tenant):
    upload(client, tenant, make_text_pdf(), headers={"Idempotency-Key": "k"})
    other = upload(
        client, tenant, make_text_pdf(["Another invoice"]), headers={"Idempotency-Key": "k"}
    )
    assert_contract_error(other, 409, "idempotency_conflict")


def test_racing_identical_uploads_create_exactly_one_invoice(app, tenant):
    pdf = make_text_pdf()
    outcomes: list = []

    def send():
        with app.test_client() as own_client:
            outcomes.append(upload(own_client, tenant, pdf, headers={"Idempotency-Key": "race"}))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in outcomes)
    assert set(statuses) <= {202, 409}
    ids = {r.get_json()["id"] for r in outcomes if r.status_code == 202}
    assert len(ids) == 1
    for response in outcomes:
        if response.status_code == 409:
            assert response.get_json()["error"]["code"] == "idempotency_in_progress"
    with app.test_client() as own_client:
        listed = own_client.get("/v1/invoices", headers=tenant.headers).get_json()["data"]
    assert [i["id"] for i in listed] == list(ids)


def test_an_upload_refused_before_its_work_keeps_no_record_of_its_key(client, tenant):
    """As with Stripe: a request that failed validation stores no answer, so the client can
    correct it and retry under the same key."""
    headers = {"Idempotency-Key": "fix-and-retry"}
    refused = upload(client, tenant, b"MZ\x90\x00 not an invoice", headers=headers)
    assert_contract_error(refused, 415, "unsupported_file_type")
    retried = upload(client, tenant, make_text_pdf(), headers=headers)
    assert retried.status_code == 202, (retried.headers, retried.get_data())
    assert "Idempotent-Replayed" not in retried.headers


def test_a_key_whose_record_expired_still_returns_the_invoice_it_made(client, tenant):
    from common import db

    pdf = make_text_pdf()
    first = upload(client, tenant, pdf, headers={"Idempotency-Key": "old-key"}).get_json()
    with db.connection() as conn:
        conn.execute(
            "update idempotency_keys set created_at = now() - interval '25 hours'"
            " where key = 'old-key'"
        )
    again = upload(client, tenant, pdf, headers={"Idempotency-Key": "old-key"})
    assert again.status_code == 202
    assert "Idempotent-Replayed" not in again.headers  # the record was forgotten, not replayed
    assert again.get_json()["id"] == first["id"]
    listed = client.get("/v1/invoices", headers=tenant.headers).get_json()["data"]
    assert [i["id"] for i in listed] == [first["id"]]


def test_the_created_event_carries_the_invoice_as_the_upload_answered_it(client, tenant):
    pdf = make_text_pdf()
    upload(client, tenant, pdf)
    duplicate = upload(client, tenant, pdf).get_json()
    assert duplicate["duplicate_of"] is not None
    events = client.get("/v1/events", headers=tenant.headers).get_json()["data"]
    created = [e for e in events if e["type"] == "invoice.created"]
    assert created[0]["data"]["object"] == duplicate
    assert created[0]["data"]["object"]["created"] == duplicate["created"]


def test_an_invoice_is_created_at_the_moment_its_id_names(client, tenant):
    from common.ids import id_time

    invoice = upload(client, tenant).get_json()
    assert invoice["created"] == int(id_time(invoice["id"]).timestamp())


def test_ids_minted_by_the_database_have_the_form_of_the_others(settings):
    from ulid import ULID

    from common import db
    from common.ids import id_time, new_id

    before = new_id("dlv")
    with db.connection() as conn:
        rows = conn.execute(
            "select invex_new_id('dlv') as id from generate_series(1, 500)"
        ).fetchall()
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == 500
    for minted in ids:
        prefix, _, body = minted.partition("_")
        assert prefix == "dlv"
        assert str(ULID.from_str(body)) == body  # 26 characters of Crockford base32
        assert id_time(before) <= id_time(minted)
        assert (id_time(minted) - id_time(before)).total_seconds() < 5


def test_same_file_again_is_marked_duplicate(client, tenant):
    pdf = make_text_pdf()
    first = upload(client, tenant, pdf).get_json()
    second = upload(client, tenant, pdf).get_json()
    assert second["duplicate_of"] == first["id"]
    assert first["duplicate_of"] is None


def test_list_pages_newest_first_with_stable_cursors(client, tenant):
    ids = [
        upload(client, tenant, make_text_pdf([f"Invoice {n}"])).get_json()["id"] for n in range(5)
    ]
    page1 = client.get("/v1/invoices?limit=2", headers=tenant.headers).get_json()
    assert [i["id"] for i in page1["data"]] == ids[::-1][:2]
    assert page1["has_more"] is True
    # a new upload between pages does not shift the next page
    upload(client, tenant, make_text_pdf(["Invoice late"]))
    page2 = client.get(
        f"/v1/invoices?limit=2&cursor={page1['next_cursor']}", headers=tenant.headers
    ).get_json()
    assert [i["id"] for i in page2["data"]] == ids[::-1][2:4]
    page3 = client.get(
        f"/v1/invoices?limit=2&cursor={page2['next_cursor']}", headers=tenant.headers
    ).get_json()
    assert [i["id"] for i in page3["data"]] == ids[:1]
    assert page3["has_more"] is False
    assert page3["next_cursor"] is None


def uploads_with_vendors(client, tenant, vendors: list[str]) -> list[str]:
    """Invoices uploaded oldest first, their extracted vendor names set as given."""
    from common import db

    ids = []
    for n, vendor in enumerate(vendors):
        invoice_id = upload(client, tenant, make_text_pdf([f"Invoice {n}"])).get_json()["id"]
        with db.transaction() as conn:
            conn.execute(
                "update invoices set fields = jsonb_build_object('vendor_name', %(v)s::text)"
                " where id = %(id)s",
                {"v": vendor, "id": invoice_id},
            )
        ids.append(invoice_id)
    return ids


def vendor_page(client, tenant, query: str) -> list[str]:
    return [
        i["id"]
        for i in client.get(f"/v1/invoices?{query}", headers=tenant.headers).get_json()["data"]
    ]


def test_the_vendor_filter_is_a_case_insensitive_substring(client, tenant):
    ids = uploads_with_vendors(client, tenant, ["Zeder Office GmbH", "Acme", "zeder office KG"])

    assert vendor_page(client, tenant, "vendor=ZEDER%20office") == [ids[2], ids[0]]
    assert vendor_page(client, tenant, "vendor=50%25") == []  # % is a character, not a wildcard


def test_a_vendor_found_only_among_older_invoices_is_still_listed(client, tenant, monkeypatch):
    from common.invoices import repository

    # Beside another filter the vendor is first looked for among the two newest invoices,
    # which are another vendor's.
    monkeypatch.setattr(repository, "VENDOR_FIRST_LOOK", 2)
    ids = uploads_with_vendors(client, tenant, ["Zeder", "Other", "Zeder", "Other", "Other"])

    assert vendor_page(client, tenant, "vendor=zeder&status=queued") == [ids[2], ids[0]]
    assert vendor_page(client, tenant, "vendor=zeder&status=queued&limit=1") == [ids[2]]
    assert vendor_page(client, tenant, "vendor=zeder") == [ids[2], ids[0]]


def test_a_vendor_on_the_newest_invoices_fills_the_page_from_the_first_look(
    client, tenant, monkeypatch
):
    from common.invoices import repository

    monkeypatch.setattr(repository, "VENDOR_FIRST_LOOK", 3)
    ids = uploads_with_vendors(client, tenant, ["Zeder", "Zeder", "Other", "Zeder", "Zeder"])

    seen, cursor = [], ""
    while True:  # one per page: the first look holds the page and the next one's first row
        page = client.get(
            f"/v1/invoices?vendor=zeder&status=queued&limit=1{cursor}", headers=tenant.headers
        ).get_json()
        seen += [i["id"] for i in page["data"]]
        if not page["has_more"]:
            break
        cursor = f"&cursor={page['next_cursor']}"

    assert seen == [ids[4], ids[3], ids[1], ids[0]]


def test_list_filters_by_status(client, tenant):
    upload(client, tenant)
    queued = client.get("/v1/invoices?status=queued", headers=tenant.headers).get_json()
    done = client.get("/v1/invoices?status=succeeded", headers=tenant.headers).get_json()
    assert len(queued["data"]) == 1
    assert done["data"] == []


def test_list_filters_by_creation_time(client, tenant):
    from common import db

    earlier = upload(client, tenant).get_json()["id"]
    later = upload(client, tenant).get_json()["id"]
    with db.transaction() as conn:
        conn.execute(
            "update invoices set created_at = now() - interval '20 minutes' where id = %(id)s",
            {"id": earlier},
        )
        now = conn.execute("select extract(epoch from now())::bigint as t").fetchone()["t"]

    def listed(query: str) -> list[str]:
        body = client.get(f"/v1/invoices?{query}", headers=tenant.headers).get_json()
        return [invoice["id"] for invoice in body["data"]]

    ten_minutes_ago = now - 600
    assert listed(f"created_before={ten_minutes_ago}") == [earlier]
    assert listed(f"created_after={ten_minutes_ago}") == [later]
    assert listed(f"created_after={now - 3600}&created_before={now + 60}") == [later, earlier]


def test_bad_cursor_is_a_validation_error(client, tenant):
    response = client.get("/v1/invoices?cursor=%%%", headers=tenant.headers)
    assert assert_contract_error(response, 400, "validation_error")["param"] == "cursor"


def test_delete_removes_invoice_and_file(client, tenant):
    invoice_id = upload(client, tenant).get_json()["id"]
    deleted = client.delete(f"/v1/invoices/{invoice_id}", headers=tenant.headers)
    assert deleted.get_json() == {"id": invoice_id, "object": "invoice", "deleted": True}
    assert_contract_error(
        client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers), 404, "resource_not_found"
    )
    assert_contract_error(
        client.get(f"/v1/invoices/{invoice_id}/file", headers=tenant.headers),
        404,
        "resource_not_found",
    )


def test_reprocess_of_a_queued_invoice_changes_nothing(client, tenant):
    invoice = upload(client, tenant).get_json()
    again = client.post(f"/v1/invoices/{invoice['id']}/reprocess", headers=tenant.headers)
    assert again.status_code == 202
    assert again.get_json()["status"] == "queued"


class DictFileStore:
    """A file store that keeps bytes outside PostgreSQL, as object storage would."""

    in_upload_statement = False

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, conn, invoice_id: str, data: bytes) -> None:
        self.files[invoice_id] = data

    def get(self, conn, invoice_id: str) -> bytes | None:
        return self.files.get(invoice_id)

    def delete(self, conn, invoice_id: str) -> None:
        self.files.pop(invoice_id, None)


def test_a_file_store_outside_the_database_gets_the_bytes_instead_of_invoice_files(
    client, tenant, monkeypatch
):
    from common import db
    from common.invoices import service

    store = DictFileStore()
    monkeypatch.setattr(service, "file_store", lambda: store)
    pdf = make_text_pdf(["Stored elsewhere"])
    invoice = upload(client, tenant, pdf).get_json()
    assert store.files == {invoice["id"]: pdf}
    with db.connection() as conn:
        row = conn.execute(
            "select count(*) as n from invoice_files where invoice_id = %(id)s",
            {"id": invoice["id"]},
        ).fetchone()
    assert row["n"] == 0
    fetched = client.get(f"/v1/invoices/{invoice['id']}/file", headers=tenant.headers)
    assert fetched.data == pdf


def upload_with_query(client, tenant, query: str, **form):
    return client.post(
        f"/v1/invoices?{query}",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_text_pdf()), "invoice.pdf"), **form},
        content_type="multipart/form-data",
    )


def new_schema(client, tenant, name: str = "Cost centres", **extra) -> dict:
    response = client.post(
        "/v1/schemas",
        headers=tenant.headers,
        json={"name": name, "fields": [{"name": "cost_centre"}], **extra},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_schema_id_in_the_query_of_an_upload_is_used(client, tenant):
    schema = new_schema(client, tenant)
    response = upload_with_query(client, tenant, f"schema_id={schema['id']}")
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json()["schema_id"] == schema["id"]


def test_wait_in_the_query_of_an_upload_is_validated_as_in_the_form(client, tenant):
    error = assert_contract_error(
        upload_with_query(client, tenant, "wait=31"), 400, "validation_error"
    )
    assert error["param"] == "wait"


def test_a_parameter_in_query_and_form_with_different_values_is_refused(client, tenant):
    response = upload_with_query(client, tenant, "wait=0", wait="1")
    assert assert_contract_error(response, 400, "validation_error")["param"] == "wait"


def test_a_parameter_in_query_and_form_with_the_same_value_is_accepted(client, tenant):
    assert upload_with_query(client, tenant, "wait=0", wait="0").status_code == 202


def test_an_unknown_query_parameter_on_an_upload_is_refused(client, tenant):
    response = upload_with_query(client, tenant, "colour=blue")
    assert assert_contract_error(response, 400, "validation_error")["param"] == "colour"


def test_an_unknown_query_parameter_on_any_post_is_refused(client, tenant):
    response = client.post(
        "/v1/schemas?colour=blue", headers=tenant.headers, json={"name": "x", "fields": []}
    )
    assert assert_contract_error(response, 400, "validation_error")["param"] == "colour"
