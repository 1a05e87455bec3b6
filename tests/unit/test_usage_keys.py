"""The API call counter's key per organisation and mode: the month's, changing with it."""

from datetime import UTC, datetime

import common.usage.service as usage


def at(moment: datetime) -> float:
    return moment.timestamp()


def test_the_key_and_its_expiry_follow_the_month(monkeypatch):
    keys = usage._MonthKeys()
    now = at(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    monkeypatch.setattr(usage.time, "time", lambda: now)
    november, november_expiry = keys.key("org_a", True)
    assert november == "invex:usage:org_a:live:2026-11:calls"
    assert keys.key("org_a", False)[0] == "invex:usage:org_a:test:2026-11:calls"
    assert november_expiry == at(datetime(2026, 12, 1, tzinfo=UTC)) + 40 * 86400

    now = at(datetime(2026, 12, 1, tzinfo=UTC))  # the first moment of the next month
    december, december_expiry = keys.key("org_a", True)
    assert december == "invex:usage:org_a:live:2026-12:calls"
    assert december_expiry == at(datetime(2027, 1, 1, tzinfo=UTC)) + 40 * 86400


def test_the_key_is_the_one_usage_reads():
    start = datetime(2026, 11, 1, tzinfo=UTC)
    keys = usage._MonthKeys()
    month_key = keys.key("org_b", True)[0]
    assert month_key == usage._calls_key("org_b", True, usage._period(datetime.now(UTC))[0])
    assert usage._calls_key("org_b", True, start).endswith(":2026-11:calls")
