"""Shared fixtures: private PostgreSQL and Redis for the whole run (started from the
machine's binaries, so the suite needs no running servers and never touches shared ones),
a migrated database, factories for organisations and keys, and real service processes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.support import ServiceProcesses, private_root


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
    # Every test client shares one IP; tests/integration/test_limits.py builds its own
    # app with the limits on.
    os.environ["INVEX_RATE_LIMITS"] = "0"
    get_settings.cache_clear()
    apply_migrations(servers["database_url"])
    from common import db

    db.configure(servers["database_url"])
    return get_settings()


@pytest.fixture(scope="session")
def app(settings):
    from api.app import create_app

    return create_app(settings)


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


@pytest.fixture(scope="session")
def service(settings, servers) -> Iterator[ServiceProcesses]:
    """The API under gunicorn and an extraction worker, as real processes, for the suite."""
    processes = ServiceProcesses(servers["database_url"], servers["redis_url"])
    processes.start()
    try:
        yield processes
    finally:
        processes.stop()
