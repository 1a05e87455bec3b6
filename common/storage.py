"""Where uploaded files live. PostgreSQL by default, in the same transaction as the invoice
row, so a file and its invoice exist together or not at all. Object storage can implement
the same three methods."""

from __future__ import annotations

from typing import Protocol

from common.db import Conn


class FileStore(Protocol):
    def put(self, conn: Conn, invoice_id: str, data: bytes) -> None: ...
    def get(self, conn: Conn, invoice_id: str) -> bytes | None: ...
    def delete(self, conn: Conn, invoice_id: str) -> None: ...


class PostgresFileStore:
    def put(self, conn: Conn, invoice_id: str, data: bytes) -> None:
        conn.execute(
            "insert into invoice_files (invoice_id, data) values (%(id)s, %(data)s)",
            {"id": invoice_id, "data": data},
        )

    def get(self, conn: Conn, invoice_id: str) -> bytes | None:
        row = conn.execute(
            "select data from invoice_files where invoice_id = %(id)s", {"id": invoice_id}
        ).fetchone()
        return bytes(row["data"]) if row else None

    def delete(self, conn: Conn, invoice_id: str) -> None:
        conn.execute("delete from invoice_files where invoice_id = %(id)s", {"id": invoice_id})


def file_store() -> FileStore:
    return PostgresFileStore()
