"""Bank statements: upload, read, list; the worker's parse and record, the sweeper's
recovery.

The statement row is the job: written with its file by the request, the task sent after
commit; the sweeper re-sends queued statements whose task was lost and takes back those
whose worker died. Reconciliation lives in common/bank/reconcile.py.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from common import db, taskqueue
from common.accounts.service import Principal
from common.bank import repository
from common.bank.repository import Statement, Transaction
from common.bank.statements import model
from common.bank.statements.formats import parse_statement, sniff_statement
from common.errors import ResourceNotFound, UnprocessableStatement
from common.events import record_event
from common.ids import new_id
from common.pagination import clamp_limit, decode_cursor, org_page, page_of

log = logging.getLogger(__name__)

# A statement whose worker keeps dying is tried this often before it ends `failed`.
MAX_ATTEMPTS = 3


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def statement_resource(statement: Statement) -> dict[str, Any]:
    return {
        "id": statement.id,
        "object": "bank_statement",
        "livemode": statement.livemode,
        "status": statement.status,
        "format": statement.format,
        "file_name": statement.file_name,
        "size": statement.file_size,
        "sha256": statement.file_sha256,
        "account_iban": statement.account_iban,
        "currency": statement.currency,
        "statement_reference": statement.statement_reference,
        "period_start": statement.period_start.isoformat() if statement.period_start else None,
        "period_end": statement.period_end.isoformat() if statement.period_end else None,
        "opening_balance": statement.opening_balance,
        "closing_balance": statement.closing_balance,
        "transaction_count": statement.transaction_count,
        "duplicate_count": statement.duplicate_count,
        "duplicate_of": statement.duplicate_of,
        "created": _unix(statement.created_at),
        "processed": _unix(statement.processed_at),
        "error": (
            {"code": statement.error_code, "message": statement.error_message}
            if statement.status == "failed"
            else None
        ),
    }


def transaction_resource(tx: Transaction) -> dict[str, Any]:
    return {
        "id": tx.id,
        "object": "bank_transaction",
        "livemode": tx.livemode,
        "statement_id": tx.statement_id,
        "account_iban": tx.account_iban or None,
        "booking_date": tx.booking_date.isoformat(),
        "value_date": tx.value_date.isoformat() if tx.value_date else None,
        "amount": tx.amount,
        "currency": tx.currency,
        "direction": "debit" if tx.amount < 0 else "credit",
        "counterparty_name": tx.counterparty_name,
        "counterparty_iban": tx.counterparty_iban,
        "remittance_text": tx.remittance_text,
        "structured_reference": tx.structured_reference,
        "end_to_end_id": tx.end_to_end_id,
        "bank_reference": tx.bank_reference,
        "reconciliation_status": tx.reconciliation_status,
        "created": _unix(tx.created_at),
    }


def create_statement(
    principal: Principal, *, file_name: str, data: bytes, mapping: dict[str, Any] | None
) -> tuple[Statement, bool]:
    """Store the queued statement and its file; its task is sent once committed. The same
    file a second time answers with the statement it made (and False: nothing created).
    A file that is no statement format at all is refused at once (422)."""
    if not data:
        raise UnprocessableStatement("The file is empty.", param="file")
    try:
        kind = sniff_statement(data)
    except model.UnprocessableStatement as exc:
        raise UnprocessableStatement(exc.message, param="file") from None
    if mapping is not None and kind != "csv":
        mapping = None  # only CSV has columns to name
    sha256 = hashlib.sha256(data).hexdigest()
    with db.transaction() as conn:
        statement = repository.insert_statement(
            conn,
            statement_id=new_id("bst"),
            org_id=principal.org_id,
            livemode=principal.livemode,
            file_name=file_name,
            data=data,
            sha256=sha256,
            format=kind,
            mapping=mapping,
        )
        if statement is None:
            return (
                repository.get_statement_by_sha(conn, principal.org_id, principal.livemode, sha256),
                False,
            )
        queued = statement
        db.after_commit(conn, lambda: taskqueue.enqueue_statement(queued.id))
    return statement, True


def get_statement(principal: Principal, statement_id: str) -> Statement:
    with db.transaction() as conn:
        statement = repository.get_statement(
            conn, principal.org_id, principal.livemode, statement_id
        )
    if statement is None:
        raise ResourceNotFound(f"No bank statement {statement_id!r}.", param="id")
    return statement


def list_statements(
    principal: Principal, *, limit: int = 25, cursor: str | None = None
) -> tuple[list[Statement], bool, str | None]:
    return org_page(
        repository.list_statements,
        principal.org_id,
        principal.livemode,
        prefix="bst",
        limit=limit,
        cursor=cursor,
    )


def list_transactions(
    principal: Principal, statement_id: str, *, limit: int = 25, cursor: str | None = None
) -> tuple[list[Transaction], bool, str | None]:
    """A statement's transactions in the statement's order (oldest ID first)."""
    limit = clamp_limit(limit)
    with db.transaction() as conn:
        statement = repository.get_statement(
            conn, principal.org_id, principal.livemode, statement_id
        )
        if statement is None:
            raise ResourceNotFound(f"No bank statement {statement_id!r}.", param="id")
        rows = repository.list_transactions(
            conn, statement.id, limit=limit + 1, after_id=decode_cursor(cursor, "btx")
        )
    return page_of(rows, limit)


# --- the bank worker's side -----------------------------------------------------------------


def record_statement_event(conn: db.Conn, statement: Statement) -> None:
    """`bank_statement.processed` for either outcome: its `status` says which."""
    record_event(
        conn,
        org_id=statement.org_id,
        livemode=statement.livemode,
        type="bank_statement.processed",
        object_id=statement.id,
        data=statement_resource(statement),
    )


def fail_statement(statement_id: str, task_id: str, code: str, message: str) -> None:
    with db.transaction() as conn:
        failed = repository.finish_statement(
            conn,
            statement_id,
            task_id,
            {"status": "failed", "error_code": code, "error_message": message[:1000]},
        )
        if failed is not None:
            record_statement_event(conn, failed)


def run_statement(statement_id: str, task_id: str, *, lease_seconds: int) -> str:
    """Claim, parse, and store the transactions with the outcome and its event in one
    transaction. Returns what happened: skipped, processed or failed."""
    with db.transaction() as conn:
        statement = repository.claim_statement(conn, statement_id, task_id, lease_seconds)
        data = repository.read_file(conn, statement_id) if statement else None
    if statement is None or data is None:
        return "skipped"
    if statement.attempts > MAX_ATTEMPTS:
        fail_statement(
            statement_id,
            task_id,
            "statement_failed",
            f"The statement could not be read after {MAX_ATTEMPTS} attempts.",
        )
        return "failed"
    try:
        parsed = parse_statement(data, statement.mapping)
    except model.UnprocessableStatement as exc:
        fail_statement(statement_id, task_id, exc.code, exc.message)
        return "failed"
    return _record_parsed(statement, task_id, parsed)


def _record_parsed(statement: Statement, task_id: str, parsed: model.ParsedStatement) -> str:
    account = parsed.account_iban or ""
    rows = [
        {
            "id": new_id("btx"),
            "org_id": statement.org_id,
            "livemode": statement.livemode,
            "statement_id": statement.id,
            "account_iban": account,
            "dedup_key": key,
            "booking_date": tx.booking_date,
            "value_date": tx.value_date,
            "amount": tx.amount,
            "currency": tx.currency,
            "counterparty_name": tx.counterparty_name,
            "counterparty_iban": tx.counterparty_iban,
            "remittance_text": tx.remittance_text,
            "structured_reference": tx.structured_reference,
            "end_to_end_id": tx.end_to_end_id,
            "bank_reference": tx.bank_reference,
        }
        for tx, key in zip(parsed.transactions, parsed.dedup_keys(), strict=True)
    ]
    with db.transaction() as conn:
        duplicate_of = None
        if account and parsed.statement_reference:
            duplicate_of = repository.earlier_statement(
                conn,
                org_id=statement.org_id,
                livemode=statement.livemode,
                account=account,
                reference=parsed.statement_reference,
                statement_id=statement.id,
            )
        inserted = repository.insert_transactions(conn, rows)
        finished = repository.finish_statement(
            conn,
            statement.id,
            task_id,
            {
                "status": "processed",
                "format": parsed.format,
                "account_iban": parsed.account_iban,
                "currency": parsed.currency,
                "statement_reference": parsed.statement_reference,
                "period_start": parsed.period_start,
                "period_end": parsed.period_end,
                "opening_balance": parsed.opening_balance,
                "closing_balance": parsed.closing_balance,
                "transaction_count": inserted,
                "duplicate_count": len(rows) - inserted,
                "duplicate_of": duplicate_of,
            },
        )
        if finished is None:
            # Another run took it over (this one's lease ran out): roll back what this one
            # wrote; the other run records its own.
            raise _LostLease
        record_statement_event(conn, finished)
    log.info(
        "bank statement %s: %s, %d transactions (%d seen before)",
        statement.id,
        parsed.format,
        inserted,
        len(rows) - inserted,
    )
    return "processed"


class _LostLease(Exception):
    """The statement is no longer this run's to finish."""


def run_statement_safely(statement_id: str, task_id: str, *, lease_seconds: int) -> str:
    try:
        return run_statement(statement_id, task_id, lease_seconds=lease_seconds)
    except _LostLease:
        return "skipped"


def sweep_statements(requeue_after: int, batch: int = 100) -> dict[str, int]:
    """Re-send queued statements that waited too long; requeue (or fail, after MAX_ATTEMPTS)
    ones whose worker's lease ran out. Rows are taken with SKIP LOCKED."""
    failed = 0
    requeued: list[str] = []
    with db.transaction() as conn:
        for statement in repository.running_overrun(conn, batch):
            if statement.attempts >= MAX_ATTEMPTS:
                done = repository.fail_overrun(
                    conn,
                    statement.id,
                    f"The statement could not be read after {statement.attempts} attempts.",
                )
                if done is not None:
                    record_statement_event(conn, done)
                    failed += 1
            elif repository.release_to_queue(conn, statement.id):
                requeued.append(statement.id)
        overdue = repository.queued_overdue(conn, requeue_after, batch)
    resent = sum(taskqueue.enqueue_statement(i) for i in [*requeued, *overdue])
    return {
        "statements_failed": failed,
        "statements_requeued": len(requeued),
        "statements_resent": resent,
    }
