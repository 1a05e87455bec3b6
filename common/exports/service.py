"""Export rules: create, read, list, delete, download; and the worker's run, the sweeper's
recovery and expiry.

The export row is the job: written by the request, the task sent after commit; the sweeper
re-sends queued exports whose task was lost and takes back running ones whose worker died.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from psycopg.rows import class_row

from common import db, taskqueue
from common.accounts.repository import get_org
from common.accounts.service import Principal
from common.config import get_settings
from common.errors import ExportNotReady, ResourceNotFound, UnsupportedFormat
from common.events import record_event
from common.exports import repository
from common.exports.formats import FORMATS, DatevSettings, Options
from common.exports.repository import CHUNK_BYTES, Export
from common.exports.writers import open_writer
from common.ids import new_id
from common.invoices.repository import Invoice, InvoiceFilters, list_invoices_query
from common.pagination import org_page
from common.storage import file_store

log = logging.getLogger(__name__)

# A crashed export (its worker died) is tried this often before it ends `failed`.
MAX_ATTEMPTS = 3
# Rows fetched per round trip of the server-side cursor: memory holds two batches.
STREAM_BATCH = 5000
FILTER_NAMES = (
    "status",
    "review_status",
    "document_type",
    "vendor",
    "currency",
    "date_from",
    "date_to",
    "created_after",
    "created_before",
)


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def export_resource(export: Export) -> dict[str, Any]:
    return {
        "id": export.id,
        "object": "export",
        "livemode": export.livemode,
        "status": export.status,
        "format": export.format,
        "filters": export.filters,
        "include_files": export.include_files,
        "bom": export.bom,
        "datev": export.options.get("datev"),
        "invoice_count": export.invoice_count,
        "size": export.size,
        "sha256": export.sha256,
        "file_name": export.file_name,
        "created": _unix(export.created_at),
        "completed": _unix(export.completed_at),
        "expires_at": _unix(export.expires_at),
        "expired": export.file_deleted_at is not None,
        "error": (
            {"code": export.error_code, "message": export.error_message}
            if export.status == "failed"
            else None
        ),
    }


def invoice_filters(filters: dict[str, Any]) -> InvoiceFilters:
    """The invoice list's filters from an export's stored `filters` (as the request gave
    them: dates "YYYY-MM-DD", creation times Unix seconds)."""

    def moment(value: int | None) -> datetime | None:
        return datetime.fromtimestamp(value, UTC) if value is not None else None

    return InvoiceFilters(
        status=filters.get("status"),
        review_status=filters.get("review_status"),
        document_type=filters.get("document_type"),
        vendor=filters.get("vendor"),
        currency=filters.get("currency"),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        created_after=moment(filters.get("created_after")),
        created_before=moment(filters.get("created_before")),
    )


def create_export(
    principal: Principal,
    *,
    format: str,
    filters: dict[str, Any],
    include_files: bool = False,
    bom: bool = False,
    datev: dict[str, Any] | None = None,
) -> Export:
    """Store the queued export; its task is sent once the row is committed. `datev`: the
    DATEV client's numbers (DatevSettings' fields), for the `datev` format."""
    if format not in FORMATS:
        raise UnsupportedFormat(
            f"There is no `{format}` export; use one of "
            + ", ".join(f"`{f}`" for f in FORMATS)
            + ".",
            param="format",
        )
    stored = {name: filters[name] for name in FILTER_NAMES if filters.get(name) is not None}
    with db.transaction() as conn:
        export = repository.insert_export(
            conn,
            export_id=new_id("exp"),
            org_id=principal.org_id,
            livemode=principal.livemode,
            format=format,
            filters=stored,
            include_files=include_files,
            bom=bom,
            options={"datev": datev} if datev else {},
        )
        db.after_commit(conn, lambda: taskqueue.enqueue_export(export.id))
    return export


def get_export(principal: Principal, export_id: str) -> Export:
    with db.transaction() as conn:
        export = repository.get_export(conn, principal.org_id, principal.livemode, export_id)
    if export is None:
        raise ResourceNotFound(f"No export {export_id!r}.", param="id")
    return export


def list_exports(
    principal: Principal, *, limit: int = 25, cursor: str | None = None
) -> tuple[list[Export], bool, str | None]:
    return org_page(
        repository.list_exports,
        principal.org_id,
        principal.livemode,
        prefix="exp",
        limit=limit,
        cursor=cursor,
    )


def delete_export(principal: Principal, export_id: str) -> Export:
    """Delete the export and its file. A run under way finds its row gone and stores nothing."""
    with db.transaction() as conn:
        export = repository.get_export(conn, principal.org_id, principal.livemode, export_id)
        if export is None:
            raise ResourceNotFound(f"No export {export_id!r}.", param="id")
        repository.delete_export(conn, export.id)  # its chunks go with it (on delete cascade)
    return export


class ExportFile(io.RawIOBase):
    """An export's stored file as a seekable, read-only stream: each read fetches the one
    1 MiB piece it needs (on a connection held only for that query), so serving a file or a
    range of it never holds more than a piece in memory."""

    def __init__(self, export_id: str, size: int) -> None:
        self.export_id = export_id
        self.size = size
        self.position = 0
        self._piece: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: Any) -> int:
        if self.position >= self.size:
            return 0
        seq, offset = divmod(self.position, CHUNK_BYTES)
        if self._piece is None or self._piece[0] != seq:
            with db.connection() as conn:
                data = repository.read_chunk(conn, self.export_id, seq)
            if data is None:  # deleted while being read
                return 0
            self._piece = (seq, data)
        piece = self._piece[1][offset:]
        count = min(len(buffer), len(piece), self.size - self.position)
        buffer[:count] = piece[:count]
        self.position += count
        return count


def open_download(principal: Principal, export_id: str) -> tuple[Export, ExportFile]:
    export = get_export(principal, export_id)
    if export.status != "succeeded":
        raise ExportNotReady(
            f"Export {export_id!r} is {export.status}; only a succeeded export has a file.",
            param="id",
        )
    if export.file_deleted_at is not None:
        raise ResourceNotFound(f"The file of export {export_id!r} has expired.", param="id")
    assert export.size is not None
    return export, ExportFile(export.id, export.size)


# --- the export worker's side ---------------------------------------------------------------


def record_export_event(conn: db.Conn, export: Export) -> None:
    record_event(
        conn,
        org_id=export.org_id,
        livemode=export.livemode,
        type="export.completed" if export.status == "succeeded" else "export.failed",
        object_id=export.id,
        data=export_resource(export),
    )


def claim_export(export_id: str, task_id: str, lease_seconds: int) -> Export | None:
    with db.transaction() as conn:
        return repository.claim_export(conn, export_id, task_id, lease_seconds)


def fail_export(export_id: str, task_id: str, code: str, message: str) -> Export | None:
    with db.transaction() as conn:
        export = repository.finish_export(
            conn, export_id, task_id, status="failed", error_code=code, error_message=message
        )
        if export is not None:
            record_export_event(conn, export)
    return export


def write_export(
    export: Export,
    out: Any,
    *,
    on_progress: Callable[[int], object] | None = None,
) -> tuple[int, str, str]:
    """Write `export`'s invoices in its format into `out` (a binary file); returns the
    invoice count, the content type and the file extension.

    The invoices are the list's (same filters, same order: newest first), read through a
    server-side cursor in one REPEATABLE READ transaction, so the file is one consistent
    snapshot and memory holds one batch of rows at a time.
    """
    sql, params = list_invoices_query(
        export.org_id,
        export.livemode,
        invoice_filters(export.filters),
        limit=None,  # type: ignore[arg-type]  # LIMIT NULL: all of them
        after_id=None,
    )
    count = 0
    with db.transaction() as conn:
        conn.execute("set transaction isolation level repeatable read, read only")
        store = file_store()

        def load_file(invoice_id: str) -> bytes | None:
            # the same connection: psycopg serialises it with the cursor's FETCHes (which
            # run in a thread), and a query between two FETCHes is fine
            return store.get(conn, invoice_id)

        writer = open_writer(
            export.format,
            out,
            Options(
                bom=export.bom,
                include_files=export.include_files,
                load_file=load_file,
                datev=DatevSettings.from_options(export.options.get("datev")),
                validation_processes=get_settings().export_validation_processes,
            ),
        )
        row_factory: Any = class_row(Invoice)
        if writer.fields_read is not None:
            sql, params, row_factory = repository.slim_invoices_query(
                sql, params, writer.fields_read, writer.field_defaults
            )
        for invoice in repository.stream_invoice_rows(conn, sql, params, STREAM_BATCH, row_factory):
            writer.add(invoice)
            count += 1
            if on_progress is not None and count % STREAM_BATCH == 0:
                on_progress(count)
        writer.finish()
    return count, writer.content_type, writer.extension


def count_export_invoices(export: Export) -> int:
    """How many invoices `export` holds now (the CLI's progress bar)."""
    sql, params = list_invoices_query(
        export.org_id,
        export.livemode,
        invoice_filters(export.filters),
        limit=None,  # type: ignore[arg-type]  # LIMIT NULL: all of them
        after_id=None,
    )
    with db.transaction() as conn:
        return repository.count_rows(conn, sql, params)


def unsaved_export(
    org_id: str,
    *,
    livemode: bool,
    format: str,
    filters: dict[str, Any],
    include_files: bool = False,
    bom: bool = False,
    datev: dict[str, Any] | None = None,
) -> Export:
    """An export that is never stored, for write_export in this process (`invex export`):
    no row, no queue, no event. The organisation must exist."""
    if format not in FORMATS:
        raise UnsupportedFormat(
            f"There is no `{format}` export; use one of {', '.join(FORMATS)}.", param="format"
        )
    with db.transaction() as conn:
        if get_org(conn, org_id) is None:
            raise ResourceNotFound(f"No organisation {org_id!r}.", param="org")
    return Export(
        id=new_id("exp"),
        org_id=org_id,
        livemode=livemode,
        format=format,
        filters={name: filters[name] for name in FILTER_NAMES if filters.get(name) is not None},
        include_files=include_files,
        bom=bom,
        options={"datev": datev} if datev else {},
        status="running",
        invoice_count=None,
        size=None,
        sha256=None,
        content_type=None,
        file_name=None,
        error_code=None,
        error_message=None,
        attempts=1,
        task_id=None,
        created_at=datetime.now(UTC),
        completed_at=None,
        expires_at=None,
        file_deleted_at=None,
    )


def run_export(export_id: str, task_id: str, *, lease_seconds: int, retention_days: int) -> str:
    """Claim, write to a temporary file, store the file with the outcome and the event in
    one transaction. Returns what happened: skipped, succeeded or failed."""
    export = claim_export(export_id, task_id, lease_seconds)
    if export is None:
        return "skipped"
    if export.attempts > MAX_ATTEMPTS:
        fail_export(
            export_id,
            task_id,
            "export_failed",
            f"The export did not finish after {MAX_ATTEMPTS} attempts.",
        )
        return "failed"
    try:
        return _write_and_store(export, task_id, retention_days)
    except _LostLease:
        return "skipped"


def _write_and_store(export: Export, task_id: str, retention_days: int) -> str:
    export_id = export.id
    with tempfile.TemporaryFile(prefix="invex-export-") as spool:
        count, content_type, extension = write_export(export, spool)
        size = spool.tell()
        spool.seek(0)
        digest = hashlib.sha256()
        while piece := spool.read(CHUNK_BYTES):
            digest.update(piece)
        spool.seek(0)
        with db.transaction() as conn:
            if repository.get_export_by_id(conn, export_id) is None:
                return "skipped"  # deleted while it ran
            repository.put_file(conn, export_id, spool)
            finished = repository.finish_export(
                conn,
                export_id,
                task_id,
                status="succeeded",
                invoice_count=count,
                size=size,
                sha256=digest.hexdigest(),
                content_type=content_type,
                file_name=f"invex-export-{export_id}{extension}",
                retention_days=retention_days,
            )
            if finished is None:
                # Another run took it over (this one's lease ran out): roll back the file
                # written above; the other run stores its own.
                raise _LostLease
            record_export_event(conn, finished)
    log.info("export %s: %d invoices, %d bytes (%s)", export_id, count, size, export.format)
    return "succeeded"


class _LostLease(Exception):
    """The export is no longer this run's to finish."""


def sweep_exports(requeue_after: int, batch: int = 100) -> dict[str, int]:
    """Re-send queued exports that waited too long; requeue (or fail, after MAX_ATTEMPTS)
    running ones whose lease ran out, so none stays `running`; delete expired files.
    Safe to run from several beat processes: rows are taken with SKIP LOCKED."""
    failed = 0
    requeued: list[str] = []
    with db.transaction() as conn:
        for export in repository.running_overrun(conn, batch):
            if export.attempts >= MAX_ATTEMPTS:
                done = repository.fail_overrun(
                    conn, export.id, f"The export did not finish after {export.attempts} attempts."
                )
                if done is not None:
                    record_export_event(conn, done)
                    failed += 1
            elif repository.release_to_queue(conn, export.id):
                requeued.append(export.id)
        overdue = repository.queued_overdue(conn, requeue_after, batch)
        expired = repository.expired_files(conn, batch)
        for export_id in expired:
            repository.delete_file(conn, export_id)
    resent = sum(taskqueue.enqueue_export(i) for i in [*requeued, *overdue])
    return {
        "exports_failed": failed,
        "exports_requeued": len(requeued),
        "exports_resent": resent,
        "export_files_expired": len(expired),
    }
