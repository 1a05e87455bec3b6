"""Bank statements through the API: upload (idempotent, deduplicated), parse on the task run
in this process, get, list, transactions; bad files, hostile XML, scopes, tenant isolation
and live/test separation; the sweeper's recovery."""

from __future__ import annotations

import io
import json

from common import db
from common.bank.service import sweep_statements
from tests.integration.test_api_contract import assert_contract_error
from tests.support import parse_statement_now
from tests.unit.bank.documents import Payment, camt053, mt940, ofx

PAYMENTS = [
    Payment(-11900, remittance="Invoice INV-1001", end_to_end="E2E-1"),
    Payment(25000, name="Customer AG", iban="FR1420041010050500013M02606", remittance="Thanks"),
]


def upload(client, headers, data: bytes, name: str = "statement.xml", **form):
    body = {"file": (io.BytesIO(data), name), **form}
    return client.post("/v1/bank/statements", headers=headers, data=body)


def processed(client, tenant, data: bytes, name: str = "statement.xml", **form) -> dict:
    response = upload(client, tenant.headers, data, name, **form)
    assert response.status_code == 202, response.get_data(as_text=True)
    statement_id = response.get_json()["id"]
    parse_statement_now(statement_id)
    return client.get(f"/v1/bank/statements/{statement_id}", headers=tenant.headers).get_json()


def transactions(client, tenant, statement_id: str) -> list[dict]:
    response = client.get(
        f"/v1/bank/statements/{statement_id}/transactions", headers=tenant.headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]


def test_upload_answers_202_with_a_queued_statement(client, tenant):
    response = upload(client, tenant.headers, camt053(PAYMENTS))
    assert response.status_code == 202, response.get_data(as_text=True)
    statement = response.get_json()
    assert statement["id"].startswith("bst_")
    assert (statement["object"], statement["status"]) == ("bank_statement", "queued")
    assert statement["transaction_count"] is None


def test_a_camt053_statement_is_parsed_into_its_transactions(client, tenant):
    statement = processed(client, tenant, camt053(PAYMENTS))
    assert statement["status"] == "processed"
    assert statement["format"] == "camt.053"
    assert statement["account_iban"] == "DE02120300000000202051"
    assert (statement["opening_balance"], statement["closing_balance"]) == (1_000_000, 1_013_100)
    assert statement["transaction_count"] == 2
    debit, credit = transactions(client, tenant, statement["id"])
    assert debit["id"].startswith("btx_")
    assert (debit["amount"], debit["direction"], debit["currency"]) == (-11900, "debit", "EUR")
    assert debit["counterparty_name"] == "ACME Supplies GmbH"
    assert debit["counterparty_iban"] == "DE89370400440532013000"
    assert debit["remittance_text"] == "Invoice INV-1001"
    assert debit["end_to_end_id"] == "E2E-1"
    assert debit["booking_date"] == "2026-03-20"
    assert (credit["amount"], credit["counterparty_name"]) == (25000, "Customer AG")


def test_processing_sends_bank_statement_processed(client, tenant):
    statement = processed(client, tenant, mt940(PAYMENTS), "statement.sta")
    events = client.get(
        "/v1/events?type=bank_statement.processed", headers=tenant.headers
    ).get_json()["data"]
    assert [e["data"]["object"]["id"] for e in events] == [statement["id"]]
    assert events[0]["data"]["object"]["status"] == "processed"


def test_the_same_file_twice_answers_with_the_first_statement(client, tenant):
    first = upload(client, tenant.headers, camt053(PAYMENTS)).get_json()
    again = upload(client, tenant.headers, camt053(PAYMENTS), "copy.xml")
    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"]


def test_transactions_seen_in_an_earlier_statement_are_not_imported_again(client, tenant):
    processed(client, tenant, camt053(PAYMENTS[:1], statement_id="S-1"))
    overlapping = processed(client, tenant, camt053(PAYMENTS, statement_id="S-2"))
    assert (overlapping["transaction_count"], overlapping["duplicate_count"]) == (1, 1)
    assert [t["amount"] for t in transactions(client, tenant, overlapping["id"])] == [25000]


def test_a_statement_with_the_same_account_and_reference_is_marked_a_duplicate(client, tenant):
    first = processed(client, tenant, camt053(PAYMENTS, statement_id="S-9"))
    # the same statement as the bank sends it again, with another message header
    second = processed(
        client, tenant, camt053(PAYMENTS, statement_id="S-9").replace(b"MSG-S-9", b"MSG-again")
    )
    assert second["duplicate_of"] == first["id"]
    assert (second["transaction_count"], second["duplicate_count"]) == (0, 2)


def test_the_upload_is_idempotent(client, tenant):
    headers = {**tenant.headers, "Idempotency-Key": "statement-once"}
    first = upload(client, headers, ofx(PAYMENTS), "march.ofx")
    again = upload(client, headers, ofx(PAYMENTS), "march.ofx")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]


def test_a_csv_statement_is_read_with_an_explicit_mapping(client, tenant):
    data = (
        "Konto;DE02120300000000202051\n\n"
        "Tag;Wert;Empfaenger;Zweck;Summe\n"
        "20.03.2026;20.03.2026;ACME Supplies GmbH;INV-1001;-119,00\n"
    ).encode("cp1252")
    mapping = {
        "booking_date": "Tag",
        "amount": "Summe",
        "remittance_text": "Zweck",
        "counterparty_name": "Empfaenger",
    }
    statement = processed(client, tenant, data, "export.csv", mapping=json.dumps(mapping))
    assert (statement["status"], statement["format"]) == ("processed", "csv")
    [tx] = transactions(client, tenant, statement["id"])
    assert (tx["amount"], tx["remittance_text"]) == (-11900, "INV-1001")


def test_a_bad_row_fails_the_statement_naming_its_line(client, tenant):
    data = b"Date,Amount,Description\n2026-03-20,12.50,ok\n2026-03-21,twelve,bad\n"
    statement = processed(client, tenant, data, "bad.csv")
    assert statement["status"] == "failed"
    assert statement["error"]["code"] == "unprocessable_statement"
    assert "Line 3" in statement["error"]["message"]


def test_hostile_xml_is_refused(client, tenant):
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        b"<Stmt><Id>&x;</Id></Stmt></BkToCstmrStmt></Document>"
    )
    statement = processed(client, tenant, hostile)
    assert statement["status"] == "failed"
    assert statement["error"]["code"] == "unprocessable_statement"
    assert "DOCTYPE" in statement["error"]["message"]


def test_a_file_in_no_statement_format_is_refused_at_once(client, tenant):
    response = upload(client, tenant.headers, b"%PDF-1.7\n...", "invoice.pdf")
    error = assert_contract_error(response, 422, "unprocessable_statement")
    assert error["param"] == "file"


def test_statements_are_listed_newest_first_with_a_cursor(client, tenant):
    ids = [
        upload(client, tenant.headers, camt053(PAYMENTS, statement_id=f"L-{n}")).get_json()["id"]
        for n in range(3)
    ]
    page = client.get("/v1/bank/statements?limit=2", headers=tenant.headers).get_json()
    assert [s["id"] for s in page["data"]] == ids[::-1][:2]
    assert page["has_more"] is True
    rest = client.get(
        f"/v1/bank/statements?limit=2&cursor={page['next_cursor']}", headers=tenant.headers
    ).get_json()
    assert [s["id"] for s in rest["data"]] == [ids[0]]


def test_another_organisation_s_statement_is_not_found(client, tenant, other_tenant):
    statement = upload(client, tenant.headers, camt053(PAYMENTS)).get_json()
    for path in ("", "/transactions"):
        response = client.get(
            f"/v1/bank/statements/{statement['id']}{path}", headers=other_tenant.headers
        )
        assert_contract_error(response, 404, "resource_not_found")


def test_test_mode_sees_no_live_statements(client, tenant):
    upload(client, tenant.headers, camt053(PAYMENTS))
    test_headers = {"Authorization": f"Bearer {tenant.new_key(livemode=False)}"}
    assert client.get("/v1/bank/statements", headers=test_headers).get_json()["data"] == []


def test_reading_needs_bank_read_and_uploading_bank_write(client, tenant):
    reader = {"Authorization": f"Bearer {tenant.new_key(scopes=['bank:read'])}"}
    assert client.get("/v1/bank/statements", headers=reader).status_code == 200
    response = upload(client, reader, camt053(PAYMENTS))
    assert_contract_error(response, 403, "insufficient_scope")


def test_the_sweeper_requeues_a_statement_whose_worker_died(client, tenant):
    statement = upload(client, tenant.headers, camt053(PAYMENTS)).get_json()
    with db.transaction() as conn:
        conn.execute(
            "update bank_statements set status = 'processing', task_id = 'lost', attempts = 1,"
            " lease_expires_at = now() - interval '1 second' where id = %(id)s",
            {"id": statement["id"]},
        )
    outcome = sweep_statements(requeue_after=600)
    assert outcome["statements_requeued"] >= 1
    assert parse_statement_now(statement["id"]) == "processed"
