"""The floor `bench/api_load.py` compares Invex against: Flask under gunicorn, one multipart
upload in, the same bytes inserted into PostgreSQL, one insert per request, nothing else (no
auth, no idempotency, no events, no queue).

    BARE_DATABASE_URL=postgresql://... gunicorn bench.bare_upload_app:app

The table `bare_uploads` must exist (`api_load.py` creates it). The pool is sized like
Invex's (`common/db.py`: 1-10 connections per process) but has no per-checkout health check.
"""

from __future__ import annotations

import os
import threading

from flask import Flask, jsonify, request
from psycopg_pool import ConnectionPool

CREATE_TABLE = (
    "create table if not exists bare_uploads (id bigserial primary key, file_name text not"
    " null, data bytea not null, created_at timestamptz not null default now())"
)

app = Flask("bare_upload")
# Opened on first use, in the gunicorn worker, so no pool crosses the fork.
_pool: ConnectionPool | None = None
_pool_lock = threading.Lock()


def pool() -> ConnectionPool:
    global _pool  # noqa: PLW0603 - one pool per process
    # Locked: two threads of a fresh worker would otherwise each open a pool.
    with _pool_lock:
        if _pool is None:
            _pool = ConnectionPool(
                os.environ["BARE_DATABASE_URL"],
                min_size=1,
                max_size=10,
                timeout=3,
                open=True,
                name="bare",
            )
        return _pool


@app.post("/upload")
def upload():
    upload = request.files["file"]
    data = upload.stream.read()
    # The connection context commits on exit: one transaction, one insert.
    with pool().connection() as conn:
        row = conn.execute(
            "insert into bare_uploads (file_name, data) values (%s, %s) returning id",
            (upload.filename or "upload", data),
        ).fetchone()
    assert row is not None
    return jsonify(id=row[0], size=len(data)), 201
