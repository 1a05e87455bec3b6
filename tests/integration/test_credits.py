"""Credits: live uploads take one credit per page, from the plan's monthly allotment and
then from top-ups; test mode takes none; past both, 429 `monthly_limit_reached`. Exact under
concurrency. Real Postgres; no worker runs here."""

from __future__ import annotations

import io
import json
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.test_api_contract import assert_contract_error
from tests.support import make_text_pdf, make_ubl_invoice


@pytest.fixture
def plan_limits(settings):
    """Set INVEX_PLAN_LIMITS for one test (the service reads the process's settings)."""
    from common.config import get_settings

    before = os.environ.get("INVEX_PLAN_LIMITS")

    def set_limits(value: str) -> None:
        os.environ["INVEX_PLAN_LIMITS"] = value
        get_settings.cache_clear()

    yield set_limits
    if before is None:
        os.environ.pop("INVEX_PLAN_LIMITS", None)
    else:
        os.environ["INVEX_PLAN_LIMITS"] = before
    get_settings.cache_clear()


def upload(client, secret: str, data: bytes, name: str = "invoice.pdf", **headers):
    return client.post(
        "/v1/invoices",
        headers={"Authorization": f"Bearer {secret}", **headers},
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def credits_of(client, tenant) -> dict:
    response = client.get("/v1/credits", headers=tenant.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_credits_show_the_plan_and_what_is_left(client, tenant):
    from common.plans import PLANS

    allotment = PLANS["free"].monthly_pages
    body = credits_of(client, tenant)
    assert body == {
        "object": "credits",
        "plan": "free",
        "plan_monthly_allotment": allotment,
        "used": 0,
        "subscription": allotment,
        "top_up": 0,
        "remaining": allotment,
        "period": body["period"],
    }
    assert body["period"]["start"] <= time.time() < body["period"]["end"]


def test_credits_need_the_settings_read_scope(client, tenant):
    key = tenant.new_key(scopes=["invoices:read"])
    response = client.get("/v1/credits", headers={"Authorization": f"Bearer {key}"})
    assert_contract_error(response, 403, "insufficient_scope")


def test_a_live_upload_takes_one_credit_per_page(client, tenant):
    response = upload(client, tenant.secret, make_text_pdf(pages=3))
    assert response.status_code == 202
    assert response.get_json()["file"]["pages"] == 3
    body = credits_of(client, tenant)
    assert body["used"] == 3
    assert body["remaining"] == body["plan_monthly_allotment"] - 3


def test_test_mode_never_takes_credits(client, tenant, plan_limits):
    plan_limits("free.monthly_pages=0")
    test_key = tenant.new_key(livemode=False)
    statuses = [upload(client, test_key, make_text_pdf([f"T {n}"])).status_code for n in range(3)]
    assert statuses == [202, 202, 202]
    assert credits_of(client, tenant)["used"] == 0


def test_past_the_allotment_and_top_up_uploads_answer_monthly_limit_reached(
    client, tenant, plan_limits
):
    from common.credits.service import add_top_up

    plan_limits("free.monthly_pages=2")
    assert upload(client, tenant.secret, make_text_pdf(pages=2)).status_code == 202
    refused = upload(client, tenant.secret, make_ubl_invoice(), "i.xml")
    error = assert_contract_error(refused, 429, "monthly_limit_reached")
    assert error["type"] == "rate_limit_error"
    add_top_up(tenant.org.id, 1)
    assert upload(client, tenant.secret, make_ubl_invoice(), "i.xml").status_code == 202
    assert credits_of(client, tenant) | {"period": None} == {
        "object": "credits",
        "plan": "free",
        "plan_monthly_allotment": 2,
        "used": 2,
        "subscription": 0,
        "top_up": 0,
        "remaining": 0,
        "period": None,
    }
    assert_contract_error(
        upload(client, tenant.secret, make_text_pdf()), 429, "monthly_limit_reached"
    )


def test_a_refused_upload_stores_nothing(client, tenant, plan_limits):
    plan_limits("free.monthly_pages=1")
    assert_contract_error(
        upload(client, tenant.secret, make_text_pdf(pages=2)), 429, "monthly_limit_reached"
    )
    listed = client.get("/v1/invoices", headers=tenant.headers).get_json()
    assert listed["data"] == []


def test_an_upload_refused_for_credits_can_be_retried_under_its_key(client, tenant, plan_limits):
    from common.credits.service import add_top_up

    plan_limits("free.monthly_pages=1")
    headers = {"Idempotency-Key": "retry-after-top-up"}
    pdf = make_text_pdf(pages=2)
    refused = upload(client, tenant.secret, pdf, **headers)
    assert_contract_error(refused, 429, "monthly_limit_reached")
    add_top_up(tenant.org.id, 1)
    accepted = upload(client, tenant.secret, pdf, **headers)
    assert accepted.status_code == 202
    assert credits_of(client, tenant)["remaining"] == 0


def test_a_replayed_upload_is_not_charged_again(client, tenant, plan_limits):
    plan_limits("free.monthly_pages=1")
    headers = {"Idempotency-Key": "credits-replay-1"}
    first = upload(client, tenant.secret, make_ubl_invoice(), "i.xml", **headers)
    again = upload(client, tenant.secret, make_ubl_invoice(), "i.xml", **headers)
    assert first.status_code == again.status_code == 202
    assert again.get_json()["id"] == first.get_json()["id"]
    assert credits_of(client, tenant)["used"] == 1


def test_deleting_an_invoice_gives_no_credits_back(client, tenant):
    invoice = upload(client, tenant.secret, make_text_pdf()).get_json()
    assert client.delete(f"/v1/invoices/{invoice['id']}", headers=tenant.headers).status_code == 200
    assert credits_of(client, tenant)["used"] == 1


def test_a_new_month_starts_the_allotment_afresh_and_keeps_the_top_up(client, tenant):
    from common import db
    from common.credits.service import add_top_up

    add_top_up(tenant.org.id, 7)
    upload(client, tenant.secret, make_text_pdf(pages=2))
    with db.connection() as conn:  # as if those pages had been used last month
        conn.execute(
            "update credit_balances set period = period - interval '1 month'"
            " where org_id = %(org)s",
            {"org": tenant.org.id},
        )
    body = credits_of(client, tenant)
    assert (body["used"], body["top_up"]) == (0, 7)
    upload(client, tenant.secret, make_text_pdf())
    body = credits_of(client, tenant)
    assert (body["used"], body["top_up"]) == (1, 7)


def test_a_thousand_racing_uploads_against_500_credits_create_exactly_500(tenant):
    """The allotment (free) plus a top-up make exactly 500 pages; 1,000 one-page uploads race
    for them on 16 threads through the real service and database."""
    import redis

    from common import db
    from common.accounts.service import authenticate
    from common.config import get_settings
    from common.credits.service import add_top_up, credits
    from common.errors import MonthlyLimitReached
    from common.invoices.service import create_invoice
    from common.plans import PLANS

    add_top_up(tenant.org.id, 500 - PLANS["free"].monthly_pages)
    principal = authenticate(tenant.secret)
    document = make_ubl_invoice("RACE-1")
    start = threading.Barrier(16)

    def attempt(number: int) -> str:
        if number < 16:
            start.wait()  # the first wave starts together
        try:
            create_invoice(
                principal,
                file_name=f"race-{number}.xml",
                content_type="application/xml",
                data=document,
            )
        except MonthlyLimitReached:
            return "refused"
        return "created"

    began = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            outcomes = Counter(pool.map(attempt, range(1000)))
    finally:
        # No worker needs to extract 500 copies of one test document.
        redis.Redis.from_url(get_settings().redis_url).delete("extract")
    elapsed = time.monotonic() - began

    assert outcomes == {"created": 500, "refused": 500}
    with db.connection() as conn:
        stored = conn.execute(
            "select count(*) as n from invoices where org_id = %(org)s", {"org": tenant.org.id}
        ).fetchone()
    assert stored is not None
    assert stored["n"] == 500
    body = credits(principal)
    assert (body["subscription"], body["top_up"], body["remaining"]) == (0, 0, 0)
    assert elapsed < 30, f"took {elapsed:.1f} s"


def test_operator_changes_the_plan_and_tops_up(client, tenant, capsys):
    from common.cli import main
    from common.plans import PLANS

    assert main(["orgs", "set-plan", tenant.org.id, "pro", "--json"]) == 0
    changed = json.loads(capsys.readouterr().out)
    assert (changed["org"], changed["plan"]) == (tenant.org.id, "pro")
    assert main(["credits", "top-up", tenant.org.id, "250", "--json"]) == 0
    topped = json.loads(capsys.readouterr().out)
    assert topped["top_up"] == 250
    body = credits_of(client, tenant)
    assert body["plan_monthly_allotment"] == PLANS["pro"].monthly_pages
    assert body["remaining"] == PLANS["pro"].monthly_pages + 250
    assert main(["credits", "show", tenant.org.id]) == 0
    assert "plan pro" in capsys.readouterr().out


def test_operator_commands_refuse_unknown_organisations_and_plans(settings, capsys):
    from common.cli import main

    assert main(["credits", "top-up", "org_nothing", "5"]) == 1
    assert "validation_error" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["orgs", "set-plan", "org_nothing", "platinum"])


def test_a_pdf_over_the_page_limit_is_refused_at_upload_with_its_real_count_uncharged(
    client, tenant
):
    from common.config import get_settings

    limit = get_settings().max_pages
    refused = upload(client, tenant.secret, make_text_pdf(pages=limit + 1))
    error = assert_contract_error(refused, 422, "too_many_pages")
    assert (error["pages"], error["max_pages"]) == (limit + 1, limit)
    assert error["param"] == "file"
    assert credits_of(client, tenant)["used"] == 0
    assert client.get("/v1/invoices", headers=tenant.headers).get_json()["data"] == []


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.7\n" + b"\x00" * 500, "zeros.pdf"),
        (make_text_pdf()[:300], "truncated.pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_at_upload_uncharged(client, tenant, data, name):
    refused = upload(client, tenant.secret, data, name)
    assert assert_contract_error(refused, 422, "unreadable_file")["param"] == "file"
    assert credits_of(client, tenant)["used"] == 0
    assert client.get("/v1/invoices", headers=tenant.headers).get_json()["data"] == []


def test_monthly_limit_reached_says_to_retry_when_the_next_period_starts(
    client, tenant, plan_limits
):
    plan_limits("free.monthly_pages=0")
    refused = upload(client, tenant.secret, make_text_pdf())
    assert_contract_error(refused, 429, "monthly_limit_reached")
    retry_after = int(refused.headers["Retry-After"])
    period_end = credits_of(client, tenant)["period"]["end"]
    assert 0 < retry_after <= 31 * 86400
    assert abs(time.time() + retry_after - period_end) <= 2
