"""Quotes and purchase orders: their states, the sweeper's expiry, lists, and invoices
matched against them with the organisation's tolerances (issue 23)."""

from __future__ import annotations

import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from common import db
from common.commercial.service import expire_quotes
from tests.integration.test_api_contract import assert_contract_error
from tests.support import (
    HIGHER_PRICE_TEXTS,
    QUOTE_TEXTS,
    extract_now,
    make_demo_pdf,
    make_text_pdf,
)


def upload(client, tenant, data: bytes, name: str) -> dict:
    created = client.post(
        "/v1/invoices", headers=tenant.headers, data={"file": (io.BytesIO(data), name)}
    ).get_json()
    assert extract_now(created["id"]) == "succeeded"
    return client.get(f"/v1/invoices/{created['id']}", headers=tenant.headers).get_json()


def events(client, tenant, event_type: str) -> list[dict]:
    return client.get(f"/v1/events?type={event_type}", headers=tenant.headers).get_json()["data"]


@pytest.fixture
def quote(client, tenant) -> dict:
    """The demo invoice's goods quoted: an upload the extractor classifies `quote`."""
    upload(client, tenant, make_demo_pdf(QUOTE_TEXTS), "angebot.pdf")
    quotes = client.get("/v1/quotes", headers=tenant.headers).get_json()["data"]
    assert len(quotes) == 1
    return quotes[0]


def status_of(client, tenant, quote_id: str) -> str:
    return client.get(f"/v1/quotes/{quote_id}", headers=tenant.headers).get_json()["status"]


def accept(client, tenant, quote_id: str, action: str = "accept"):
    return client.post(f"/v1/quotes/{quote_id}/{action}", headers=tenant.headers, json={})


def ubl_invoice(number: str, order: str, lines: list[tuple[str, str, str]]) -> bytes:
    """A UBL invoice referencing purchase order `order`; lines are (name, quantity, price)."""
    net = sum((Decimal(q) * Decimal(p) for _, q, p in lines), Decimal(0))
    tax = (net * Decimal("0.19")).quantize(CENT, ROUND_HALF_UP)
    body = "".join(
        f"""<cac:InvoiceLine><cbc:ID>{k}</cbc:ID>
    <cbc:InvoicedQuantity unitCode="C62">{q}</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">{Decimal(q) * Decimal(p):.2f}
    </cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>{name}</cbc:Name></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">{p}</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>"""
        for k, (name, q, p) in enumerate(lines, 1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>2026-11-25</cbc:IssueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:OrderReference><cbc:ID>{order}</cbc:ID></cac:OrderReference>
  <cac:AccountingSupplierParty><cac:Party><cac:PartyLegalEntity>
    <cbc:RegistrationName>Nordwind Bürobedarf GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">{tax}</cbc:TaxAmount></cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">{net:.2f}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">{net:.2f}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">{net + tax:.2f}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">{net + tax:.2f}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  {body}
</Invoice>""".encode()


CENT = Decimal("0.01")
ORDER = {
    "number": "PO-4711",
    "currency": "EUR",
    "vendor_name": "Nordwind Bürobedarf GmbH",
    "subtotal_amount": 40000,
    "total_amount": 47600,
    "line_items": [
        {
            "description": "Druckerpapier A4",
            "quantity": "20",
            "unit_price": 490,
            "total_price": 9800,
        },
        {
            "description": "Toner schwarz XL",
            "quantity": "4",
            "unit_price": 7550,
            "total_price": 30200,
        },
    ],
}


def create_order(client, tenant, **changes) -> dict:
    response = client.post("/v1/purchase-orders", headers=tenant.headers, json={**ORDER, **changes})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


# --- quotes ----------------------------------------------------------------------------


def test_an_uploaded_quote_becomes_a_received_quote_with_its_lines(client, tenant, quote):
    assert quote["object"] == "quote"
    assert quote["status"] == "received"
    assert quote["number"] == "AN-2026-0042"
    assert quote["valid_until"] == "2027-01-31"
    assert quote["total_amount"] == 23800
    assert [line["description"] for line in quote["line_items"]] == [
        "Druckerpapier A4, 500 Blatt",
        "Toner schwarz XL",
    ]
    received = events(client, tenant, "quote.received")
    assert [e["data"]["object"]["id"] for e in received] == [quote["id"]]


def test_accepting_a_received_quote_sends_quote_accepted(client, tenant, quote):
    response = accept(client, tenant, quote["id"])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "accepted"
    assert events(client, tenant, "quote.accepted")[0]["data"]["object"]["status"] == "accepted"


def test_a_decided_quote_cannot_be_decided_again(client, tenant, quote):
    assert accept(client, tenant, quote["id"], "reject").get_json()["status"] == "rejected"
    assert events(client, tenant, "quote.rejected")
    assert_contract_error(accept(client, tenant, quote["id"]), 409, "invalid_state_transition")


def test_the_sweeper_expires_received_quotes_past_their_validity_only(client, tenant, quote):
    # other tests' quotes share the database: the counts are at least this one's
    expire_quotes(today=date(2027, 1, 31))  # its last valid day
    assert status_of(client, tenant, quote["id"]) == "received"
    assert expire_quotes(today=date(2027, 2, 1)) >= 1
    assert status_of(client, tenant, quote["id"]) == "expired"
    assert expire_quotes(today=date(2027, 2, 1)) == 0
    assert events(client, tenant, "quote.expired")[0]["data"]["object"]["id"] == quote["id"]
    assert_contract_error(accept(client, tenant, quote["id"]), 409, "invalid_state_transition")


def test_an_accepted_quote_does_not_expire(client, tenant, quote):
    accept(client, tenant, quote["id"])
    expire_quotes(today=date(2030, 1, 1))
    assert status_of(client, tenant, quote["id"]) == "accepted"


def test_quotes_of_another_organisation_are_not_found(client, other_tenant, quote):
    response = client.get(f"/v1/quotes/{quote['id']}", headers=other_tenant.headers)
    assert_contract_error(response, 404, "resource_not_found")
    assert client.get("/v1/quotes", headers=other_tenant.headers).get_json()["data"] == []


# --- matching an invoice against an accepted quote --------------------------------------


def test_an_invoice_above_its_accepted_quote_gets_price_above_quote(client, tenant, quote):
    accept(client, tenant, quote["id"])
    invoice = upload(client, tenant, make_demo_pdf(HIGHER_PRICE_TEXTS), "rechnung.pdf")
    assert invoice["matched_document"] == {
        "type": "quote",
        "id": quote["id"],
        "number": "AN-2026-0042",
    }
    flagged = [w for w in invoice["warnings"] if w["code"] == "price_above_quote"]
    assert len(flagged) == 1
    assert flagged[0]["line"] == 2
    assert invoice["review_status"] == "received"
    detail = client.get(f"/v1/quotes/{quote['id']}", headers=tenant.headers).get_json()
    assert detail["invoices"] == [invoice["id"]]


def test_a_price_within_the_tolerance_is_not_flagged_and_may_approve(client, tenant, quote):
    accept(client, tenant, quote["id"])
    response = client.put(
        "/v1/matching/settings",
        headers=tenant.headers,
        json={"price_percent": "10.00", "auto_approve": True},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["price_percent"] == "10.00"
    invoice = upload(client, tenant, make_demo_pdf(HIGHER_PRICE_TEXTS), "rechnung.pdf")
    assert invoice["matched_document"]["id"] == quote["id"]
    assert not [w for w in invoice["warnings"] if w["code"] == "price_above_quote"]
    assert invoice["review_status"] == "approved"
    assert events(client, tenant, "invoice.approved")[0]["data"]["object"]["id"] == invoice["id"]


def test_an_invoice_is_not_matched_against_a_quote_not_accepted(client, tenant, quote):
    invoice = upload(client, tenant, make_demo_pdf(HIGHER_PRICE_TEXTS), "rechnung.pdf")
    assert invoice["matched_document"] is None


def test_matching_settings_start_at_the_defaults_and_refuse_bad_values(client, tenant):
    settings = client.get("/v1/matching/settings", headers=tenant.headers).get_json()
    assert settings == {
        "object": "matching_settings",
        "price_percent": "1.00",
        "quantity": "0",
        "amount": 100,
        "auto_approve": False,
    }
    response = client.put(
        "/v1/matching/settings", headers=tenant.headers, json={"price_percent": "-1"}
    )
    assert_contract_error(response, 400, "validation_error")


# --- purchase orders ---------------------------------------------------------------------


def test_a_purchase_order_from_json_is_open_and_its_number_unique(client, tenant):
    order = create_order(client, tenant)
    assert order["status"] == "open"
    assert order["source"] == "api"
    assert order["id"].startswith("po_")
    again = client.post("/v1/purchase-orders", headers=tenant.headers, json=ORDER)
    assert_contract_error(again, 409, "resource_already_exists")


def test_a_retried_purchase_order_answers_the_first_response(client, tenant):
    headers = {**tenant.headers, "Idempotency-Key": "po-4711"}
    first = client.post("/v1/purchase-orders", headers=headers, json=ORDER)
    second = client.post("/v1/purchase-orders", headers=headers, json=ORDER)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.get_json()["id"] == first.get_json()["id"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"currency": "EUR"}, "number"),
        ({"number": "X", "currency": "EURO"}, "currency"),
        ({"number": "X", "currency": "EUR", "line_items": [{"price": 1}]}, "line_items.0.price"),
        ({"number": "X", "currency": "EUR", "total_amount": 1.5}, "total_amount"),
    ],
)
def test_a_bad_purchase_order_is_refused_with_its_param(client, tenant, body, param):
    response = client.post("/v1/purchase-orders", headers=tenant.headers, json=body)
    assert assert_contract_error(response, 400, "validation_error")["param"] == param


def test_purchase_orders_list_by_status_in_cursor_pages(client, tenant):
    ids = [create_order(client, tenant, number=f"PO-{n}")["id"] for n in range(3)]
    client.post(f"/v1/purchase-orders/{ids[0]}/close", headers=tenant.headers, json={})
    first = client.get("/v1/purchase-orders?limit=2", headers=tenant.headers).get_json()
    assert [o["id"] for o in first["data"]] == [ids[2], ids[1]]
    assert first["has_more"] is True
    rest = client.get(
        f"/v1/purchase-orders?limit=2&cursor={first['next_cursor']}", headers=tenant.headers
    ).get_json()
    assert [o["id"] for o in rest["data"]] == [ids[0]]
    assert rest["has_more"] is False
    closed = client.get("/v1/purchase-orders?status=closed", headers=tenant.headers).get_json()
    assert [o["id"] for o in closed["data"]] == [ids[0]]


def test_a_closed_order_cannot_close_again(client, tenant):
    order = create_order(client, tenant)
    closed = client.post(
        f"/v1/purchase-orders/{order['id']}/close",
        headers=tenant.headers,
        json={"reason": "cancelled"},
    )
    assert closed.get_json()["status"] == "closed"
    assert closed.get_json()["status_reason"] == "cancelled"
    again = client.post(f"/v1/purchase-orders/{order['id']}/close", headers=tenant.headers, json={})
    assert_contract_error(again, 409, "invalid_state_transition")


def test_partial_invoices_accumulate_until_the_order_is_invoiced(client, tenant):
    order = create_order(client, tenant)
    first = upload(
        client,
        tenant,
        ubl_invoice(
            "R-1",
            "PO-4711",
            [("Druckerpapier A4", "10", "4.90"), ("Toner schwarz XL", "2", "75.50")],
        ),
        "r1.xml",
    )
    assert first["matched_document"]["id"] == order["id"]
    assert first["warnings"] == []
    partly = client.get(f"/v1/purchase-orders/{order['id']}", headers=tenant.headers).get_json()
    assert partly["status"] == "partially_invoiced"
    assert partly["invoiced_amount"] == 20000

    second = upload(
        client,
        tenant,
        ubl_invoice(
            "R-2",
            "PO-4711",
            [("Druckerpapier A4", "10", "4.90"), ("Toner schwarz XL", "2", "75.50")],
        ),
        "r2.xml",
    )
    assert second["warnings"] == []
    done = client.get(f"/v1/purchase-orders/{order['id']}", headers=tenant.headers).get_json()
    assert done["status"] == "invoiced"
    assert sorted(done["invoices"]) == sorted([first["id"], second["id"]])
    sent = events(client, tenant, "purchase_order.invoiced")
    assert [e["data"]["object"]["status"] for e in sent] == ["invoiced", "partially_invoiced"]

    third = upload(
        client,
        tenant,
        ubl_invoice("R-3", "PO-4711", [("Toner schwarz XL", "1", "75.50")]),
        "r3.xml",
    )
    codes = sorted(w["code"] for w in third["warnings"])
    assert codes == ["over_invoiced", "quantity_above_order"]


def test_an_invoice_line_not_on_the_order_is_unmatched(client, tenant):
    create_order(client, tenant)
    invoice = upload(
        client,
        tenant,
        ubl_invoice(
            "R-9",
            "PO-4711",
            [("Toner schwarz XL", "4", "75.50"), ("Expresszuschlag", "1", "25.00")],
        ),
        "r9.xml",
    )
    assert [(w["code"], w.get("line")) for w in invoice["warnings"]] == [("unmatched_line", 2)]


def test_reprocessing_an_invoice_does_not_count_it_twice(client, tenant):
    order = create_order(client, tenant)
    invoice = upload(
        client,
        tenant,
        ubl_invoice("R-1", "PO-4711", [("Toner schwarz XL", "4", "75.50")]),
        "r1.xml",
    )
    client.post(f"/v1/invoices/{invoice['id']}/reprocess", headers=tenant.headers, json={})
    assert extract_now(invoice["id"]) == "succeeded"
    again = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).get_json()
    assert again["warnings"] == []
    detail = client.get(f"/v1/purchase-orders/{order['id']}", headers=tenant.headers).get_json()
    assert detail["invoiced_amount"] == 30200
    with db.connection() as conn:
        rows = conn.execute(
            "select count(*) as n from commercial_document_invoices where invoice_id = %(id)s",
            {"id": invoice["id"]},
        ).fetchone()
    assert rows["n"] == 1


def test_a_fault_in_matching_keeps_the_extraction_and_says_so(client, tenant, monkeypatch):
    from common.commercial import service

    def broken(conn, invoice):
        raise RuntimeError("matcher bug")

    monkeypatch.setattr(service, "_match_invoice", broken)
    invoice = upload(client, tenant, make_demo_pdf(HIGHER_PRICE_TEXTS), "rechnung.pdf")
    assert invoice["status"] == "succeeded"
    assert invoice["total_amount"] == 25347
    assert [w["code"] for w in invoice["warnings"]] == ["matching_failed"]


def test_an_uploaded_purchase_order_becomes_an_open_order(client, tenant):
    pdf = make_demo_pdf({"Rechnung": "Purchase Order"})
    uploaded = upload(client, tenant, pdf, "bestellung.pdf")
    assert uploaded["document_type"] == "purchase_order"
    orders = client.get("/v1/purchase-orders", headers=tenant.headers).get_json()["data"]
    assert [(o["status"], o["source"], o["upload_id"]) for o in orders] == [
        ("open", "upload", uploaded["id"])
    ]
    assert len(orders[0]["line_items"]) == 2
    assert events(client, tenant, "quote.received") == []


def test_reprocessing_a_quote_refreshes_it_and_keeps_its_state(client, tenant, quote):
    accept(client, tenant, quote["id"])
    client.post(f"/v1/invoices/{quote['upload_id']}/reprocess", headers=tenant.headers, json={})
    assert extract_now(quote["upload_id"]) == "succeeded"
    quotes = client.get("/v1/quotes", headers=tenant.headers).get_json()["data"]
    assert [(q["id"], q["status"]) for q in quotes] == [(quote["id"], "accepted")]
    assert len(events(client, tenant, "quote.received")) == 1


def test_an_invoice_without_lines_matches_the_accepted_quote_by_its_total(client, tenant):
    quote_pdf = make_text_pdf(
        ["ACME Supplies GmbH", "Quotation", "Date: 2026-11-20", "Total: 119.00 EUR"]
    )
    upload(client, tenant, quote_pdf, "quote.pdf")
    quote = client.get("/v1/quotes", headers=tenant.headers).get_json()["data"][0]
    assert quote["line_items"] == []
    accept(client, tenant, quote["id"])
    invoice = upload(client, tenant, make_text_pdf(), "invoice.pdf")  # ACME, 119.00 EUR
    assert invoice["matched_document"]["id"] == quote["id"]
    other_vendor = upload(
        client,
        tenant,
        make_text_pdf(["Zeta Catering Ltd", "Invoice", "Invoice number: Z-1", "Total: 119.00 EUR"]),
        "zeta.pdf",
    )
    assert other_vendor["matched_document"] is None


def test_a_patched_order_is_matched_with_its_new_lines(client, tenant):
    order = create_order(client, tenant)
    patched = client.patch(
        f"/v1/purchase-orders/{order['id']}",
        headers=tenant.headers,
        json={
            "line_items": [
                {
                    "description": "Toner schwarz XL",
                    "quantity": "4",
                    "unit_price": 8000,
                    "total_price": 32000,
                }
            ],
            "subtotal_amount": 32000,
        },
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)
    assert patched.get_json()["number"] == "PO-4711"
    assert len(patched.get_json()["line_items"]) == 1
    invoice = upload(
        client,
        tenant,
        ubl_invoice("R-5", "PO-4711", [("Toner schwarz XL", "4", "80.00")]),
        "r5.xml",
    )
    assert invoice["warnings"] == []


def test_an_order_cannot_take_another_orders_number_or_change_once_closed(client, tenant):
    first = create_order(client, tenant)
    second = create_order(client, tenant, number="PO-4712")
    taken = client.patch(
        f"/v1/purchase-orders/{second['id']}", headers=tenant.headers, json={"number": "po-4711"}
    )
    assert assert_contract_error(taken, 409, "resource_already_exists")["param"] == "number"
    client.post(f"/v1/purchase-orders/{first['id']}/close", headers=tenant.headers, json={})
    closed = client.patch(
        f"/v1/purchase-orders/{first['id']}", headers=tenant.headers, json={"tax_amount": 1}
    )
    assert_contract_error(closed, 409, "invalid_state_transition")


def test_correcting_the_order_number_matches_the_invoice_again(client, tenant):
    order = create_order(client, tenant)
    invoice = upload(client, tenant, make_demo_pdf(HIGHER_PRICE_TEXTS), "rechnung.pdf")
    assert invoice["matched_document"] is None  # the page names no order

    patched = client.patch(
        f"/v1/invoices/{invoice['id']}", headers=tenant.headers, json={"purchase_order": "PO-4711"}
    ).get_json()
    assert patched["matched_document"]["id"] == order["id"]
    assert [w["code"] for w in patched["warnings"]] == ["price_above_quote"]
    detail = client.get(f"/v1/purchase-orders/{order['id']}", headers=tenant.headers).get_json()
    assert (detail["status"], detail["invoices"]) == ("partially_invoiced", [invoice["id"]])

    unlinked = client.patch(
        f"/v1/invoices/{invoice['id']}", headers=tenant.headers, json={"purchase_order": None}
    ).get_json()
    assert unlinked["matched_document"] is None
    assert unlinked["warnings"] == []
    detail = client.get(f"/v1/purchase-orders/{order['id']}", headers=tenant.headers).get_json()
    assert (detail["status"], detail["invoices"]) == ("open", [])


def test_correcting_other_fields_leaves_the_match_alone(client, tenant):
    create_order(client, tenant)
    invoice = upload(
        client, tenant, ubl_invoice("R-1", "PO-4711", [("Toner schwarz XL", "4", "75.50")]), "r.xml"
    )
    patched = client.patch(
        f"/v1/invoices/{invoice['id']}", headers=tenant.headers, json={"notes": "checked"}
    ).get_json()
    assert patched["matched_document"] == invoice["matched_document"]
