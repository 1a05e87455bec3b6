"""Credits: pages of live uploads against the plan's monthly allotment, then top-ups.

A live upload takes its pages in the very statement that inserts the invoice (the
`upload_charge` it describes, applied by repository.TAKE_UPLOAD_PAGES), so an upload is
stored if and only if its pages were taken, and concurrent uploads can never take more than
there is. Test mode never takes credits. A replayed upload (same Idempotency-Key) inserts no
invoice, and the statement takes pages only for the invoice it inserts, so it is never
charged twice. Deleting an invoice, or a failed extraction, gives nothing back: the pages
were received and processed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import psycopg

from common import db, plans
from common.accounts.service import Principal, principals
from common.config import get_settings
from common.credits import repository
from common.errors import MonthlyLimitReached, ValidationFailed


def current_period(now: datetime | None = None) -> date:
    """The first day of the current calendar month, UTC (as usage counts months)."""
    return (now or datetime.now(UTC)).date().replace(day=1)


def _next_period(period: date) -> date:
    return (
        period.replace(year=period.year + 1, month=1)
        if period.month == 12
        else period.replace(month=period.month + 1)
    )


def seconds_until_next_period(now: datetime | None = None) -> int:
    """Whole seconds until the next period starts (rounded up: a client waiting this long
    is never early)."""
    now = now or datetime.now(UTC)
    start = datetime.combine(_next_period(current_period(now)), datetime.min.time(), UTC)
    return max(1, math.ceil((start - now).total_seconds()))


def plan_of(name: str) -> plans.Plan:
    return plans.plan_named(name, get_settings().plan_limits)


@dataclass(frozen=True)
class UploadCharge:
    """The parameters of repository.TAKE_UPLOAD_PAGES for one upload."""

    credit_charge: bool
    credit_period: date
    credit_pages: int
    credit_allotment: int


def upload_charge(principal: Principal, pages: int) -> UploadCharge:
    """What an upload of `pages` takes: its pages this month against the plan's allotment,
    or nothing in test mode."""
    return UploadCharge(
        credit_charge=principal.livemode,
        credit_period=current_period(),
        credit_pages=pages,
        credit_allotment=plan_of(principal.plan).monthly_pages,
    )


def no_charge() -> UploadCharge:
    """What a document split out of an upload takes: nothing (the upload paid its pages)."""
    return UploadCharge(
        credit_charge=False, credit_period=current_period(), credit_pages=0, credit_allotment=0
    )


def limit_reached(exc: psycopg.errors.CheckViolation, pages: int) -> MonthlyLimitReached | None:
    """The 429 an upload's statement meant when it failed on the credits' check, else None."""
    if exc.diag.constraint_name != repository.EXHAUSTED:
        return None
    return MonthlyLimitReached(
        f"This upload needs {pages} page credit{'s' if pages != 1 else ''}; the plan's"
        " monthly allotment and the top-up credits are used up.",
        param="file",
        # the allotment renews then (a top-up or another plan can come sooner)
        headers={"Retry-After": str(seconds_until_next_period())},
    )


def _resource(plan: plans.Plan, balance: repository.Balance | None, period: date) -> dict:
    used = balance.used if balance and balance.period == period else 0
    top_up = balance.top_up if balance else 0
    subscription = max(plan.monthly_pages - used, 0)
    start = datetime.combine(period, datetime.min.time(), UTC)
    end = datetime.combine(_next_period(period), datetime.min.time(), UTC)
    return {
        "object": "credits",
        "plan": plan.name,
        "plan_monthly_allotment": plan.monthly_pages,
        "used": used,
        "subscription": subscription,
        "top_up": top_up,
        "remaining": subscription + top_up,
        "period": {"start": int(start.timestamp()), "end": int(end.timestamp())},
    }


def credits(principal: Principal) -> dict[str, Any]:
    """The organisation's credits this month (the same for live and test keys: only live
    uploads take them)."""
    period = current_period()
    with db.connection() as conn:
        plan_name = repository.get_org_plan(conn, principal.org_id)
        balance = repository.get_balance(conn, principal.org_id)
    return _resource(plan_of(plan_name or plans.DEFAULT_PLAN), balance, period)


# --- operator commands -------------------------------------------------------------------


def org_credits(org_id: str) -> dict[str, Any]:
    period = current_period()
    with db.connection() as conn:
        plan_name = repository.get_org_plan(conn, org_id)
        balance = repository.get_balance(conn, org_id)
    if plan_name is None:
        raise ValidationFailed(f"No organisation {org_id!r}.", param="org")
    return {"org": org_id, **_resource(plan_of(plan_name), balance, period)}


def set_plan(org_id: str, plan: str) -> dict[str, Any]:
    """Move an organisation to `plan`; its limits and allotment apply from the next request
    (pages already used this month stay used)."""
    if plan not in plans.PLANS:
        raise ValidationFailed(
            f"Unknown plan {plan!r}; plans: {', '.join(plans.PLANS)}.", param="plan"
        )
    period = current_period()
    with db.transaction() as conn:
        if not repository.set_org_plan(conn, org_id, plan):
            raise ValidationFailed(f"No organisation {org_id!r}.", param="org")
        db.after_commit(conn, principals.forget_all)  # the plan is part of each principal
        balance = repository.get_balance(conn, org_id)
    return {"org": org_id, **_resource(plan_of(plan), balance, period)}


def add_top_up(org_id: str, pages: int) -> dict[str, Any]:
    """Add `pages` top-up credits; they are used once the month's allotment is, and never
    expire."""
    if pages < 1:
        raise ValidationFailed("A top-up adds at least 1 page.", param="pages")
    period = current_period()
    with db.transaction() as conn:
        plan_name = repository.get_org_plan(conn, org_id)
        if plan_name is None:
            raise ValidationFailed(f"No organisation {org_id!r}.", param="org")
        balance = repository.add_top_up(conn, org_id, period, pages)
    return {"org": org_id, **_resource(plan_of(plan_name), balance, period)}
