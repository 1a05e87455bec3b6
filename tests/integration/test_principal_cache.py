"""The per-process cache of principals: it saves the key lookup, and a change to a key, its
member or its organisation empties it on every process, whoever makes the change."""

from __future__ import annotations

import time

import psycopg
import pytest

from common import db
from common.accounts.principal_cache import APPLICATION_NAME, PrincipalCache
from common.accounts.service import create_api_key, principals
from tests.integration.test_api_contract import assert_contract_error
from tests.support import wait_until


def change_behind_the_apis_back(sql: str, params: dict) -> None:
    """A change committed by another session (as psql or another host would): this
    process hears of it only through the triggers' notification."""
    with psycopg.connect(db.database_url(), autocommit=True) as conn:
        conn.execute(sql, params)


def silent_change(sql: str, params: dict) -> None:
    """A change no trigger reports (replica mode skips them): only the expiry catches it."""
    with psycopg.connect(db.database_url()) as conn:
        conn.execute("set session_replication_role = replica")
        conn.execute(sql, params)


def listening_cache(ttl: float) -> PrincipalCache[str]:
    cache: PrincipalCache[str] = PrincipalCache(db.database_url, lambda: ttl)
    cache.generation()  # starts the listener
    wait_until(lambda: cache.listening, 5, message="the listener connects")
    return cache


def kill_listeners() -> None:
    with psycopg.connect(db.database_url(), autocommit=True) as conn:
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where application_name = %s",
            (APPLICATION_NAME,),
        )


REVOKE_THE_ORGS_KEYS = "update api_keys set revoked_at = now() where org_id = %(o)s"


def cached_key_headers(client, secret: str) -> dict[str, str]:
    """Headers of `secret`, once this process has read its key with the listener up (so
    the principal is kept)."""
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/invoices", headers=headers).status_code == 200
    wait_until(lambda: principals.listening, 5, message="the listener connects")
    assert client.get("/v1/invoices", headers=headers).status_code == 200
    return headers


def test_a_key_is_read_once_while_nothing_changes(client, tenant):
    headers = cached_key_headers(client, tenant.new_key())
    # Revoked where no trigger reports it: the process answers from what it read.
    silent_change(REVOKE_THE_ORGS_KEYS, {"o": tenant.org.id})
    assert client.get("/v1/invoices", headers=headers).status_code == 200
    principals.forget_all()
    assert_contract_error(client.get("/v1/invoices", headers=headers), 401, "invalid_api_key")


def test_a_key_revoked_by_another_session_fails_within_a_second(client, tenant):
    headers = cached_key_headers(client, tenant.new_key())
    revoked_at = time.monotonic()
    change_behind_the_apis_back(REVOKE_THE_ORGS_KEYS, {"o": tenant.org.id})
    wait_until(
        lambda: client.get("/v1/invoices", headers=headers).status_code == 401,
        1,
        interval=0.001,
        message="the revoked key fails",
    )
    # Well inside the expiry (INVEX_KEY_CACHE_SECONDS, 10 s): the notification did it.
    assert time.monotonic() - revoked_at < 1


@pytest.mark.parametrize(
    ("sql", "decides"),
    [
        ("update orgs set plan = 'pro' where id = %(o)s", True),
        ("update orgs set api_version = '2026-11-01' where id = %(o)s", True),
        ("update orgs set name = 'Renamed' where id = %(o)s", False),
        ("update api_keys set scopes = '{invoices:read}' where org_id = %(o)s", True),
        ("update api_keys set last_used_at = now() where org_id = %(o)s", False),
        ("update members set status = 'inactive' where org_id = %(o)s", True),
        ("delete from api_keys where org_id = %(o)s and false", True),
    ],
)
def test_only_changes_to_what_makes_a_principal_empty_the_cache(tenant, sql, decides):
    cache = listening_cache(ttl=60)
    heard: list[int] = []
    cache.forget_all = lambda: heard.append(1)  # type: ignore[method-assign]
    change_behind_the_apis_back(sql, {"o": tenant.org.id})
    # Then a change that always notifies: notifications arrive in commit order, so once
    # this one is heard, the first one's, if it sent any, was heard before it.
    change_behind_the_apis_back("update orgs set plan = plan where id = %(o)s", {"o": ""})
    expected = 2 if decides else 1
    wait_until(lambda: len(heard) >= expected, 2, interval=0.001, message="notified")
    time.sleep(0.05)
    assert len(heard) == expected


def test_a_read_that_raced_with_a_change_is_not_kept():
    cache = listening_cache(ttl=60)
    generation = cache.generation()
    cache.forget_all()  # a change committed while the read was under way
    cache.put(b"key", "stale", generation)
    assert cache.get(b"key") is None


def test_entries_expire(tenant):
    cache = listening_cache(ttl=0.2)
    cache.put(b"key", "principal", cache.generation())
    assert cache.get(b"key") == "principal"
    time.sleep(0.25)
    assert cache.get(b"key") is None


def test_nothing_is_kept_or_used_while_the_listener_is_down():
    cache = listening_cache(ttl=60)
    cache.put(b"key", "principal", cache.generation())
    kill_listeners()
    wait_until(lambda: not cache.listening, 5, message="the listener notices")
    assert cache.get(b"key") is None
    cache.put(b"key", "read while deaf", cache.generation())
    wait_until(lambda: cache.listening, 5, message="the listener reconnects")
    assert cache.get(b"key") is None  # what was read while deaf is gone
    cache.put(b"key", "principal", cache.generation())
    assert cache.get(b"key") == "principal"


def test_a_silent_change_is_seen_once_the_entry_expires(client, tenant, monkeypatch):
    from common.config import get_settings

    monkeypatch.setenv("INVEX_KEY_CACHE_SECONDS", "1")
    get_settings.cache_clear()
    try:
        headers = cached_key_headers(client, create_api_key(tenant.org.id).secret)
        silent_change(REVOKE_THE_ORGS_KEYS, {"o": tenant.org.id})
        wait_until(
            lambda: client.get("/v1/invoices", headers=headers).status_code == 401,
            2,
            message="the entry expires",
        )
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_a_cache_of_zero_seconds_keeps_nothing_and_listens_to_nothing():
    cache: PrincipalCache[str] = PrincipalCache(db.database_url, lambda: 0)
    cache.put(b"key", "principal", cache.generation())
    time.sleep(0.2)
    assert not cache.listening
    assert cache.get(b"key") is None
