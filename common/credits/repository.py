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


def open_period(conn: Conn, org_id: str, period: date) -> None:
    """Make sure the organisation has a balance row for `period`; a row of an earlier month
    starts the new one at 0 used (top-ups carry over). Locks the row until commit, as
    `insert ... on conflict do update` always does."""
    conn.execute(
        "insert into credit_balances as b (org_id, period) values (%(org)s, %(period)s)"
        " on conflict (org_id) do update set period = excluded.period, used = 0,"
        " updated_at = now() where b.period < excluded.period",
        {"org": org_id, "period": period},
    )


def take_pages(conn: Conn, org_id: str, period: date, pages: int, allotment: int) -> Balance | None:
    """Take `pages` from what is left of the month's `allotment`, then from the top-up, in
    one conditional update: None (and nothing taken) when both together are too few.

    Exact under concurrency: the update waits for the row lock of any other transaction
    taking pages and then re-checks its condition against the committed row."""
    row = conn.execute(
        "update credit_balances set"
        " used = used + least(%(pages)s, greatest(%(allotment)s - used, 0)),"
        " top_up = top_up - greatest(%(pages)s - greatest(%(allotment)s - used, 0), 0),"
        " updated_at = now()"
        " where org_id = %(org)s and period = %(period)s"
        " and %(pages)s <= greatest(%(allotment)s - used, 0) + top_up"
        " returning period, used, top_up",
        {"org": org_id, "period": period, "pages": pages, "allotment": allotment},
    ).fetchone()
    return Balance(**row) if row else None


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
