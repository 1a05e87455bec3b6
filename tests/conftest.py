"""Shared fixtures: private PostgreSQL and Redis for the whole run (started from the
machine's binaries, so the suite needs no running servers and never touches shared ones;
under pytest-xdist, one pair per worker), a migrated template database that each test
module of integration/ and e2e/ gets a copy of (and an emptied Redis), factories for
organisations and keys, and real service processes."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator

import pytest

from tests.support import ServiceProcesses, clone_database, drop_database, private_root

TEMPLATE_DATABASE = "invex_template"
# Draws hundreds of synthetic invoices: whole seconds a test, so not in `make test-fast`.
SLOW_DIRECTORIES = ("tests/unit/training/",)


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if any(part in item.nodeid for part in SLOW_DIRECTORIES):
            item.add_marker(pytest.mark.slow)


_module_databases = itertools.count(1)


@pytest.fixture(scope="session")
def servers() -> Iterator[dict]:
    from common.embedded import PrivatePostgres, PrivateRedis

    root = private_root("invex-suite-")
    postgres = PrivatePostgres(root, durable=False)
    redis = PrivateRedis(root, persistent=True)
    urls = {
        "database_url": postgres.start(),
        "redis_url": redis.start(),
        "postgres": postgres,
        "redis": redis,
    }
    try:
        yield urls
    finally:
        redis.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(servers):
    from common.config import get_settings
    from common.migrations import apply_migrations

    os.environ["INVEX_DATABASE_URL"] = servers["database_url"]
    os.environ["INVEX_REDIS_URL"] = servers["redis_url"]
    os.environ["INVEX_WEBHOOK_ALLOW_PRIVATE"] = "1"
    os.environ["INVEX_WEBHOOK_ALLOW_HTTP"] = "1"
    # stored secrets (mailbox passwords) need a key, as any deployment's do
    os.environ.setdefault("INVEX_SECRET_KEY", "invex-test-suite-" + "k" * 40)
    # Every test client shares one IP; tests/integration/test_limits.py builds its own
    # app with the limits on.
    os.environ["INVEX_RATE_LIMITS"] = "0"
    get_settings.cache_clear()
    apply_migrations(servers["database_url"])
    # Migrated once; each module's database is a copy (module_database).
    template_url = clone_database(servers["database_url"], "template0", TEMPLATE_DATABASE)
    apply_migrations(template_url)
    servers["server_url"] = servers["database_url"]
    from common import db

    db.configure(servers["database_url"])
    return get_settings()


@pytest.fixture(scope="module")
def module_database(settings, servers) -> Iterator[str]:
    """A database of the module's own, copied from the migrated template, and an empty
    Redis: no module sees another's rows, queued tasks, nudges or rate-limit counters,
    and no process a module started outlives it (`service` is module-scoped too)."""
    import redis

    from common import db
    from common.config import get_settings

    name = f"invex_module_{next(_module_databases)}"
    url = clone_database(servers["server_url"], TEMPLATE_DATABASE, name)
    redis.Redis.from_url(servers["redis_url"]).flushdb()
    servers["database_url"] = os.environ["INVEX_DATABASE_URL"] = url
    get_settings.cache_clear()
    db.configure(url)
    _move_key_cache_listener(servers["server_url"])
    try:
        yield url
    finally:
        servers["database_url"] = os.environ["INVEX_DATABASE_URL"] = servers["server_url"]
        get_settings.cache_clear()
        db.configure(servers["server_url"])
        db.close_pools()
        drop_database(servers["server_url"], name)


def _move_key_cache_listener(server_url: str) -> None:
    """The key cache's LISTEN connection reconnects to db.database_url(), now the module's:
    end it wherever it is, or it would go on listening to another database's changes."""
    import psycopg

    from common.accounts.principal_cache import APPLICATION_NAME

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where application_name = %s",
            (APPLICATION_NAME,),
        )


@pytest.fixture(scope="session")
def app(settings):
    from api.app import create_app
    from common import db

    # Made when a module first asks for it: create_app points the process's pool at the
    # session's first database; the module's own (module_database) is the one to keep.
    current = db.database_url()
    made = create_app(settings)
    db.configure(current)
    return made


@pytest.fixture
def client(app):
    return app.test_client()


class Tenant:
    """An organisation with a full-access live key, and ways to make more keys."""

    def __init__(self, name: str) -> None:
        from common.accounts.service import create_org

        self.org = create_org(name)
        self.secret = self.new_key()

    def new_key(self, *, livemode: bool = True, scopes: list[str] | None = None) -> str:
        from common.accounts.service import create_api_key

        return create_api_key(self.org.id, livemode=livemode, scopes=scopes).secret

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


@pytest.fixture
def tenant(settings) -> Tenant:
    return Tenant("Acme Test GmbH")


@pytest.fixture
def other_tenant(settings) -> Tenant:
    return Tenant("Other Org Ltd")


@pytest.fixture(scope="module")
def service(module_database, servers) -> Iterator[ServiceProcesses]:
    """The API under gunicorn, an extraction worker and a webhook worker, as real
    processes, on the module's database; stopped when the module ends."""
    processes = ServiceProcesses(servers["database_url"], servers["redis_url"])
    processes.start()
    try:
        yield processes
    finally:
        processes.stop()
