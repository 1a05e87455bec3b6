"""The review workflow: corrections with the extracted originals kept, workflow moves with
their events, comments and history."""

from __future__ import annotations

import io
import itertools
import subprocess
import sys
import threading
import time

import pytest

from common.invoices.review import TRANSITIONS
from tests.integration.test_api_contract import assert_contract_error
from tests.support import ROOT, extract_now, make_text_pdf, make_ubl_invoice


@pytest.fixture
def invoice(client, tenant) -> dict:
    """An uploaded invoice, extracted by the real task code run in this process."""
    created = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_text_pdf()), "invoice.pdf")},
    ).get_json()
    assert extract_now(created["id"]) == "succeeded"
    return client.get(f"/v1/invoices/{created['id']}", headers=tenant.headers).get_json()


def act(client, tenant, invoice_id: str, action: str, **body):
    return client.post(f"/v1/invoices/{invoice_id}/{action}", headers=tenant.headers, json=body)


def test_correction_keeps_the_extracted_value(client, tenant, invoice):
    response = client.patch(
        f"/v1/invoices/{invoice['id']}",
        headers=tenant.headers,
        json={"invoice_number": "INV-FIXED", "total_amount": 12000, "invoice_date": "2026-03-15"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["invoice_number"] == "INV-FIXED"
    expanded = client.get(
        f"/v1/invoices/{invoice['id']}?expand=extracted", headers=tenant.headers
    ).get_json()
    assert expanded["total_amount"] == 12000
    assert expanded["invoice_date"] == "2026-03-15"
    assert expanded["extracted"]["invoice_number"] == invoice["invoice_number"]
    assert expanded["extracted"]["total_amount"] == invoice["total_amount"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"colour": "blue"}, "colour"),
        ({"currency": "EURO"}, "currency"),
        ({"total_amount": 12.5}, "total_amount"),
        ({"invoice_date": "15/03/2026"}, "invoice_date"),
        ({"line_items": [{"description": "x", "price": 1}]}, "line_items.0.price"),
    ],
)
def test_invalid_correction_names_the_param_and_changes_nothing(
    client, tenant, invoice, body, param
):
    response = client.patch(f"/v1/invoices/{invoice['id']}", headers=tenant.headers, json=body)
    assert assert_contract_error(response, 400, "validation_error")["param"] == param
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).get_json()
    assert after["updated"] == invoice["updated"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"total_amount": 999999999999999999999999999}, "total_amount"),
        ({"amount_due": -(10**15)}, "amount_due"),
        ({"line_items": [{"unit_price": 10**15}]}, "line_items.0.unit_price"),
        ({"line_items": [{"quantity": "123456789012.123456"}]}, "line_items.0.quantity"),
        (
            {"line_items": [{"unit_price_decimal": "123456789012.123456"}]},
            "line_items.0.unit_price_decimal",
        ),
        ({"tax_breakdown": [{"taxable_amount": 10**18}]}, "tax_breakdown.0.taxable_amount"),
    ],
)
def test_an_amount_or_quantity_beyond_what_ubl_and_bigint_carry_is_refused(
    client, tenant, invoice, body, param
):
    response = client.patch(f"/v1/invoices/{invoice['id']}", headers=tenant.headers, json=body)
    assert assert_contract_error(response, 400, "validation_error")["param"] == param
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).get_json()
    assert after == invoice


def test_the_largest_amount_and_quantity_allowed_are_stored(client, tenant, invoice):
    line = {"quantity": "123456789012.345", "unit_price": 10**15 - 1}
    response = client.patch(
        f"/v1/invoices/{invoice['id']}",
        headers=tenant.headers,
        json={"total_amount": 10**15 - 1, "line_items": [line]},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["total_amount"] == 10**15 - 1


def test_history_records_who_changed_what(client, tenant, invoice):
    client.patch(
        f"/v1/invoices/{invoice['id']}", headers=tenant.headers, json={"vendor_name": "Fixed"}
    )
    act(client, tenant, invoice["id"], "approve", reason="checked")
    entries = client.get(
        f"/v1/invoices/{invoice['id']}/history", headers=tenant.headers
    ).get_json()["data"]
    assert [(e["kind"], e["field"], e["new"]) for e in entries] == [
        ("correction", "vendor_name", "Fixed"),
        ("transition", "review_status", "approved"),
    ]
    assert entries[0]["old"] == invoice["vendor_name"]
    assert entries[1]["reason"] == "checked"
    assert entries[0]["key_id"].startswith("key_")


@pytest.mark.parametrize(
    ("path", "final"),
    [
        (["approve"], "approved"),
        (["reject"], "rejected"),
        (["approve", "mark-paid"], "paid"),
        (["reject", "approve"], "approved"),
        (["approve", "reject"], "rejected"),
        (["archive"], "archived"),
        (["approve", "mark-paid", "archive"], "archived"),
    ],
)
def test_allowed_moves(client, tenant, invoice, path, final):
    for action in path:
        response = act(client, tenant, invoice["id"], action)
        assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["review_status"] == final


# A path to each review state, and every move the state table forbids from there.
PATH_TO = {
    "received": [],
    "approved": ["approve"],
    "rejected": ["reject"],
    "paid": ["approve", "mark-paid"],
    "archived": ["archive"],
}
ILLEGAL = [
    (state, action)
    for state in PATH_TO
    for action, move in TRANSITIONS.items()
    if state not in move.from_statuses
]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_illegal_move_is_a_conflict_and_changes_nothing(client, tenant, invoice, state, action):
    for step in PATH_TO[state]:
        assert act(client, tenant, invoice["id"], step).status_code == 200
    before = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).get_json()
    assert before["review_status"] == state
    response = act(client, tenant, invoice["id"], action)
    assert_contract_error(response, 409, "invalid_state_transition")
    after = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).get_json()
    assert after["review_status"] == before["review_status"]


def test_each_move_writes_its_event(client, tenant, invoice):
    act(client, tenant, invoice["id"], "approve")
    act(client, tenant, invoice["id"], "mark-paid")
    types = [
        e["type"]
        for e in client.get("/v1/events?limit=100", headers=tenant.headers).get_json()["data"]
    ]
    assert types[:2] == ["invoice.paid", "invoice.approved"]


def test_concurrent_moves_cannot_both_win(app, tenant, invoice):
    outcomes: list[int] = []
    barrier = threading.Barrier(2)

    def move(action: str) -> None:
        with app.test_client() as own:
            barrier.wait()
            outcomes.append(act(own, tenant, invoice["id"], action).status_code)

    threads = [threading.Thread(target=move, args=(a,)) for a in ("approve", "reject")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) in ([200, 200], [200, 409])  # serialized, or one refused
    with app.test_client() as own:
        history = own.get(f"/v1/invoices/{invoice['id']}/history", headers=tenant.headers)
    moves = [e for e in history.get_json()["data"] if e["kind"] == "transition"]
    assert len(moves) == outcomes.count(200)
    # every recorded move started from the state the previous one left
    assert moves[0]["old"] == "received"
    for earlier, later in itertools.pairwise(moves):
        assert later["old"] == earlier["new"]


def test_comments_round_trip(client, tenant, invoice):
    created = client.post(
        f"/v1/invoices/{invoice['id']}/comments", headers=tenant.headers, json={"body": "Looks ok"}
    )
    assert created.status_code == 201
    listed = client.get(f"/v1/invoices/{invoice['id']}/comments", headers=tenant.headers)
    assert [c["body"] for c in listed.get_json()["data"]] == ["Looks ok"]


def test_correcting_a_queued_invoice_is_refused(client, tenant):
    queued = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_text_pdf(["Queued one"])), "q.pdf")},
    ).get_json()
    response = client.patch(
        f"/v1/invoices/{queued['id']}", headers=tenant.headers, json={"notes": "x"}
    )
    assert_contract_error(response, 409, "invalid_state_transition")


def upload_queued(client, tenant, data: bytes, name: str) -> dict:
    return client.post(
        "/v1/invoices", headers=tenant.headers, data={"file": (io.BytesIO(data), name)}
    ).get_json()


@pytest.mark.parametrize("action", ["approve", "reject", "archive"])  # allowed from received
def test_a_review_move_on_an_invoice_still_being_extracted_is_a_conflict(client, tenant, action):
    queued = upload_queued(client, tenant, make_text_pdf([f"Queued for {action}"]), "q.pdf")
    response = act(client, tenant, queued["id"], action)
    assert_contract_error(response, 409, "invalid_state_transition")
    after = client.get(f"/v1/invoices/{queued['id']}", headers=tenant.headers).get_json()
    assert after["review_status"] == "received"


@pytest.fixture
def failed_invoice(client, tenant) -> dict:
    broken = upload_queued(client, tenant, make_ubl_invoice()[:-40], "broken.xml")
    assert extract_now(broken["id"]) == "failed"
    return broken


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_failed_invoice_cannot_be_reviewed(client, tenant, failed_invoice, action):
    response = act(client, tenant, failed_invoice["id"], action)
    assert_contract_error(response, 409, "invalid_state_transition")


def test_a_failed_invoice_cannot_be_corrected(client, tenant, failed_invoice):
    response = client.patch(
        f"/v1/invoices/{failed_invoice['id']}", headers=tenant.headers, json={"notes": "x"}
    )
    assert_contract_error(response, 409, "invalid_state_transition")


def test_a_failed_invoice_can_be_archived(client, tenant, failed_invoice):
    response = act(client, tenant, failed_invoice["id"], "archive")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["review_status"] == "archived"


def test_duplicate_filter(client, tenant):
    pdf = make_text_pdf(["Same file twice"])
    for _ in range(2):
        client.post(
            "/v1/invoices", headers=tenant.headers, data={"file": (io.BytesIO(pdf), "d.pdf")}
        )
    dupes = client.get("/v1/invoices?duplicate=true", headers=tenant.headers).get_json()["data"]
    originals = client.get("/v1/invoices?duplicate=false", headers=tenant.headers).get_json()
    assert len(dupes) == 1
    assert len(originals["data"]) == 1
    assert dupes[0]["duplicate_of"] == originals["data"][0]["id"]


def extracted(client, tenant, data: bytes, name: str) -> dict:
    created = client.post(
        "/v1/invoices", headers=tenant.headers, data={"file": (io.BytesIO(data), name)}
    ).get_json()
    assert extract_now(created["id"]) == "succeeded"
    return created


def test_xml_of_an_xml_upload_is_the_original(client, tenant):
    from tests.support import make_ubl_invoice

    original = make_ubl_invoice("XML-1")
    invoice = extracted(client, tenant, original, "e.xml")
    response = client.get(f"/v1/invoices/{invoice['id']}/xml", headers=tenant.headers)
    assert response.status_code == 200
    assert response.data == original
    rendered = client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=tenant.headers)
    assert rendered.mimetype == "application/pdf"
    import pymupdf

    with pymupdf.open(stream=rendered.data, filetype="pdf") as doc:
        assert "XML-1" in doc[0].get_text()


def test_xml_of_a_facturx_pdf_is_the_attached_invoice_not_a_notes_file(client, tenant):
    import pymupdf

    from tests.unit.extraction.einvoice_documents import cii_invoice, facturx_pdf

    xml = cii_invoice(number="FX-77")
    attached = facturx_pdf(xml, "Rechnung FX-77 Gesamt 10,70", attachment_name="rechnung.xml")
    with pymupdf.open(stream=attached) as doc:
        # XML too, and first by name: only its root says it is not the invoice
        doc.embfile_add("anmerkungen.xml", b"<?xml version='1.0'?><notes>paid by card</notes>")
        pdf = doc.tobytes()
    invoice = extracted(client, tenant, pdf, "fx.pdf")
    response = client.get(f"/v1/invoices/{invoice['id']}/xml", headers=tenant.headers)
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.data == xml


def test_generated_ubl_from_corrected_fields_validates(client, tenant):
    from common.demo import demo_invoice_pdf
    from common.invoices.ubl_validation import validate_ubl

    invoice = extracted(client, tenant, demo_invoice_pdf(), "demo.pdf")
    corrected = client.patch(
        f"/v1/invoices/{invoice['id']}",
        headers=tenant.headers,
        json={
            "customer_name": "Kundin AG",
            "customer_address": "Ringweg 3\n80331 München\nDE",
            "vendor_address": "Hafenstraße 12\n20457 Hamburg\nDE",
            "invoice_number": "RE-2026-1187-K",
        },
    )
    assert corrected.status_code == 200, corrected.get_data(as_text=True)
    response = client.get(f"/v1/invoices/{invoice['id']}/xml", headers=tenant.headers)
    assert response.status_code == 200
    assert b"RE-2026-1187-K" in response.data
    assert validate_ubl(response.data) == []
    original_pdf = client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=tenant.headers)
    assert original_pdf.data == demo_invoice_pdf() or original_pdf.data[:5] == b"%PDF-"


def test_a_sub_cent_unit_price_is_shown_exactly(client, tenant):
    from tests.unit.extraction.einvoice_documents import cii_invoice

    invoice = extracted(client, tenant, cii_invoice(), "cii.xml")
    shown = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).get_json()
    (line,) = shown["line_items"]
    assert (line["unit_price"], line["unit_price_decimal"]) == (333, "3.3333")


def test_a_corrected_sub_cent_unit_price_reaches_the_generated_ubl_exactly(client, tenant):
    from lxml import etree

    from common.demo import demo_invoice_pdf
    from common.invoices.ubl_validation import validate_ubl

    invoice = extracted(client, tenant, demo_invoice_pdf(), "demo.pdf")
    line = {"description": "Turf", "quantity": "3", "unit_price": 333, "total_price": 1000}
    corrected = client.patch(
        f"/v1/invoices/{invoice['id']}",
        headers=tenant.headers,
        json={
            "line_items": [{**line, "unit_price_decimal": "3.3333"}],
            "customer_name": "Kundin AG",
            "customer_address": "Ringweg 3\n80331 München\nDE",
            "vendor_address": "Hafenstraße 12\n20457 Hamburg\nDE",
        },
    )
    assert corrected.status_code == 200, corrected.get_data(as_text=True)
    assert corrected.get_json()["line_items"][0]["unit_price_decimal"] == "3.3333"
    ubl = client.get(f"/v1/invoices/{invoice['id']}/xml", headers=tenant.headers).data
    prices = etree.fromstring(ubl).xpath("//*[local-name()='PriceAmount']/text()")
    assert prices[0] == "3.3333"  # a line for the rest of the stated totals may follow
    assert validate_ubl(ubl) == []


def test_schema_custom_fields_are_extracted(client, tenant):
    schema = client.post(
        "/v1/schemas",
        headers=tenant.headers,
        json={
            "name": "Cost centres",
            "is_default": True,
            "fields": [
                {"name": "cost_centre", "labels": ["Cost centre"], "pattern": r"(CC-\d+)"},
                {"name": "freight", "type": "money", "labels": ["Freight"]},
            ],
        },
    )
    assert schema.status_code == 201, schema.get_data(as_text=True)
    pdf = make_text_pdf(
        [
            "ACME GmbH",
            "Invoice number: CF-1",
            "Cost centre: CC-4711 (north)",
            "Freight 12.50 EUR",
            "Total: 119.00 EUR",
        ]
    )
    invoice = extracted(client, tenant, pdf, "cf.pdf")
    shown = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).get_json()
    assert shown["custom_fields"] == {"cost_centre": "CC-4711", "freight": 1250}


@pytest.mark.parametrize("pattern", [r"(a+)\1", r"(?=x)y", "(unclosed"])
def test_unsafe_or_broken_patterns_are_refused(client, tenant, pattern):
    response = client.post(
        "/v1/schemas",
        headers=tenant.headers,
        json={"name": "x", "fields": [{"name": "f", "pattern": pattern}]},
    )
    assert assert_contract_error(response, 400, "validation_error")["param"] == "fields.0.pattern"


def test_catastrophic_pattern_finishes_at_once(client, tenant):
    import time

    client.post(
        "/v1/schemas",
        headers=tenant.headers,
        json={"name": "slow?", "is_default": True, "fields": [{"name": "f", "pattern": r"(a+)+$"}]},
    )
    started = time.monotonic()
    extracted(
        client, tenant, make_text_pdf(["ACME GmbH", "a" * 60 + "b", "Total: 1.00 EUR"]), "evil.pdf"
    )
    assert time.monotonic() - started < 10  # a backtracking engine would take ages


def test_unknown_schema_on_upload_is_not_found(client, tenant):
    response = client.post(
        "/v1/invoices",
        headers=tenant.headers,
        data={"file": (io.BytesIO(make_text_pdf()), "a.pdf"), "schema_id": "sch_nope"},
    )
    assert assert_contract_error(response, 404, "resource_not_found")["param"] == "schema_id"


def test_same_vendor_number_and_total_is_suspected_duplicate(client, tenant):
    first = extracted(client, tenant, make_text_pdf(), "one.pdf")
    # the same invoice, sent again as a different file (another scan or export)
    again = extracted(client, tenant, make_text_pdf() + b"\n% re-exported", "two.pdf")
    shown = client.get(f"/v1/invoices/{again['id']}", headers=tenant.headers).get_json()
    assert shown["duplicate_of"] is None  # not the same bytes
    suspected = [w for w in shown["warnings"] if w["code"] == "duplicate_suspected"]
    assert suspected
    assert suspected[0]["duplicate_of"] == first["id"]


def test_usage_reports_corrections_per_field(client, tenant, invoice):
    client.patch(
        f"/v1/invoices/{invoice['id']}", headers=tenant.headers, json={"vendor_name": "Fixed"}
    )
    client.patch(
        f"/v1/invoices/{invoice['id']}", headers=tenant.headers, json={"vendor_name": "Fixed 2"}
    )
    report = client.get("/v1/usage", headers=tenant.headers).get_json()
    assert report["invoices"] == 1
    assert report["pages"] == 1
    assert report["corrections"] == {"vendor_name": {"invoices": 1, "share": 1.0}}
    assert report["api_calls"] >= 3


def test_api_calls_are_counted_exactly_and_reach_redis_within_seconds(client, tenant):
    from common.health import redis_client
    from common.usage.service import FLUSH_SECONDS

    for _ in range(5):
        assert client.get("/v1/invoices", headers=tenant.headers).status_code == 200
    keys = redis_client().keys(f"invex:usage:{tenant.org.id}:live:*:calls")
    deadline = time.monotonic() + FLUSH_SECONDS * 5
    # the process's flusher thread adds them, with no request to carry them
    while (int(redis_client().get(keys[0]) or 0) if keys else 0) < 5:
        assert time.monotonic() < deadline, "the calls never reached Redis"
        time.sleep(0.05)
        keys = keys or redis_client().keys(f"invex:usage:{tenant.org.id}:live:*:calls")
    report = client.get("/v1/usage", headers=tenant.headers).get_json()
    assert report["api_calls"] == 6  # the five lists and this read


# Counts API calls for a while, so the flusher thread is at work, then exits.
COUNTING_PROCESS = """
import sys, time
from common.accounts.service import Principal
from common.usage.service import count_api_call
principal = Principal(org_id=sys.argv[1], key_id="key_exit", livemode=True, scopes=frozenset())
calls, deadline = 0, time.monotonic() + 1.5
while time.monotonic() < deadline:
    count_api_call(principal)
    calls += 1
    if calls % 100 == 0:
        time.sleep(0.001)
print(calls)
"""


def test_a_process_ending_cleanly_adds_its_last_calls_and_exits(settings):
    from common.health import redis_client

    org = f"org_exit{time.time_ns()}"
    done = subprocess.run(
        [sys.executable, "-c", COUNTING_PROCESS, org],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    keys = redis_client().keys(f"invex:usage:{org}:live:*:calls")
    assert len(keys) == 1, done.stderr
    assert int(redis_client().get(keys[0])) == int(done.stdout)


def test_an_upload_under_the_default_schema_shows_that_schema(client, tenant):
    default = client.post(
        "/v1/schemas",
        headers=tenant.headers,
        json={"name": "Default", "is_default": True, "fields": [{"name": "cost_centre"}]},
    ).get_json()
    invoice = extracted(client, tenant, make_text_pdf(), "d.pdf")
    assert invoice["schema_id"] == default["id"]
    shown = client.get(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).get_json()
    assert shown["schema_id"] == default["id"]


def test_a_later_default_schema_does_not_rewrite_an_invoice_s_schema(client, tenant):
    first = client.post(
        "/v1/schemas",
        headers=tenant.headers,
        json={"name": "First", "is_default": True, "fields": [{"name": "cost_centre"}]},
    ).get_json()
    invoice = extracted(client, tenant, make_text_pdf(), "d.pdf")
    client.post(
        "/v1/schemas",
        headers=tenant.headers,
        json={"name": "Second", "is_default": True, "fields": [{"name": "project"}]},
    )
    reprocessed = client.post(f"/v1/invoices/{invoice['id']}/reprocess", headers=tenant.headers)
    assert reprocessed.get_json()["schema_id"] == first["id"]
