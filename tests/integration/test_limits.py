"""Rate limits per key, per client IP and for uploads per organisation, against the suite's
real Redis. The suite runs with the limits off (every test client shares one address); each
test here builds an app of its own with them on, and sends from an address of its own so
no two tests share a window."""

from __future__ import annotations

import dataclasses
import io
import ipaddress
import logging
import secrets
import time

import pytest

from tests.integration.test_api_contract import assert_contract_error
from tests.support import free_port, make_ubl_invoice


def limited_app(settings, limits: str = "", **changes):
    """The app with rate limits on; on the settings as they are now (the module's own
    database, not the session's first)."""
    from api.app import create_app
    from common.config import get_settings
    from common.plans import parse_overrides

    return create_app(
        dataclasses.replace(
            get_settings(), rate_limits=True, plan_limits=parse_overrides(limits), **changes
        )
    )


_DRAWN: set[str] = set()


def random_ip(prefix: str = "198.18") -> str:
    """An address from the benchmarking range, never drawn before in this process: the
    limits of the process's Redis outlive a test, so a repeat would find its own counts."""
    while True:
        ip = f"{prefix}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
        if ip not in _DRAWN and not ip.startswith("198.18.7."):  # test_web_app's fixed ones
            _DRAWN.add(ip)
            return ip


def get(app, tenant, ip: str, path: str = "/v1/invoices", **headers):
    return app.test_client().get(
        path, headers={**tenant.headers, **headers}, environ_base={"REMOTE_ADDR": ip}
    )


def test_authenticated_responses_carry_the_rate_limit_headers(settings, tenant):
    from common.plans import PLANS

    app, ip = limited_app(settings), random_ip()
    before = time.time()
    first = get(app, tenant, ip)
    second = get(app, tenant, ip, "/v1/invoices/inv_nothing")  # errors carry them too
    assert first.status_code == 200
    assert second.status_code == 404
    limit = PLANS["free"].requests_per_minute
    assert first.headers["X-RateLimit-Limit"] == str(limit)
    assert first.headers["X-RateLimit-Remaining"] == str(limit - 1)
    assert second.headers["X-RateLimit-Remaining"] == str(limit - 2)
    reset = int(first.headers["X-RateLimit-Reset"])
    assert before + 59 <= reset <= time.time() + 61


def test_with_the_limits_off_there_are_no_headers(client, tenant):
    response = client.get("/v1/invoices", headers=tenant.headers)
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response.headers


def test_over_the_key_limit_answers_rate_limited_with_retry_after(settings, tenant):
    app, ip = limited_app(settings, "free.requests_per_minute=3"), random_ip()
    assert [get(app, tenant, ip).status_code for _ in range(3)] == [200, 200, 200]
    refused = get(app, tenant, ip)
    assert_contract_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    # another key of the same organisation has its own allowance
    other_key = {"Authorization": f"Bearer {tenant.new_key()}"}
    assert get(app, tenant, ip, **other_key).status_code == 200


def test_limits_follow_the_organisations_plan(settings, tenant):
    from common.credits.service import set_plan
    from common.plans import PLANS

    app, ip = limited_app(settings), random_ip()
    set_plan(tenant.org.id, "pro")
    response = get(app, tenant, ip)
    assert response.headers["X-RateLimit-Limit"] == str(PLANS["pro"].requests_per_minute)


def test_uploads_per_hour_are_limited_per_organisation(settings, tenant):
    app, ip = limited_app(settings, "free.uploads_per_hour=2"), random_ip()
    client = app.test_client()

    def upload(secret: str, number: int):
        return client.post(
            "/v1/invoices",
            headers={"Authorization": f"Bearer {secret}"},
            data={"file": (io.BytesIO(make_ubl_invoice(f"RL-{number}")), "i.xml")},
            content_type="multipart/form-data",
            environ_base={"REMOTE_ADDR": ip},
        )

    assert [upload(tenant.secret, n).status_code for n in range(2)] == [202, 202]
    # a second key of the same organisation shares the organisation's uploads per hour
    refused = upload(tenant.new_key(), 3)
    assert_contract_error(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) > 60  # an hour's window
    assert get(app, tenant, ip).status_code == 200  # reading goes on


def test_one_address_is_limited_across_keys_and_organisations(settings, tenant, other_tenant):
    app = limited_app(settings, "free.ip_requests_per_minute=2,free.requests_per_minute=100")
    ip = random_ip()
    assert get(app, tenant, ip).status_code == 200
    assert get(app, other_tenant, ip).status_code == 200
    assert_contract_error(get(app, tenant, ip), 429, "rate_limited")
    assert get(app, tenant, random_ip()).status_code == 200  # another address


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited(settings, tenant):
    app = limited_app(
        settings,
        "free.ip_requests_per_minute=2,free.requests_per_minute=100",
        trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),),
    )
    proxy, first, second = random_ip("10.9"), random_ip(), random_ip()

    def via_proxy(client_ip: str):
        return get(app, tenant, proxy, **{"X-Forwarded-For": f"{client_ip}, 10.0.0.7"})

    assert [via_proxy(first).status_code for _ in range(2)] == [200, 200]
    assert_contract_error(via_proxy(first), 429, "rate_limited")
    assert via_proxy(second).status_code == 200  # each client behind the proxy is counted


def test_an_untrusted_peer_cannot_choose_its_address_with_x_forwarded_for(settings, tenant):
    app = limited_app(
        settings,
        "free.ip_requests_per_minute=2,free.requests_per_minute=100",
        trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),),
    )
    peer = random_ip()
    responses = [get(app, tenant, peer, **{"X-Forwarded-For": random_ip()}) for _ in range(3)]
    statuses = [response.status_code for response in responses]
    assert statuses == [200, 200, 429], [response.get_json() for response in responses]


def test_client_address_is_the_right_most_untrusted_hop():
    from common.ratelimit import client_ip

    trusted = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))
    chain = "6.6.6.6, 203.0.113.9, 10.0.0.2"
    assert client_ip("10.0.0.1", chain, trusted) == "203.0.113.9"
    assert client_ip("192.0.2.1", chain, trusted) == "192.0.2.1"  # peer not trusted
    assert client_ip("10.0.0.1", None, trusted) == "10.0.0.1"
    assert client_ip("fd00::1", "2001:db8::5", trusted) == "2001:db8::5"
    assert client_ip("10.0.0.1", chain, ()) == "10.0.0.1"  # no proxy configured


def test_when_redis_is_unreachable_requests_are_served_and_logged_once(settings, tenant, caplog):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = limited_app(settings, "free.requests_per_minute=1", redis_url=dead_redis)
    ip = random_ip()
    with caplog.at_level(logging.WARNING, logger="common.ratelimit"):
        responses = [get(app, tenant, ip) for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert all("X-RateLimit-Limit" not in r.headers for r in responses)
    outages = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(outages) == 1


@pytest.mark.parametrize(
    "value", ["free.nope=1", "gold.monthly_pages=5", "free.uploads_per_hour=x"]
)
def test_a_malformed_plan_override_stops_the_start_naming_the_variable(value):
    from common.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="INVEX_PLAN_LIMITS"):
        Settings.from_env({"INVEX_PLAN_LIMITS": value})


def test_a_malformed_trusted_proxy_stops_the_start_naming_the_variable():
    from common.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="INVEX_TRUSTED_PROXIES"):
        Settings.from_env({"INVEX_TRUSTED_PROXIES": "10.0.0.0/8, proxy.example"})


BAD_KEY = {"Authorization": "Bearer invx_live_not_a_real_key_at_all"}


def bad(app, ip: str, **headers):
    return app.test_client().get(
        "/v1/invoices", headers={**BAD_KEY, **headers}, environ_base={"REMOTE_ADDR": ip}
    )


def test_bad_keys_in_a_row_from_one_address_meet_a_429_with_the_default_budget(settings):
    from common.config import Settings

    app, ip = limited_app(settings), random_ip()
    budget = Settings.from_env({}).auth_failures_per_minute
    statuses = [bad(app, ip).status_code for _ in range(130)]
    assert statuses == [401] * budget + [429] * (130 - budget)


def test_failed_authentications_carry_the_rate_limit_headers_then_429_with_retry_after(settings):
    app, ip = limited_app(settings, auth_failures_per_minute=3), random_ip()
    failures = [bad(app, ip) for _ in range(3)]
    for remaining, response in zip([2, 1, 0], failures, strict=True):
        assert_contract_error(response, 401, "invalid_api_key")
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    missing = app.test_client().get("/v1/invoices", environ_base={"REMOTE_ADDR": ip})
    refused = bad(app, ip)
    for response in (missing, refused):
        assert_contract_error(response, 429, "rate_limited")
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert response.headers["X-RateLimit-Remaining"] == "0"


def test_over_the_failure_budget_the_address_is_refused_before_its_key_is_checked(settings, tenant):
    app, ip = limited_app(settings, auth_failures_per_minute=2), random_ip()
    assert [bad(app, ip).status_code for _ in range(2)] == [401, 401]
    # even the right key from that address waits: a guess that hit would look the same
    assert_contract_error(get(app, tenant, ip), 429, "rate_limited")
    assert get(app, tenant, random_ip()).status_code == 200  # other addresses are unaffected


def test_a_missing_key_counts_as_a_failed_authentication(settings):
    app, ip = limited_app(settings, auth_failures_per_minute=2), random_ip()
    client = app.test_client()
    statuses = [
        client.get("/v1/invoices", environ_base={"REMOTE_ADDR": ip}).status_code for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_a_forged_x_forwarded_for_does_not_reset_the_failure_budget(settings):
    app = limited_app(
        settings, auth_failures_per_minute=2, trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),)
    )
    peer = random_ip()
    statuses = [bad(app, peer, **{"X-Forwarded-For": random_ip()}).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_behind_a_trusted_proxy_failures_are_counted_per_forwarded_client(settings):
    app = limited_app(
        settings, auth_failures_per_minute=1, trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),)
    )
    proxy, guesser, other = random_ip("10.9"), random_ip(), random_ip()
    statuses = [bad(app, proxy, **{"X-Forwarded-For": guesser}).status_code for _ in range(2)]
    assert statuses == [401, 429]
    assert bad(app, proxy, **{"X-Forwarded-For": other}).status_code == 401


def test_with_the_limits_off_failed_authentications_are_not_limited(client):
    statuses = {client.get("/v1/invoices", headers=BAD_KEY).status_code for _ in range(30)}
    assert statuses == {401}


def test_a_malformed_failure_budget_stops_the_start_naming_the_variable():
    from common.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="INVEX_AUTH_FAILURES_PER_MINUTE"):
        Settings.from_env({"INVEX_AUTH_FAILURES_PER_MINUTE": "0"})
