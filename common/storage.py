"""Where uploaded files live. PostgreSQL by default, written by the very statement that
inserts the invoice row (common/invoices/repository.py UPLOAD), so a file and its invoice
exist together or not at all. Object storage can implement the same three methods (and
`in_upload_statement = False`: the upload then puts the file first)."""

from __future__ import annotations

from typing import Protocol

from common.db import Conn


class FileStore(Protocol):
    # True: the upload's single statement writes the bytes itself (into invoice_files), so
    # the file and its invoice commit together; False: the upload calls put() before it.
    in_upload_statement: bool

    def put(self, conn: Conn, invoice_id: str, data: bytes) -> None: ...
    def get(self, conn: Conn, invoice_id: str) -> bytes | None: ...
    def delete(self, conn: Conn, invoice_id: str) -> None: ...


class PostgresFileStore:
    in_upload_statement = True

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
