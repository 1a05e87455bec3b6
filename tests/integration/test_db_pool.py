"""The process's connection pool keeps nothing of a connection beyond the connection's life:
the pool replaces its connections hourly and after failures, for as long as it runs."""

from __future__ import annotations

import gc
import weakref

from common import db


def test_a_replaced_connection_is_freed_with_its_kept_cursor(settings):
    with db.connection() as conn:
        cursor = db.reused_cursor(conn)
        assert db.reused_cursor(conn) is cursor  # kept for the connection's next statement
        cursor.execute("select 1")
    gone = weakref.ref(conn)
    del conn, cursor

    db.close_pools()  # as a replacement does to a connection
    gc.collect()

    assert gone() is None
    with db.connection() as fresh:  # a new pool, opened on first use
        assert db.reused_cursor(fresh).execute("select 1 as one").fetchone() == {"one": 1}
