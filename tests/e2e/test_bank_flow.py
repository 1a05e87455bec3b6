"""Bank reconciliation end to end: invoices uploaded and extracted by the real worker, a
camt.053 statement paying some of them parsed by the real `bank` worker, reconciled; the
invoices are paid, the events reach a real webhook receiver, and undo restores one."""

from __future__ import annotations

import pytest

from tests.e2e.test_extraction_flow import post_file
from tests.support import Receiver, make_text_pdf, wait_until
from tests.unit.bank.documents import Payment, camt053

pytestmark = pytest.mark.slow

IBAN = "DE89370400440532013000"


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def extracted_invoice(http, number: str, total: int) -> str:
    pdf = make_text_pdf(["ACME Supplies GmbH", "Invoice", f"Invoice number: {number}"])
    invoice = post_file(http, pdf, f"{number}.pdf", wait="20").json()
    assert invoice["status"] == "succeeded", invoice
    patched = http.patch(
        f"/v1/invoices/{invoice['id']}",
        json={
            "invoice_number": number,
            "total_amount": total,
            "currency": "EUR",
            "vendor_iban": IBAN,
            "invoice_date": "2026-03-01",
        },
    )
    assert patched.status_code == 200, patched.text
    assert http.post(f"/v1/invoices/{invoice['id']}/approve").status_code == 200
    return invoice["id"]


def test_a_statement_pays_the_invoices_it_names_and_undo_restores_one(service, tenant, receiver):
    service.start_bank_worker()
    with service.client(tenant.secret) as http:
        hook = http.post(
            "/v1/webhooks",
            json={
                "url": receiver.url,
                "events": ["bank_statement.processed", "bank.reconciled", "invoice.paid"],
            },
        )
        assert hook.status_code == 201, hook.text
        first = extracted_invoice(http, "E2E-1001", 11900)
        second = extracted_invoice(http, "E2E-1002", 5000)
        unpaid = extracted_invoice(http, "E2E-1003", 7700)

        statement = camt053(
            [
                Payment(-11900, remittance="Rechnung E2E-1001", reference="R1"),
                Payment(-5000, remittance="E2E 1OO2", reference="R2"),
                Payment(-999, name="Shell", iban=None, remittance="Tankstelle", reference="R3"),
            ],
            statement_id="E2E-STMT",
        )
        uploaded = http.post(
            "/v1/bank/statements",
            files={"file": ("march.xml", statement)},
            headers={"Idempotency-Key": "e2e-bank"},
        )
        assert uploaded.status_code == 202, uploaded.text
        statement_id = uploaded.json()["id"]

        def processed() -> bool:
            return http.get(f"/v1/bank/statements/{statement_id}").json()["status"] == "processed"

        wait_until(processed, 60, interval=0.2, message="the statement was not parsed")

        rec = http.post("/v1/bank/reconcile", json={"statement_id": statement_id})
        assert rec.status_code == 201, rec.text
        assert (rec.json()["matched_count"], rec.json()["unmatched_count"]) == (2, 1)
        for invoice_id, status in ((first, "paid"), (second, "paid"), (unpaid, "approved")):
            assert http.get(f"/v1/invoices/{invoice_id}").json()["review_status"] == status

        def announced() -> bool:
            types = [e["type"] for e in receiver.events()]
            return (
                types.count("invoice.paid") == 2
                and "bank.reconciled" in types
                and "bank_statement.processed" in types
            )

        # all three awaited: deliveries keep their order per invoice only (docs/webhooks.md)
        wait_until(announced, 60, message="the events did not arrive")

        match = next(m for m in rec.json()["matches"] if m["invoice_id"] == second)
        assert http.delete(f"/v1/bank/matches/{match['id']}").status_code == 200
        assert http.get(f"/v1/invoices/{second}").json()["review_status"] == "approved"
