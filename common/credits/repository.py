"""SQL for credit balances. Never commits; holds no rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from common.db import Conn


@dataclass(frozen=True)
class Balance:
    period: date
    used: int
    top_up: int


# What an upload takes, embedded as a CTE in the upload's single statement
# (common/invoices/repository.py insert_upload) over the invoice it inserts (`invoice`): the
# pages come from what is left of the month's allotment, then from the top-up. A row of an
# earlier month starts the new one at 0 used (top-ups carry over); an organisation without a
# row starts with nothing but its allotment.
#
# Too few credits drive `top_up` below 0, so the check constraint EXHAUSTED fails the whole
# statement and nothing of the upload is stored. Exact under concurrency: the upsert waits
# for the row lock of any other upload taking pages and then computes from the committed
# row; the lock is held only until that same statement commits, inside PostgreSQL.
# Parameters: credit_charge (false: take nothing), credit_period, credit_pages,
# credit_allotment.
EXHAUSTED = "credit_balances_top_up_check"
_USED = "(case when b.period < excluded.period then 0 else b.used end)"
_LEFT = f"greatest(%(credit_allotment)s - {_USED}, 0)"
TAKE_UPLOAD_PAGES = (
    "insert into credit_balances as b (org_id, period, used, top_up)"
    " select invoice.org_id, %(credit_period)s, least(%(credit_pages)s, %(credit_allotment)s),"
    # PostgreSQL checks the proposed row before it finds the conflict: with a row in place,
    # the proposed one must pass (0); the first row's top-up is what it lacks, negative.
    " case when exists (select from credit_balances where org_id = invoice.org_id) then 0"
    " else -greatest(%(credit_pages)s - %(credit_allotment)s, 0) end"
    " from invoice where %(credit_charge)s"
    " on conflict (org_id) do update set"
    f" used = {_USED} + least(%(credit_pages)s, {_LEFT}),"
    f" top_up = b.top_up - greatest(%(credit_pages)s - {_LEFT}, 0),"
    " period = greatest(b.period, excluded.period), updated_at = now()"
)


def add_top_up(conn: Conn, org_id: str, period: date, pages: int) -> Balance:
    row = conn.execute(
        "insert into credit_balances as b (org_id, period, top_up)"
        " values (%(org)s, %(period)s, %(pages)s)"
        " on conflict (org_id) do update set top_up = b.top_up + excluded.top_up,"
        " used = case when b.period < excluded.period then 0 else b.used end,"
        " period = greatest(b.period, excluded.period), updated_at = now()"
        " returning period, used, top_up",
        {"org": org_id, "period": period, "pages": pages},
    ).fetchone()
    assert row is not None  # insert/update ... returning always yields the row
    return Balance(**row)


def get_balance(conn: Conn, org_id: str) -> Balance | None:
    row = conn.execute(
        "select period, used, top_up from credit_balances where org_id = %(org)s",
        {"org": org_id},
    ).fetchone()
    return Balance(**row) if row else None


def get_org_plan(conn: Conn, org_id: str) -> str | None:
    row = conn.execute("select plan from orgs where id = %(id)s", {"id": org_id}).fetchone()
    return row["plan"] if row else None


def set_org_plan(conn: Conn, org_id: str, plan: str) -> bool:
    cur = conn.execute(
        "update orgs set plan = %(plan)s where id = %(id)s", {"id": org_id, "plan": plan}
    )
    return cur.rowcount == 1
