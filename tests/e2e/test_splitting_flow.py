"""A file that holds several invoices becomes one invoice each, through the real API and
worker processes; the upload is charged once, for its pages."""

from __future__ import annotations

import pymupdf
import pytest

from tests.support import wait_until
from training import synth

pytestmark = pytest.mark.slow

# Generated invoices whose numbers the extractor reads: 1, 2, 1 and 2 pages.
SEEDS = (3, 21, 5, 4)


def _batch(seeds: tuple[int, ...]) -> tuple[bytes, list[synth.SyntheticInvoice]]:
    out = pymupdf.open()
    invoices = [synth.generate(seed) for seed in seeds]
    for invoice in invoices:
        with pymupdf.open(stream=invoice.pdf, filetype="pdf") as part:
            out.insert_pdf(part)
    return out.tobytes(), invoices


def _finished(http, invoice_id: str) -> dict:
    invoice: dict = {}

    def done() -> bool:
        nonlocal invoice
        invoice = http.get(f"/v1/invoices/{invoice_id}").json()
        return invoice["status"] in {"succeeded", "failed"}

    wait_until(done, timeout=60)
    return invoice


def test_a_batch_becomes_one_invoice_per_document_charged_once(service, tenant):
    data, invoices = _batch(SEEDS)
    with service.client(tenant.secret) as http:
        used_before = http.get("/v1/credits").json()["used"]
        upload = http.post(
            "/v1/invoices", files={"file": ("batch.pdf", data)}, data={"wait": "20"}
        ).json()
        parent = _finished(http, upload["id"])
        assert parent["status"] == "succeeded"
        assert parent["file"]["pages"] == 6
        assert [(p["first_page"], p["last_page"]) for p in parent["split_into"]] == [
            (1, 1),
            (2, 3),
            (4, 4),
            (5, 6),
        ]
        assert parent["warnings"][0]["code"] == "split"
        assert parent["invoice_number"] is None
        children = [_finished(http, part["invoice"]) for part in parent["split_into"]]
        for child, invoice, part in zip(children, invoices, parent["split_into"], strict=True):
            assert child["status"] == "succeeded"
            assert child["split_from"] == {"invoice": parent["id"], **_pages(part)}
            assert child["split_into"] == []
            assert child["invoice_number"] == invoice.truth["invoice_number"]
            assert child["file"]["pages"] == invoice.page_count
            original = http.get(f"/v1/invoices/{child['id']}/file")
            assert original.status_code == 200
            with pymupdf.open(stream=original.content, filetype="pdf") as pdf:
                assert pdf.page_count == invoice.page_count
        # the upload's six pages, not six more for its documents
        assert http.get("/v1/credits").json()["used"] == used_before + 6
        listed = http.get("/v1/invoices", params={"limit": 100}).json()["data"]
        assert {c["id"] for c in children} <= {i["id"] for i in listed}


def test_split_false_keeps_the_file_one_invoice(service, tenant):
    data, _ = _batch(SEEDS[:2])
    with service.client(tenant.secret) as http:
        upload = http.post(
            "/v1/invoices", files={"file": ("batch.pdf", data)}, data={"split": "false"}
        ).json()
        invoice = _finished(http, upload["id"])
    assert invoice["status"] == "succeeded"
    assert invoice["split_into"] == []
    assert invoice["split_from"] is None
    assert invoice["invoice_number"] is not None


def _pages(part: dict) -> dict:
    return {"first_page": part["first_page"], "last_page": part["last_page"]}
