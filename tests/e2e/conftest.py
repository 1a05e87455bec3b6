"""The e2e modules of a test process share one service (gunicorn, the extraction and the
webhook workers) on a database and a Redis database of their own, apart from the other
tests' (which empty Redis database 0 per module): starting the processes is most of a
small module's time. A module whose tests flush the broker, need settings of their own or
must not find the others' processes (beat, extra workers) sets `OWN_SERVICE = True` and
gets a database and a service of its own, as integration modules do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import TEMPLATE_DATABASE, pointed_at
from tests.support import (
    SHARED_E2E_REDIS_DATABASE,
    ServiceProcesses,
    clone_database,
    database_url_for,
    drop_database,
)

SHARED_DATABASE = "invex_e2e_shared"


def _own_service(request) -> bool:
    return getattr(request.module, "OWN_SERVICE", False)


@pytest.fixture(scope="session")
def shared_servers(settings, servers) -> Iterator[tuple[str, str]]:
    import redis

    database_url = clone_database(servers["server_url"], TEMPLATE_DATABASE, SHARED_DATABASE)
    redis_url = database_url_for(servers["redis_url"], SHARED_E2E_REDIS_DATABASE)
    redis.Redis.from_url(redis_url).flushdb()
    try:
        yield database_url, redis_url
    finally:
        drop_database(servers["server_url"], SHARED_DATABASE)


@pytest.fixture(scope="session")
def shared_service(shared_servers) -> Iterator[ServiceProcesses]:
    processes = ServiceProcesses(*shared_servers)
    processes.start()
    try:
        yield processes
    finally:
        processes.stop()


@pytest.fixture(autouse=True, scope="module")
def _own_database(request, servers) -> Iterator[str]:
    if _own_service(request):
        yield request.getfixturevalue("module_database")
        return
    database_url, redis_url = request.getfixturevalue("shared_servers")
    with pointed_at(servers, database_url, redis_url):
        yield database_url


@pytest.fixture(scope="module")
def service(request, _own_database) -> ServiceProcesses:
    if _own_service(request):
        return request.getfixturevalue("own_service")
    shared = request.getfixturevalue("shared_service")
    shared.ensure_running()
    return shared
