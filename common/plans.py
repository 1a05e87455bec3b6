"""The plans, declared once: what each organisation may use, by its `orgs.plan`.

Rate limits (common/ratelimit.py) and credits (common/credits/) read their numbers here
and nowhere else. An operator may change any number without a release through
INVEX_PLAN_LIMITS (`free.monthly_pages=1000,pro.requests_per_minute=1200`), parsed and
checked at start by common/config.py.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields, replace
from typing import Any

DEFAULT_PLAN = "free"


@dataclass(frozen=True)
class Plan:
    name: str
    # pages of live uploads included each calendar month (UTC); top-ups come on top
    monthly_pages: int
    # requests per minute per API key, and per client IP address
    requests_per_minute: int
    ip_requests_per_minute: int
    # uploads (POST /v1/invoices) per organisation per hour, live and test together
    uploads_per_hour: int


PLANS: dict[str, Plan] = {
    plan.name: plan
    for plan in (
        Plan("free", monthly_pages=100, requests_per_minute=60, ip_requests_per_minute=60,
             uploads_per_hour=1_000),
        Plan("starter", monthly_pages=1_000, requests_per_minute=120,
             ip_requests_per_minute=120, uploads_per_hour=2_000),
        Plan("pro", monthly_pages=10_000, requests_per_minute=600, ip_requests_per_minute=600,
             uploads_per_hour=10_000),
        Plan("enterprise", monthly_pages=100_000, requests_per_minute=3_000,
             ip_requests_per_minute=3_000, uploads_per_hour=50_000),
    )
}  # fmt: skip

NUMBERS = tuple(f.name for f in fields(Plan) if f.name != "name")

# (plan, number, value), as parsed from INVEX_PLAN_LIMITS
Overrides = tuple[tuple[str, str, int], ...]


def parse_overrides(text: str) -> Overrides:
    """`plan.number=value` items, comma separated; ValueError names the first bad one."""
    parsed = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        target, _, raw = item.partition("=")
        plan, _, number = target.strip().partition(".")
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r} in {item!r} (plans: {', '.join(PLANS)})")
        if number not in NUMBERS:
            raise ValueError(f"unknown limit {number!r} in {item!r} (limits: {', '.join(NUMBERS)})")
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{item!r} needs an integer value") from None
        if value < 0 or (value == 0 and number != "monthly_pages"):
            raise ValueError(f"{item!r} is out of range")
        parsed.append((plan, number, value))
    return tuple(parsed)


@functools.lru_cache(maxsize=256)
def plan_named(name: str, overrides: Overrides = ()) -> Plan:
    """The plan of that name with the operator's overrides; an unknown name (a plan
    retired from the code while organisations still hold it) gets the default plan's
    numbers under its own name rather than failing every request. Kept once made: plans
    are frozen, and every upload and rate-limited request asks."""
    plan = PLANS.get(name) or replace(PLANS[DEFAULT_PLAN], name=name)
    changes: dict[str, Any] = {
        number: value for plan_name, number, value in overrides if plan_name == name
    }
    return replace(plan, **changes) if changes else plan
