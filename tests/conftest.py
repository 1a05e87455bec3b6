"""Shared fixtures: private PostgreSQL and Redis for the whole run (started from the
machine's binaries, so the suite needs no running servers and never touches shared ones;
under pytest-xdist, one pair per worker), a migrated template database that each test
module of integration/ and e2e/ gets a copy of (and an emptied Redis), factories for
organisations and keys, and real service processes."""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    ServiceProcesses,
    clone_database,
    drop_database,
    private_root,
    remove_stale_scratch,
)

TEMPLATE_DATABASE = "invex_template"
# Draws hundreds of synthetic invoices: whole seconds a test, so not in `make test-fast`.
SLOW_DIRECTORIES = ("tests/unit/training/",)


# The e2e modules on the shared service (tests/e2e/conftest.py) are one unit of work: each
# worker that ran any of them started a service of its own.
SHARED_SERVICE_UNIT = "tests/e2e/ on the shared service"
# Likewise the modules that OCR pages: one worker loads the OCR models (seconds of CPU)
# instead of each worker that ran one of them.
OCR_UNIT = "tests/unit/ that OCR pages"
OCR_MODULES = (
    "tests/unit/extraction/test_ocr.py",
    "tests/unit/extraction/test_ocr_engines.py",
    "tests/unit/extraction/test_document_splitter.py",
)

# `--dist loadscope` hands out whole modules, those with the most tests first, so modules of
# a few long tests came last and one worker ran them while the other stood idle. These
# units take longest (docs/performance.md, Test suite) and are handed out first, longest
# first; a stale list costs only balance.
LONGEST_FIRST = (
    SHARED_SERVICE_UNIT,
    "tests/integration/test_supervisor.py",
    "tests/e2e/test_webhooks.py",
    OCR_UNIT,
    "tests/integration/test_contract_fuzzing.py",
    "tests/unit/training/test_synth.py",
    "tests/e2e/test_mail_flow.py",
    "tests/e2e/test_extraction_outages.py",
    "tests/integration/test_integrations.py",
    "tests/integration/test_mailboxes.py",
    "tests/integration/test_limits.py",
    "tests/e2e/test_publish_flow.py",
    "tests/integration/test_review.py",
    "tests/integration/test_web_app.py",
)
# Modules whose tests share nothing costly: each test is a unit of work of its own.
BY_TEST = ("tests/integration/test_contract_fuzzing.py", "tests/integration/test_embedded.py")


def _module_of(nodeid: str) -> str:
    return nodeid.split("::", maxsplit=1)[0]


def _rank(scope: str) -> int:
    """A scope's place in LONGEST_FIRST; the others after, in loadscope's order."""
    unit = scope if scope in LONGEST_FIRST else _module_of(scope)
    return LONGEST_FIRST.index(unit) if unit in LONGEST_FIRST else len(LONGEST_FIRST)


def _shared_service_modules(root: Path) -> frozenset[str]:
    """The e2e modules that do not ask for a service of their own (`OWN_SERVICE = True`)."""
    return frozenset(
        str(path.relative_to(root))
        for path in (root / "tests" / "e2e").glob("test_*.py")
        if not re.search(r"^OWN_SERVICE = True", path.read_text(), re.MULTILINE)
    )


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    shared = _shared_service_modules(config.rootpath)

    class LongestFirst(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = _module_of(nodeid)
            if module in BY_TEST:
                return nodeid
            if module in shared:
                return SHARED_SERVICE_UNIT
            if module in OCR_MODULES:
                return OCR_UNIT
            return super()._split_scope(nodeid)

        def _assign_work_unit(self, node) -> None:
            self.workqueue.move_to_end(min(self.workqueue, key=_rank), last=False)
            super()._assign_work_unit(node)

    return LongestFirst(config, log)


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if any(part in item.nodeid for part in SLOW_DIRECTORIES):
            item.add_marker(pytest.mark.slow)
    # INVEX_TEST_SHUFFLE=<seed>: each module's tests in an order drawn from the seed (the
    # same in every xdist worker), to find a test that passes only after another.
    seed = os.environ.get("INVEX_TEST_SHUFFLE")
    if seed:
        draw = random.Random(seed)
        shuffled = []
        for _, tests in itertools.groupby(items, key=lambda item: _module_of(item.nodeid)):
            module_tests = list(tests)
            draw.shuffle(module_tests)
            shuffled += module_tests
        items[:] = shuffled


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session) -> None:
    config = session.config
    if not hasattr(config, "workerinput"):
        remove_stale_scratch()
    _stop_stray_coverage(config)


def _stop_stray_coverage(config) -> None:
    """Under xdist, pytest-cov traces the controller, which runs no test, and, as a worker
    parses the controller's `-n` too, starts the controller's coverage in each worker as
    well as the worker's own (after sessionstart). Pausing the worker's for `no_cover` then
    resumed the stray one. Both are stopped: neither counts a line the workers' own miss,
    and tracing slowed the controller's handling of every report."""
    if not (hasattr(config, "workerinput") or config.getoption("numprocesses", None)):
        return
    import coverage

    stray = coverage.Coverage.current()
    if stray is not None:
        stray.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """pytest-cov's `no_cover` stops tracing for a test's call only; its fixtures, made in
    setup, are often the costlier part (the drawn invoices, the fuzzing's objects)."""
    if not item.get_closest_marker("no_cover"):
        return (yield)
    import coverage

    tracing = coverage.Coverage.current()
    if tracing is None:
        return (yield)
    tracing.stop()
    try:
        return (yield)
    finally:
        tracing.start()


@pytest.fixture(autouse=True, scope="session")
def _one_ocr_thread() -> None:
    """OCR on one thread, in the test processes and the workers they start: the suite's
    processes already keep every core busy, and onnxruntime's threads wait for each other
    by spinning, burning CPU for the same pages (docs/performance.md)."""
    from workers.extraction import ocr

    os.environ.setdefault("INVEX_OCR_THREADS", "1")
    ocr.set_ocr_threads(int(os.environ["INVEX_OCR_THREADS"]))


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
    # Members' passwords: the standard argon2id is slow on purpose and the web tests set
    # and check hundreds (tests/unit/test_password_hashing.py covers the standard ones).
    os.environ.setdefault("INVEX_PASSWORD_HASHING", "test-only-cheap")
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

    name = f"invex_module_{next(_module_databases)}"
    url = clone_database(servers["server_url"], TEMPLATE_DATABASE, name)
    redis.Redis.from_url(servers["redis_url"]).flushdb()
    try:
        with pointed_at(servers, url):
            yield url
    finally:
        drop_database(servers["server_url"], name)


@contextlib.contextmanager
def pointed_at(servers: dict, database_url: str, redis_url: str | None = None) -> Iterator[None]:
    """This process's settings, pool and cached clients on `database_url` (and `redis_url`),
    and `servers`' URLs with them; back on the session's own after."""
    from common import db, health, taskqueue
    from common.config import get_settings

    session_redis = servers["redis_url"]

    def point(database: str, broker: str) -> None:
        servers["database_url"] = os.environ["INVEX_DATABASE_URL"] = database
        servers["redis_url"] = os.environ["INVEX_REDIS_URL"] = broker
        get_settings.cache_clear()
        health.redis_client.cache_clear()
        taskqueue.celery_app.cache_clear()
        db.configure(database)
        _move_key_cache_listener(servers["server_url"])

    point(database_url, redis_url or session_redis)
    try:
        yield
    finally:
        point(servers["server_url"], session_redis)
        db.close_pools()


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
def own_service(module_database, servers) -> Iterator[ServiceProcesses]:
    """The API under gunicorn, an extraction worker and a webhook worker, as real
    processes, on the module's database; stopped when the module ends."""
    processes = ServiceProcesses(servers["database_url"], servers["redis_url"])
    processes.start()
    try:
        yield processes
    finally:
        processes.stop()


@pytest.fixture(scope="module")
def service(own_service) -> ServiceProcesses:
    """The module's own service (tests/e2e/conftest.py shares one among e2e modules)."""
    return own_service
