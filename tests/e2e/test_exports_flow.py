"""Exports end to end: upload, approve, export with a filter on the real `exports` worker,
the `export.completed` webhook delivered by the real webhook worker, download, rows match."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from common.invoices.ubl_validation import validate_ubl
from tests.e2e.test_extraction_flow import post_file
from tests.support import Receiver, make_text_pdf, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def test_approved_invoices_export_completes_and_is_announced(service, tenant, receiver):
    service.start_exports_worker()
    with service.client(tenant.secret) as http:
        hook = http.post(
            "/v1/webhooks",
            json={"url": receiver.url, "events": ["export.completed", "export.failed"]},
        )
        assert hook.status_code == 201, hook.text
        approved = post_file(http, make_text_pdf(), wait="20").json()
        other = make_text_pdf(
            ["Beta Parts Ltd", "Invoice", "Invoice number: B-7", "Total: 5.00 EUR"]
        )
        others = {post_file(http, other, wait="20").json()["id"]}
        assert http.post(f"/v1/invoices/{approved['id']}/approve").status_code == 200

        created = http.post(
            "/v1/exports",
            json={"format": "csv", "review_status": "approved", "bom": True},
            headers={"Idempotency-Key": "e2e-export"},
        )
        assert created.status_code == 202, created.text
        export_id = created.json()["id"]

        wait_until(receiver.events, 60, message="export.completed did not arrive")
        event = receiver.events()[0]
        assert event["type"] == "export.completed"
        export = event["data"]["object"]
        assert (export["id"], export["status"], export["invoice_count"]) == (
            export_id,
            "succeeded",
            1,
        )

        download = http.get(f"/v1/exports/{export_id}/download")
        assert download.status_code == 200
        assert download.headers["ETag"] == f'"{export["sha256"]}"'
        assert download.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert [(r["id"], r["invoice_number"], r["review_status"]) for r in rows] == [
            (approved["id"], approved["invoice_number"], "approved")
        ]
        part = http.get(f"/v1/exports/{export_id}/download", headers={"Range": "bytes=0-99"})
        assert part.status_code == 206
        assert part.content == download.content[:100]

        # `ubl` on the same prefork worker: its documents are validated in a helper process
        # the worker starts (INVEX_EXPORT_VALIDATION_PROCESSES defaults to 1).
        ubl = http.post(
            "/v1/exports",
            json={"format": "ubl"},
            headers={"Idempotency-Key": "e2e-export-ubl"},
        )
        assert ubl.status_code == 202, ubl.text
        wait_until(lambda: len(receiver.events()) >= 2, 60, message="ubl export did not end")
        ubl_export = receiver.events()[1]["data"]["object"]
        assert (ubl_export["id"], ubl_export["status"]) == (ubl.json()["id"], "succeeded")
        archive = zipfile.ZipFile(
            io.BytesIO(http.get(f"/v1/exports/{ubl_export['id']}/download").content)
        )
        written = {
            name.removesuffix(".xml") for name in archive.namelist() if name.endswith(".xml")
        }
        failed = {
            line.split("\t")[0]: line
            for line in (
                archive.read("errors.txt").decode().splitlines()
                if "errors.txt" in archive.namelist()
                else []
            )
        }
        # Each invoice is either a document that validates here too, or named with the
        # EN 16931 rules it breaks: checked, never dropped.
        assert written | set(failed) == {approved["id"], *others}
        for name in written:
            assert validate_ubl(archive.read(f"{name}.xml")) == []
        assert all("EN 16931: [BR-" in line for line in failed.values())
