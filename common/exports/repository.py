"""SQL for exports and their files. Never commits; holds no rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from psycopg.types.json import Jsonb

from common.db import Conn
from common.invoices.repository import Invoice

# The size of one stored piece of an export's file (export_file_chunks).
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Export:
    id: str
    org_id: str
    livemode: bool
    format: str
    filters: dict[str, Any]
    include_files: bool
    bom: bool
    options: dict[str, Any]  # per format: {"datev": {...}}
    status: str
    invoice_count: int | None
    size: int | None
    sha256: str | None
    content_type: str | None
    file_name: str | None
    error_code: str | None
    error_message: str | None
    attempts: int
    task_id: str | None
    created_at: datetime
    completed_at: datetime | None
    expires_at: datetime | None
    file_deleted_at: datetime | None


COLUMNS = (
    "id, org_id, livemode, format, filters, include_files, bom, options, status, invoice_count,"
    " size, sha256, content_type, file_name, error_code, error_message, attempts, task_id,"
    " created_at, completed_at, expires_at, file_deleted_at"
)


def _export(row: dict | None) -> Export | None:
    return Export(**row) if row else None


def insert_export(
    conn: Conn,
    *,
    export_id: str,
    org_id: str,
    livemode: bool,
    format: str,
    filters: dict[str, Any],
    include_files: bool,
    bom: bool,
    options: dict[str, Any],
) -> Export:
    row = conn.execute(
        "insert into exports (id, org_id, livemode, format, filters, include_files, bom,"
        " options) values (%(id)s, %(org)s, %(live)s, %(format)s, %(filters)s, %(files)s,"
        " %(bom)s, %(options)s)"
        f" returning {COLUMNS}",
        {
            "id": export_id,
            "org": org_id,
            "live": livemode,
            "format": format,
            "filters": Jsonb(filters),
            "files": include_files,
            "bom": bom,
            "options": Jsonb(options),
        },
    ).fetchone()
    assert row is not None
    return Export(**row)


def get_export(conn: Conn, org_id: str, livemode: bool, export_id: str) -> Export | None:
    return _export(
        conn.execute(
            f"select {COLUMNS} from exports where id = %(id)s and org_id = %(org)s"
            " and livemode = %(live)s",
            {"id": export_id, "org": org_id, "live": livemode},
        ).fetchone()
    )


def get_export_by_id(conn: Conn, export_id: str) -> Export | None:
    return _export(
        conn.execute(
            f"select {COLUMNS} from exports where id = %(id)s", {"id": export_id}
        ).fetchone()
    )


def list_exports(
    conn: Conn, org_id: str, livemode: bool, *, limit: int, after_id: str | None
) -> list[Export]:
    rows = conn.execute(
        f"select {COLUMNS} from exports where org_id = %(org)s and livemode = %(live)s"
        " and (%(after)s::text is null or id < %(after)s) order by id desc limit %(limit)s",
        {"org": org_id, "live": livemode, "after": after_id, "limit": limit},
    ).fetchall()
    return [Export(**row) for row in rows]


def delete_export(conn: Conn, export_id: str) -> None:
    conn.execute("delete from exports where id = %(id)s", {"id": export_id})


def claim_export(conn: Conn, export_id: str, task_id: str, lease_seconds: int) -> Export | None:
    """Move a queued export to running under a lease; None if someone else has it or it is
    finished. A running row is taken back when its lease ran out or when this same task
    message is redelivered (its first run died with its worker)."""
    return _export(
        conn.execute(
            "update exports set status = 'running', attempts = attempts + 1,"
            " task_id = %(task)s, lease_expires_at = now() + make_interval(secs => %(lease)s)"
            " where id = %(id)s and (status = 'queued' or (status = 'running' and"
            " (lease_expires_at < now() or task_id = %(task)s)))"
            f" returning {COLUMNS}",
            {"id": export_id, "task": task_id, "lease": lease_seconds},
        ).fetchone()
    )


def finish_export(
    conn: Conn,
    export_id: str,
    task_id: str,
    *,
    status: str,
    invoice_count: int | None = None,
    size: int | None = None,
    sha256: str | None = None,
    content_type: str | None = None,
    file_name: str | None = None,
    retention_days: int = 0,
    error_code: str | None = None,
    error_message: str | None = None,
) -> Export | None:
    """Record the outcome, only if this task still holds the export."""
    return _export(
        conn.execute(
            "update exports set status = %(status)s, invoice_count = %(count)s, size = %(size)s,"
            " sha256 = %(sha)s, content_type = %(ctype)s, file_name = %(name)s,"
            " error_code = %(code)s, error_message = %(message)s, completed_at = now(),"
            " expires_at = case when %(status)s = 'succeeded'"
            "   then now() + make_interval(days => %(days)s) end,"
            " lease_expires_at = null"
            " where id = %(id)s and status = 'running' and task_id = %(task)s"
            f" returning {COLUMNS}",
            {
                "id": export_id,
                "task": task_id,
                "status": status,
                "count": invoice_count,
                "size": size,
                "sha": sha256,
                "ctype": content_type,
                "name": file_name,
                "days": retention_days,
                "code": error_code,
                "message": error_message,
            },
        ).fetchone()
    )


def fail_overrun(conn: Conn, export_id: str, message: str) -> Export | None:
    return _export(
        conn.execute(
            "update exports set status = 'failed', error_code = 'export_failed',"
            " error_message = %(message)s, completed_at = now(), lease_expires_at = null"
            f" where id = %(id)s and status = 'running' returning {COLUMNS}",
            {"id": export_id, "message": message},
        ).fetchone()
    )


def release_to_queue(conn: Conn, export_id: str) -> bool:
    cur = conn.execute(
        "update exports set status = 'queued', enqueued_at = now(), lease_expires_at = null,"
        " task_id = null where id = %(id)s and status = 'running'",
        {"id": export_id},
    )
    return cur.rowcount == 1


def running_overrun(conn: Conn, limit: int) -> list[Export]:
    rows = conn.execute(
        f"select {COLUMNS} from exports where status = 'running' and lease_expires_at < now()"
        " order by enqueued_at limit %(limit)s for update skip locked",
        {"limit": limit},
    ).fetchall()
    return [Export(**row) for row in rows]


def queued_overdue(conn: Conn, older_than_seconds: int, limit: int) -> list[str]:
    """Queued exports whose task may have been lost; their clock restarts as they are read."""
    rows = conn.execute(
        "update exports set enqueued_at = now() where id in (select id from exports"
        " where status = 'queued' and enqueued_at < now() - make_interval(secs => %(age)s)"
        " order by enqueued_at limit %(limit)s for update skip locked) returning id",
        {"age": older_than_seconds, "limit": limit},
    ).fetchall()
    return [row["id"] for row in rows]


def expired_files(conn: Conn, limit: int) -> list[str]:
    """Exports whose file is past its expiry, marked deleted (the caller deletes the file in
    the same transaction)."""
    rows = conn.execute(
        "update exports set file_deleted_at = now() where id in (select id from exports"
        " where expires_at < now() and file_deleted_at is null"
        " order by expires_at limit %(limit)s for update skip locked) returning id",
        {"limit": limit},
    ).fetchall()
    return [row["id"] for row in rows]


# --- the file -----------------------------------------------------------------------------


def put_file(conn: Conn, export_id: str, source: BinaryIO) -> None:
    """Store `source` (read from where it is to its end) in CHUNK_BYTES pieces; one piece in
    memory at a time. Replaces a file an earlier attempt left."""
    conn.execute("delete from export_file_chunks where export_id = %(id)s", {"id": export_id})
    seq = 0
    while piece := source.read(CHUNK_BYTES):
        conn.execute(
            "insert into export_file_chunks (export_id, seq, data)"
            " values (%(id)s, %(seq)s, %(data)s)",
            {"id": export_id, "seq": seq, "data": piece},
        )
        seq += 1


def read_chunk(conn: Conn, export_id: str, seq: int) -> bytes | None:
    row = conn.execute(
        "select data from export_file_chunks where export_id = %(id)s and seq = %(seq)s",
        {"id": export_id, "seq": seq},
    ).fetchone()
    return bytes(row["data"]) if row else None


def delete_file(conn: Conn, export_id: str) -> None:
    conn.execute("delete from export_file_chunks where export_id = %(id)s", {"id": export_id})


def stream_invoice_rows(
    conn: Conn, sql: str, params: dict[str, Any], batch: int, row_factory: Any = None
) -> Iterator[Any]:
    """The rows of `sql` through a server-side cursor, `batch` at a time, so memory holds
    two batches however many rows match. The next batch is fetched in a thread while the
    caller works through the current one: the wait on PostgreSQL (network, the server's
    work) overlaps the caller's. `conn` must be inside a transaction."""
    with conn.cursor(name="export_invoices", row_factory=row_factory, binary=True) as cursor:
        cursor.execute(sql, params)
        with ThreadPoolExecutor(1, thread_name_prefix="export-fetch") as fetcher:
            pending = fetcher.submit(cursor.fetchmany, batch)
            while rows := pending.result():
                pending = fetcher.submit(cursor.fetchmany, batch)
                yield from rows


# The invoice's columns but `fields` and `metadata`, in Invoice's order (make() below).
_SCALAR_COLUMNS = (
    "id",
    "org_id",
    "livemode",
    "status",
    "review_status",
    "file_name",
    "content_type",
    "file_size",
    "file_sha256",
    "file_pages",
    "error_code",
    "error_message",
    "schema_id",
    "duplicate_of",
    "attempts",
    "created_at",
    "updated_at",
)


def slim_invoices_query(
    sql: str, params: dict[str, Any], keys: tuple[str, ...], defaults: dict[str, str]
) -> tuple[str, dict[str, Any], Callable[[Any], Callable[[Sequence[Any]], Invoice]]]:
    """`sql` (the invoice list's) reading only the `keys` of `fields`, each as text, taken
    apart by PostgreSQL (one jsonb_to_record per row) instead of decoding whole documents
    in Python; `metadata` is left out. A key absent from `fields` reads as its `defaults`
    entry, else None. Returns the SQL, its parameters and a psycopg row factory making
    Invoices whose `fields` hold those keys (values as text: "1250", not 1250)."""
    for key in keys:
        if not key.isidentifier():
            raise ValueError(f"not a field name: {key!r}")
    record = ", ".join(f'"{key}" text' for key in keys)
    params = dict(params)
    cells = []
    for number, key in enumerate(keys):
        if key in defaults:
            # `? key` only where the key reads null: cheaper than a default merged into
            # every row's document (`defaults || fields` copies it)
            params[f"slim_key_{number}"] = key
            params[f"slim_default_{number}"] = defaults[key]
            cells.append(
                f'coalesce(r."{key}", case when q.fields ? %(slim_key_{number})s then null'
                f" else %(slim_default_{number})s end)"
            )
        else:
            cells.append(f'r."{key}"')
    columns = ", ".join(f"q.{c}" for c in _SCALAR_COLUMNS)
    slim = (
        f"select {columns}, {', '.join(cells)} from ({sql}) as q"
        f" cross join lateral jsonb_to_record(q.fields) as r({record}) order by q.id desc"
    )

    def factory(_cursor: Any) -> Callable[[Sequence[Any]], Invoice]:
        def make(row: Sequence[Any]) -> Invoice:
            # positional, in _SCALAR_COLUMNS' order: the cheapest way to build 100,000
            return Invoice(
                row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                row[9], dict(zip(keys, row[17:], strict=True)), row[10], row[11], {},
                row[12], row[13], row[14], row[15], row[16],
            )  # fmt: skip

        return make

    return slim, params, factory


def count_rows(conn: Conn, sql: str, params: dict[str, Any]) -> int:
    row = conn.execute(f"select count(*) as n from ({sql}) as selected", params).fetchone()
    assert row is not None
    return int(row["n"])
