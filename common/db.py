"""The PostgreSQL connection pool of this process, and transactions on it.

The pool is created lazily on first use, so it is never shared across a fork
(gunicorn and Celery prefork children each open their own).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import set_json_dumps
from psycopg_pool import ConnectionPool, PoolTimeout

from common import fastjson
from common.config import get_settings
from common.errors import ServiceUnavailable

# What Jsonb wraps goes to PostgreSQL written by orjson (common/fastjson.py): an upload
# writes its event and its metadata.
set_json_dumps(fastjson.dumps)

# Connections of the pool return rows as dicts (row_factory=dict_row).
Conn = psycopg.Connection[dict[str, Any]]


class PooledConnection(Conn):
    """A connection of this process's pool, carrying what the process keeps per connection
    (the cursor of the hot statement, reused_cursor; when it came back, _check_if_idle), so
    that it is freed with the connection when the pool replaces it (hourly, and after
    failures). Not in a dictionary keyed by the connection: even a weak key would never
    die, since the cursor refers to its connection."""

    kept_cursor: psycopg.Cursor[dict[str, Any]] | None = None
    returned_at = 0.0


# A connection back in the pool for longer than this is probed before reuse (it may have
# died with a server restart); a hot one is not, which saves a round trip per checkout.
IDLE_CHECK_SECONDS = 2.0

_lock = threading.Lock()
_pools: dict[str, ConnectionPool[PooledConnection]] = {}
_url: str | None = None


def configure(database_url: str) -> None:
    global _url  # noqa: PLW0603 - one pool per process is the point
    _url = database_url


def database_url() -> str:
    """The URL this process's connections go to: configure()'s, else the settings'."""
    if not _url:
        settings = get_settings()
        settings.require_servers()
        configure(settings.database_url)
    assert _url
    return _url


def pool() -> ConnectionPool[PooledConnection]:
    existing = _pools.get(_url) if _url else None
    if existing is not None:  # every checkout: no lock, no settings
        return existing
    url = database_url()
    with _lock:
        existing = _pools.get(url)
        if existing is None:
            existing = ConnectionPool(
                url,
                min_size=1,
                # above a webhook worker's sender threads, so none waits for a connection
                max_size=20,
                timeout=3,
                open=True,
                # autocommit: a single statement needs no BEGIN/COMMIT round trips;
                # transaction() opens an explicit one where several statements must agree.
                kwargs={"row_factory": dict_row, "connect_timeout": 3, "autocommit": True},
                # no `reset` callback: with one, psycopg_pool hands every returned
                # connection to its worker thread (a wake-up and a GIL hand-over per return);
                # _checked_out() notes the return time instead
                check=_check_if_idle,
                connection_class=PooledConnection,
                name="invex",
            )
            _pools[url] = existing
        return existing


@contextmanager
def _checked_out(timeout: float | None = None) -> Iterator[PooledConnection]:
    """A connection of the pool, its return time noted for _check_if_idle."""
    with pool().connection(timeout=timeout) as conn:
        try:
            yield conn
        finally:
            conn.returned_at = time.monotonic()


def _check_if_idle(conn: PooledConnection) -> None:
    """Probe connections that sat idle: one that died with the server (restart, failover)
    is replaced before it is handed out, so the process recovers by itself. A connection
    that dies while hot fails its request with 503 and the pool drops it on return."""
    if time.monotonic() - conn.returned_at > IDLE_CHECK_SECONDS:
        ConnectionPool.check_connection(conn)


def reused_cursor(conn: Conn) -> psycopg.Cursor[dict[str, Any]]:
    """The cursor kept with a pooled `conn` (PooledConnection), for a hot statement with
    many parameters: psycopg keeps the dumper of each parameter type per cursor, and
    `conn.execute` makes a new cursor that looks them all up again (24 us of the upload
    statement's 117 in a micro-benchmark of its 22 parameters). Only the thread holding the
    connection uses it, as the connection itself. A connection from elsewhere gets a new
    cursor."""
    if not isinstance(conn, PooledConnection):
        return conn.cursor()
    cursor = conn.kept_cursor
    if cursor is None or cursor.closed:
        cursor = conn.kept_cursor = conn.cursor()
    return cursor


def close_pools() -> None:
    with _lock:
        for p in _pools.values():
            p.close()
        _pools.clear()


# Callbacks to run once the transaction of a connection has committed (keyed by id(conn));
# only the thread holding the connection touches its list.
_after_commit: dict[int, list[Callable[[], object]]] = {}


def after_commit(conn: Conn, callback: Callable[[], object]) -> None:
    """Run `callback` after the enclosing `transaction()` commits; never if it rolls back.

    This is how work reaches the queue: a task sent before commit could run before its row
    is visible, and one sent for a rolled-back row would run for nothing.
    """
    _after_commit.setdefault(id(conn), []).append(callback)


@contextmanager
def connection() -> Iterator[Conn]:
    """A connection in autocommit mode, for one statement that needs no transaction."""
    try:
        with _checked_out() as conn:
            yield conn
    except (PoolTimeout, psycopg.OperationalError) as exc:
        raise ServiceUnavailable from exc


@contextmanager
def transaction() -> Iterator[Conn]:
    """A connection inside one transaction: committed on success, rolled back on error.

    Database outages surface as ServiceUnavailable (503) rather than as internal errors.
    """
    callbacks: list[Callable[[], object]] = []
    try:
        with _checked_out() as conn:
            try:
                with conn.transaction():
                    yield conn
            finally:
                callbacks = _after_commit.pop(id(conn), [])
    except (PoolTimeout, psycopg.OperationalError) as exc:
        raise ServiceUnavailable from exc
    for callback in callbacks:  # reached only when the commit succeeded
        callback()


def database_is_up() -> bool:
    try:
        with _checked_out(timeout=2) as conn:
            conn.execute("select 1")
        return True
    except (PoolTimeout, psycopg.Error):
        return False
