"""Reconciliation through the API against real PostgreSQL: confident matches pay invoices
(with history and `invoice.paid`), uncertain ones wait as suggestions, confirm and undo by
hand, `bank.reconciled`, scopes and tenant isolation."""

from __future__ import annotations

import io

import pytest

from tests.integration.test_api_contract import assert_contract_error
from tests.support import extract_now, make_text_pdf, parse_statement_now
from tests.unit.bank.documents import Payment, camt053

VENDOR_IBAN = "DE89370400440532013000"


def invoice(client, tenant, number: str, total: int, *, approve: bool = True, **fields) -> dict:
    pdf = make_text_pdf(
        ["ACME Supplies GmbH", "Invoice", f"Invoice number: {number}", "Total: 1.00 EUR"]
    )
    created = client.post(
        "/v1/invoices", headers=tenant.headers, data={"file": (io.BytesIO(pdf), f"{number}.pdf")}
    ).get_json()
    assert extract_now(created["id"]) == "succeeded"
    body = {
        "invoice_number": number,
        "total_amount": total,
        "amount_due": total,
        "currency": "EUR",
        "vendor_name": "ACME Supplies GmbH",
        "vendor_iban": VENDOR_IBAN,
        "invoice_date": "2026-03-01",
        "due_date": "2026-03-31",
        **fields,
    }
    response = client.patch(f"/v1/invoices/{created['id']}", headers=tenant.headers, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    if approve:
        assert (
            client.post(f"/v1/invoices/{created['id']}/approve", headers=tenant.headers).status_code
            == 200
        )
    return created


def statement(client, tenant, payments: list[Payment], statement_id: str = "S-1") -> dict:
    data = camt053(payments, statement_id=statement_id)
    created = client.post(
        "/v1/bank/statements",
        headers=tenant.headers,
        data={"file": (io.BytesIO(data), "camt.xml")},
    ).get_json()
    assert parse_statement_now(created["id"]) == "processed"
    return created


def reconcile(client, tenant, **body) -> dict:
    response = client.post("/v1/bank/reconcile", headers=tenant.headers, json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def review_status(client, tenant, invoice_id: str) -> str:
    return client.get(f"/v1/invoices/{invoice_id}", headers=tenant.headers).get_json()[
        "review_status"
    ]


def test_a_payment_naming_the_invoice_pays_it(client, tenant):
    paid = invoice(client, tenant, "INV-1001", 11900)
    statement(client, tenant, [Payment(-11900, remittance="Rechnung INV 1001")])
    rec = reconcile(client, tenant)
    assert rec["id"].startswith("rec_")
    assert (rec["transaction_count"], rec["matched_count"], rec["unmatched_count"]) == (1, 1, 0)
    [match] = rec["matches"]
    assert (match["invoice_id"], match["status"], match["amount"]) == (paid["id"], "applied", 11900)
    assert {"reference", "amount", "iban"} <= set(match["reasons"])
    assert float(match["score"]) >= 0.8
    assert review_status(client, tenant, paid["id"]) == "paid"


def test_paying_records_history_and_invoice_paid(client, tenant):
    paid = invoice(client, tenant, "INV-2002", 5000)
    statement(client, tenant, [Payment(-5000, remittance="INV-2002")])
    reconcile(client, tenant)
    history = client.get(f"/v1/invoices/{paid['id']}/history", headers=tenant.headers).get_json()
    changes = history["data"] if isinstance(history, dict) else history
    assert any(c["field"] == "review_status" and c["new"] == "paid" for c in changes)
    events = client.get("/v1/events?type=invoice.paid", headers=tenant.headers).get_json()
    assert [e["data"]["object"]["id"] for e in events["data"]] == [paid["id"]]


def test_a_received_invoice_is_paid_too(client, tenant):
    received = invoice(client, tenant, "INV-3003", 7700, approve=False)
    statement(client, tenant, [Payment(-7700, remittance="INV-3003")])
    reconcile(client, tenant)
    assert review_status(client, tenant, received["id"]) == "paid"


def test_reconciling_sends_bank_reconciled(client, tenant):
    invoice(client, tenant, "INV-4004", 1234)
    statement(client, tenant, [Payment(-1234, remittance="INV-4004")])
    rec = reconcile(client, tenant)
    events = client.get("/v1/events?type=bank.reconciled", headers=tenant.headers).get_json()
    [event] = events["data"]
    assert event["data"]["object"]["id"] == rec["id"]
    assert event["data"]["object"]["matched_count"] == 1


def test_an_amount_alone_is_only_a_suggestion_that_a_person_confirms(client, tenant):
    open_invoice = invoice(client, tenant, "INV-5005", 4321, vendor_iban=None)
    statement(client, tenant, [Payment(-4321, remittance="Zahlung", iban=None, name="Someone")])
    rec = reconcile(client, tenant)
    assert rec["suggested_count"] == 1
    [suggestion] = rec["matches"]
    assert suggestion["status"] == "suggested"
    assert review_status(client, tenant, open_invoice["id"]) == "approved"
    response = client.post(
        "/v1/bank/matches", headers=tenant.headers, json={"match_id": suggestion["id"]}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["status"] == "applied"
    assert review_status(client, tenant, open_invoice["id"]) == "paid"


def test_undo_returns_the_invoice_to_its_earlier_state(client, tenant):
    received = invoice(client, tenant, "INV-6006", 9900, approve=False)
    statement(client, tenant, [Payment(-9900, remittance="INV-6006")])
    [match] = reconcile(client, tenant)["matches"]
    response = client.delete(f"/v1/bank/matches/{match['id']}", headers=tenant.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "undone"
    assert review_status(client, tenant, received["id"]) == "received"
    tx = client.get(
        f"/v1/bank/statements/{reconcile_statement_id(client, tenant)}/transactions",
        headers=tenant.headers,
    ).get_json()["data"][0]
    assert tx["reconciliation_status"] == "unmatched"


def reconcile_statement_id(client, tenant) -> str:
    return client.get("/v1/bank/statements", headers=tenant.headers).get_json()["data"][0]["id"]


def test_a_payment_matched_by_hand_pays_the_invoice(client, tenant):
    target = invoice(client, tenant, "INV-7007", 3000)
    created = statement(client, tenant, [Payment(-3000, remittance="misc", iban=None, name="X")])
    tx = client.get(
        f"/v1/bank/statements/{created['id']}/transactions", headers=tenant.headers
    ).get_json()["data"][0]
    response = client.post(
        "/v1/bank/matches",
        headers=tenant.headers,
        json={"transaction_id": tx["id"], "invoice_id": target["id"]},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert (response.get_json()["source"], response.get_json()["reasons"]) == ("manual", ["manual"])
    assert review_status(client, tenant, target["id"]) == "paid"


def test_two_part_payments_pay_the_invoice_only_together(client, tenant):
    target = invoice(client, tenant, "INV-8008", 10000)
    statement(client, tenant, [Payment(-4000, remittance="INV-8008 part 1", reference="P1")], "P-1")
    reconcile(client, tenant)
    assert review_status(client, tenant, target["id"]) == "approved"
    statement(client, tenant, [Payment(-6000, remittance="INV-8008 rest", reference="P2")], "P-2")
    reconcile(client, tenant)
    assert review_status(client, tenant, target["id"]) == "paid"


def test_a_paid_invoice_is_not_paid_twice(client, tenant):
    invoice(client, tenant, "INV-9009", 2500)
    statement(
        client,
        tenant,
        [Payment(-2500, remittance="INV-9009"), Payment(-2500, remittance="INV-9009 again")],
    )
    rec = reconcile(client, tenant)
    assert rec["matched_count"] == 1


def test_reconciliations_are_listed_and_read(client, tenant):
    rec = reconcile(client, tenant)
    listed = client.get("/v1/bank/reconciliations", headers=tenant.headers).get_json()
    assert [r["id"] for r in listed["data"]] == [rec["id"]]
    one = client.get(f"/v1/bank/reconciliations/{rec['id']}", headers=tenant.headers)
    assert one.get_json()["matches"] == []


def test_another_organisation_s_objects_are_not_found(client, tenant, other_tenant):
    rec = reconcile(client, tenant)
    response = client.get(f"/v1/bank/reconciliations/{rec['id']}", headers=other_tenant.headers)
    assert_contract_error(response, 404, "resource_not_found")
    response = client.post(
        "/v1/bank/reconcile", headers=other_tenant.headers, json={"statement_id": "bst_nope"}
    )
    assert_contract_error(response, 404, "resource_not_found")


@pytest.mark.parametrize("path", ["/v1/bank/reconcile", "/v1/bank/matches"])
def test_writing_needs_bank_write(client, tenant, path):
    reader = {"Authorization": f"Bearer {tenant.new_key(scopes=['bank:read'])}"}
    response = client.post(path, headers=reader, json={})
    assert_contract_error(response, 403, "insufficient_scope")
