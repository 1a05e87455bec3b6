"""Exports through the API: create (idempotent), list, get, download (ranges, ETag), delete,
tenant isolation, scopes, filters; the task run in this process, the sweeper's recovery and
expiry against the real database."""

from __future__ import annotations

import csv
import io

import pytest

from common import db
from tests.integration.test_api_contract import assert_contract_error
from tests.support import export_now, extract_now, make_text_pdf


def upload(client, tenant, number: str, vendor: str, total: str) -> dict:
    pdf = make_text_pdf(
        [
            vendor,
            "Invoice",
            f"Invoice number: {number}",
            "Invoice date: 2026-03-14",
            "Subtotal: 100.00 EUR",
            "VAT 19%: 19.00 EUR",
            f"Total: {total} EUR",
        ]
    )
    created = client.post(
        "/v1/invoices", headers=tenant.headers, data={"file": (io.BytesIO(pdf), f"{number}.pdf")}
    ).get_json()
    assert extract_now(created["id"]) == "succeeded"
    return client.get(f"/v1/invoices/{created['id']}", headers=tenant.headers).get_json()


@pytest.fixture
def two_invoices(client, tenant) -> tuple[dict, dict]:
    """An approved invoice and one only received."""
    approved = upload(client, tenant, "INV-A-1", "ACME Supplies GmbH", "119.00")
    response = client.post(f"/v1/invoices/{approved['id']}/approve", headers=tenant.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    received = upload(client, tenant, "INV-B-2", "Beta Parts Ltd", "119.00")
    return approved, received


def create(client, tenant, **body) -> dict:
    response = client.post("/v1/exports", headers=tenant.headers, json=body)
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()


def finished(client, tenant, **body) -> dict:
    export = create(client, tenant, **body)
    assert export_now(export["id"]) == "succeeded"
    return client.get(f"/v1/exports/{export['id']}", headers=tenant.headers).get_json()


def download(client, tenant, export: dict, **headers):
    return client.get(f"/v1/exports/{export['id']}/download", headers={**tenant.headers, **headers})


def test_create_answers_202_with_a_queued_export(client, tenant):
    export = create(client, tenant, format="csv", review_status="approved", bom=True)
    assert export["id"].startswith("exp_")
    assert export["object"] == "export"
    assert export["status"] == "queued"
    assert export["format"] == "csv"
    assert export["filters"] == {"review_status": "approved"}
    assert export["bom"] is True
    assert export["include_files"] is False
    for name in ("invoice_count", "size", "sha256", "completed", "expires_at", "error"):
        assert export[name] is None


def test_replayed_create_returns_the_same_export(client, tenant):
    headers = {**tenant.headers, "Idempotency-Key": "export-once"}
    first = client.post("/v1/exports", headers=headers, json={"format": "json"})
    again = client.post("/v1/exports", headers=headers, json={"format": "json"})
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    listed = client.get("/v1/exports", headers=tenant.headers).get_json()["data"]
    assert [e["id"] for e in listed] == [first.get_json()["id"]]


def test_same_key_with_another_body_is_a_conflict(client, tenant):
    headers = {**tenant.headers, "Idempotency-Key": "export-twice"}
    client.post("/v1/exports", headers=headers, json={"format": "json"})
    response = client.post("/v1/exports", headers=headers, json={"format": "csv"})
    assert_contract_error(response, 409, "idempotency_conflict")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"format": "xlsx"}, "format"),
        ({}, "format"),
        ({"format": "csv", "review_status": "lost"}, "review_status"),
        ({"format": "csv", "date_from": "14/03/2026"}, "date_from"),
        ({"format": "csv", "colour": "blue"}, "colour"),
        ({"format": "datev", "datev": {"client_number": 0}}, "datev.client_number"),
    ],
)
def test_invalid_request_names_the_param(client, tenant, body, param):
    response = client.post("/v1/exports", headers=tenant.headers, json=body)
    assert assert_contract_error(response, 400, "validation_error")["param"] == param


def test_list_is_newest_first_and_paginates(client, tenant):
    made = [create(client, tenant, format="csv")["id"] for _ in range(3)]
    first = client.get("/v1/exports?limit=2", headers=tenant.headers).get_json()
    assert [e["id"] for e in first["data"]] == made[::-1][:2]
    assert first["has_more"] is True
    second = client.get(
        f"/v1/exports?limit=2&cursor={first['next_cursor']}", headers=tenant.headers
    ).get_json()
    assert [e["id"] for e in second["data"]] == [made[0]]
    assert second["has_more"] is False


def test_succeeded_export_holds_only_the_filtered_invoices(client, tenant, two_invoices):
    approved, _ = two_invoices
    export = finished(client, tenant, format="csv", review_status="approved")
    assert export["status"] == "succeeded"
    assert export["invoice_count"] == 1
    assert export["expires_at"] > export["completed"] >= export["created"]
    rows = list(
        csv.DictReader(io.StringIO(download(client, tenant, export).get_data(as_text=True)))
    )
    assert [(r["id"], r["invoice_number"], r["total_amount"]) for r in rows] == [
        (approved["id"], "INV-A-1", "119.00")
    ]


def test_vendor_and_date_filters_select_as_the_list_does(client, tenant, two_invoices):
    _, received = two_invoices
    export = finished(client, tenant, format="json", vendor="beta", date_from="2026-03-01")
    lines = download(client, tenant, export).get_data().splitlines()
    assert len(lines) == export["invoice_count"] == 1
    assert b'"id":"' + received["id"].encode() in lines[0]
    nothing = finished(client, tenant, format="json", vendor="beta", date_to="2026-01-01")
    assert nothing["invoice_count"] == 0
    assert download(client, tenant, nothing).get_data() == b""


def test_download_names_the_file_and_its_checksum(client, tenant, two_invoices):
    export = finished(client, tenant, format="csv")
    response = download(client, tenant, export)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="invex-export-{export["id"]}.csv"'
    )
    assert response.headers["ETag"] == f'"{export["sha256"]}"'
    assert response.headers["Accept-Ranges"] == "bytes"
    assert int(response.headers["Content-Length"]) == export["size"] == len(response.get_data())
    import hashlib

    assert hashlib.sha256(response.get_data()).hexdigest() == export["sha256"]


def test_download_serves_a_byte_range(client, tenant, two_invoices):
    export = finished(client, tenant, format="csv")
    whole = download(client, tenant, export).get_data()
    part = download(client, tenant, export, Range="bytes=10-29")
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 10-29/{len(whole)}"
    assert part.get_data() == whole[10:30]
    tail = download(client, tenant, export, Range="bytes=-5")
    assert tail.get_data() == whole[-5:]
    beyond = download(client, tenant, export, Range=f"bytes={len(whole) + 10}-")
    assert assert_contract_error(beyond, 416, "range_not_satisfiable")
    assert beyond.headers["Content-Range"] == f"bytes */{len(whole)}"


def test_download_with_the_current_etag_is_not_modified(client, tenant, two_invoices):
    export = finished(client, tenant, format="csv")
    response = download(client, tenant, export, **{"If-None-Match": f'"{export["sha256"]}"'})
    assert response.status_code == 304
    assert response.get_data() == b""


def test_download_of_an_unfinished_export_answers_409(client, tenant):
    export = create(client, tenant, format="csv")
    assert_contract_error(download(client, tenant, export), 409, "export_not_ready")


def test_delete_removes_the_export_and_its_file(client, tenant, two_invoices):
    export = finished(client, tenant, format="csv")
    response = client.delete(f"/v1/exports/{export['id']}", headers=tenant.headers)
    assert response.get_json() == {"id": export["id"], "object": "export", "deleted": True}
    gone = client.get(f"/v1/exports/{export['id']}", headers=tenant.headers)
    assert_contract_error(gone, 404, "resource_not_found")
    with db.connection() as conn:
        left = conn.execute(
            "select count(*) as n from export_file_chunks where export_id = %(id)s",
            {"id": export["id"]},
        ).fetchone()
    assert left["n"] == 0


def test_another_organisations_export_is_not_found(client, tenant, other_tenant, two_invoices):
    export = finished(client, tenant, format="csv")
    for method, path in [
        ("GET", f"/v1/exports/{export['id']}"),
        ("GET", f"/v1/exports/{export['id']}/download"),
        ("DELETE", f"/v1/exports/{export['id']}"),
    ]:
        response = client.open(path, method=method, headers=other_tenant.headers)
        assert_contract_error(response, 404, "resource_not_found")
    assert client.get("/v1/exports", headers=other_tenant.headers).get_json()["data"] == []


def test_an_export_contains_only_its_own_organisations_invoices(
    client, tenant, other_tenant, two_invoices
):
    upload(client, other_tenant, "INV-OTHER-9", "Other Vendor", "119.00")
    export = finished(client, other_tenant, format="json")
    assert export["invoice_count"] == 1
    assert b"INV-OTHER-9" in download(client, other_tenant, export).get_data()


def test_scopes_guard_reading_and_writing(client, tenant):
    reader = {"Authorization": f"Bearer {tenant.new_key(scopes=['export:read'])}"}
    writer = {"Authorization": f"Bearer {tenant.new_key(scopes=['export:write'])}"}
    invoices_only = {"Authorization": f"Bearer {tenant.new_key(scopes=['invoices:read'])}"}
    refused = client.post("/v1/exports", headers=reader, json={"format": "csv"})
    assert_contract_error(refused, 403, "insufficient_scope")
    export = client.post("/v1/exports", headers=writer, json={"format": "csv"}).get_json()
    assert client.get(f"/v1/exports/{export['id']}", headers=reader).status_code == 200
    assert_contract_error(client.get("/v1/exports", headers=writer), 403, "insufficient_scope")
    assert_contract_error(
        client.get("/v1/exports", headers=invoices_only), 403, "insufficient_scope"
    )


def test_completed_export_records_its_event(client, tenant, two_invoices):
    export = finished(client, tenant, format="csv")
    events = client.get("/v1/events?type=export.completed", headers=tenant.headers).get_json()
    assert [e["data"]["object"]["id"] for e in events["data"]] == [export["id"]]
    assert events["data"][0]["data"]["object"]["status"] == "succeeded"
    assert events["data"][0]["data"]["object"]["sha256"] == export["sha256"]


def test_a_second_run_of_a_finished_export_does_nothing(client, tenant, two_invoices):
    from workers.export_tasks import run_export

    export = finished(client, tenant, format="csv")
    assert run_export.apply(args=[export["id"]]).get() == "skipped"
    again = client.get(f"/v1/exports/{export['id']}", headers=tenant.headers).get_json()
    assert again["sha256"] == export["sha256"]


def test_sweeper_requeues_an_export_whose_worker_died(client, tenant):
    from common.exports.service import sweep_exports

    export = create(client, tenant, format="csv")
    with db.connection() as conn:
        conn.execute(
            "update exports set status = 'running', attempts = 1, task_id = 'dead',"
            " lease_expires_at = now() - interval '1 second' where id = %(id)s",
            {"id": export["id"]},
        )
    assert sweep_exports(requeue_after=300)["exports_requeued"] >= 1
    with db.connection() as conn:
        row = conn.execute(
            "select task_id from exports where id = %(id)s", {"id": export["id"]}
        ).fetchone()
    assert row["task_id"] != "dead"  # queued again (or already taken by a live worker)
    assert export_now(export["id"]) == "succeeded"


def test_sweeper_fails_an_export_that_keeps_killing_its_worker(client, tenant):
    from common.exports.service import MAX_ATTEMPTS, sweep_exports

    export = create(client, tenant, format="csv")
    with db.connection() as conn:
        conn.execute(
            "update exports set status = 'running', attempts = %(n)s, task_id = 'dead',"
            " lease_expires_at = now() - interval '1 second' where id = %(id)s",
            {"id": export["id"], "n": MAX_ATTEMPTS},
        )
    sweep_exports(requeue_after=300)
    after = client.get(f"/v1/exports/{export['id']}", headers=tenant.headers).get_json()
    assert after["status"] == "failed"
    assert after["error"]["code"] == "export_failed"
    failed = client.get("/v1/events?type=export.failed", headers=tenant.headers).get_json()
    assert [e["data"]["object"]["id"] for e in failed["data"]] == [export["id"]]


def test_sweeper_deletes_files_past_their_expiry(client, tenant, two_invoices):
    from common.exports.service import sweep_exports

    export = finished(client, tenant, format="csv")
    with db.connection() as conn:
        conn.execute(
            "update exports set expires_at = now() - interval '1 second' where id = %(id)s",
            {"id": export["id"]},
        )
    assert sweep_exports(requeue_after=300)["export_files_expired"] >= 1
    after = client.get(f"/v1/exports/{export['id']}", headers=tenant.headers).get_json()
    assert after["expired"] is True
    assert_contract_error(download(client, tenant, export), 404, "resource_not_found")


def test_datev_export_carries_the_requested_client_in_its_header(client, tenant, two_invoices):
    settings = {"consultant_number": 29098, "client_number": 55003, "expense_account": 3400}
    export = finished(client, tenant, format="datev", review_status="approved", datev=settings)
    assert export["datev"]["client_number"] == 55003
    assert export["datev"]["creditor_account"] == 70000  # the default, as stored
    response = download(client, tenant, export)
    assert response.headers["Content-Type"] == "text/csv; charset=windows-1252"
    lines = list(
        csv.reader(io.StringIO(response.get_data().decode("cp1252"), newline=""), delimiter=";")
    )
    assert lines[0][:5] == ["EXTF", "700", "21", "Buchungsstapel", "13"]
    assert lines[0][10:12] == ["29098", "55003"]
    [booking] = lines[2:]
    assert booking[:11] == [
        "119,00", "H", "EUR", "", "", "", "70000", "3400", "9", "1403", "INV-A-1"
    ]  # fmt: skip


def test_datev_settings_of_another_format_are_not_stored(client, tenant):
    export = create(client, tenant, format="csv", datev={"client_number": 7})
    assert export["datev"] is None


@pytest.mark.parametrize("fmt", ["ubl", "facturx", "csv_lines", "xero_bills_csv"])
def test_every_written_format_completes_with_files(client, tenant, two_invoices, fmt):
    import zipfile

    export = finished(client, tenant, format=fmt, include_files=True)
    assert export["invoice_count"] == 2
    archive = zipfile.ZipFile(io.BytesIO(download(client, tenant, export).get_data()))
    originals = {n for n in archive.namelist() if n.startswith("files/")}
    assert originals == {f"files/{i['id']}.pdf" for i in two_invoices}
    for invoice in two_invoices:
        assert (
            archive.read(f"files/{invoice['id']}.pdf")
            == client.get(f"/v1/invoices/{invoice['id']}/file", headers=tenant.headers).get_data()
        )


@pytest.mark.parametrize("fmt", ["csv", "datev"])
def test_reading_only_the_formats_fields_writes_what_whole_invoices_write(
    tenant, two_invoices, fmt
):
    """csv and datev read only their keys of `fields`, as text, from PostgreSQL: the file
    is the one their writer makes from whole invoices, whether a key is missing, null, a
    number or text a spreadsheet would run."""
    from common.exports import service
    from common.exports.formats import Options
    from common.exports.writers import open_writer
    from common.invoices.repository import Invoice, list_invoices_query

    missing, null = two_invoices
    with db.transaction() as conn:
        conn.execute(
            "update invoices set fields = fields - 'document_type'"
            ' || \'{"vendor_name": "=HYPERLINK(1)", "tax_rate": 19.0}\' where id = %(id)s',
            {"id": missing["id"]},
        )
        conn.execute(
            'update invoices set fields = fields || \'{"document_type": null,'
            ' "invoice_number": null, "total_amount": -11900}\' where id = %(id)s',
            {"id": null["id"]},
        )
    export = service.unsaved_export(tenant.org.id, livemode=True, format=fmt, filters={})
    written = io.BytesIO()
    service.write_export(export, written)

    sql, params = list_invoices_query(
        tenant.org.id, True, service.invoice_filters({}), limit=None, after_id=None
    )
    with db.transaction() as conn:
        invoices = [Invoice(**row) for row in conn.execute(sql, params).fetchall()]
    expected = io.BytesIO()
    writer = open_writer(fmt, expected, Options())
    for invoice in invoices:
        writer.add(invoice)
    writer.finish()

    def body(data: bytes) -> bytes:  # datev's first line holds the time it was written
        return data.split(b"\r\n", 1)[1] if fmt == "datev" else data

    assert len(invoices) == 2
    assert body(written.getvalue()) == body(expected.getvalue())
