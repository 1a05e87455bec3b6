"""SQL for bank statements, their transactions, reconciliations and matches. Never commits;
holds no rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb

from common.db import Conn


@dataclass(frozen=True)
class Statement:
    id: str
    org_id: str
    livemode: bool
    status: str
    format: str | None
    file_name: str
    file_size: int
    file_sha256: str
    mapping: dict[str, Any] | None
    account_iban: str | None
    currency: str | None
    statement_reference: str | None
    period_start: date | None
    period_end: date | None
    opening_balance: int | None
    closing_balance: int | None
    transaction_count: int | None
    duplicate_count: int | None
    duplicate_of: str | None
    error_code: str | None
    error_message: str | None
    attempts: int
    task_id: str | None
    created_at: datetime
    processed_at: datetime | None


STATEMENT_COLUMNS = (
    "id, org_id, livemode, status, format, file_name, file_size, file_sha256, mapping,"
    " account_iban, currency, statement_reference, period_start, period_end,"
    " opening_balance, closing_balance, transaction_count, duplicate_count, duplicate_of,"
    " error_code, error_message, attempts, task_id, created_at, processed_at"
)


@dataclass(frozen=True)
class Transaction:
    id: str
    org_id: str
    livemode: bool
    statement_id: str
    account_iban: str
    booking_date: date
    value_date: date | None
    amount: int
    currency: str
    counterparty_name: str | None
    counterparty_iban: str | None
    remittance_text: str | None
    structured_reference: str | None
    end_to_end_id: str | None
    bank_reference: str | None
    reconciliation_status: str
    created_at: datetime


TRANSACTION_COLUMNS = (
    "id, org_id, livemode, statement_id, account_iban, booking_date, value_date, amount,"
    " currency, counterparty_name, counterparty_iban, remittance_text, structured_reference,"
    " end_to_end_id, bank_reference, reconciliation_status, created_at"
)


@dataclass(frozen=True)
class Reconciliation:
    id: str
    org_id: str
    livemode: bool
    statement_id: str | None
    date_from: date | None
    date_to: date | None
    threshold: Decimal
    transaction_count: int
    matched_count: int
    suggested_count: int
    unmatched_count: int
    created_at: datetime


RECONCILIATION_COLUMNS = (
    "id, org_id, livemode, statement_id, date_from, date_to, threshold, transaction_count,"
    " matched_count, suggested_count, unmatched_count, created_at"
)


@dataclass(frozen=True)
class Match:
    id: str
    org_id: str
    livemode: bool
    reconciliation_id: str | None
    transaction_id: str
    invoice_id: str
    amount: int
    score: Decimal
    reasons: list[str]
    status: str
    source: str
    previous_review_status: str | None
    created_at: datetime
    applied_at: datetime | None
    undone_at: datetime | None


MATCH_COLUMNS = (
    "id, org_id, livemode, reconciliation_id, transaction_id, invoice_id, amount, score,"
    " reasons, status, source, previous_review_status, created_at, applied_at, undone_at"
)


def _statement(row: dict | None) -> Statement | None:
    return Statement(**row) if row else None


# --- statements ---------------------------------------------------------------------------


def insert_statement(
    conn: Conn,
    *,
    statement_id: str,
    org_id: str,
    livemode: bool,
    file_name: str,
    data: bytes,
    sha256: str,
    format: str,
    mapping: dict[str, Any] | None,
) -> Statement | None:
    """The new queued statement with its file; None when the tenant has the same file
    already (bank_statements_same_file)."""
    row = conn.execute(
        "insert into bank_statements (id, org_id, livemode, format, file_name, file_size,"
        " file_sha256, mapping) values (%(id)s, %(org)s, %(live)s, %(format)s, %(name)s,"
        " %(size)s, %(sha)s, %(mapping)s) on conflict (org_id, livemode, file_sha256)"
        f" do nothing returning {STATEMENT_COLUMNS}",
        {
            "id": statement_id,
            "org": org_id,
            "live": livemode,
            "format": format,
            "name": file_name,
            "size": len(data),
            "sha": sha256,
            "mapping": Jsonb(mapping) if mapping is not None else None,
        },
    ).fetchone()
    if row is None:
        return None
    conn.execute(
        "insert into bank_statement_files (statement_id, data) values (%(id)s, %(data)s)",
        {"id": statement_id, "data": data},
    )
    return Statement(**row)


def get_statement_by_sha(conn: Conn, org_id: str, livemode: bool, sha256: str) -> Statement:
    row = conn.execute(
        f"select {STATEMENT_COLUMNS} from bank_statements where org_id = %(org)s"
        " and livemode = %(live)s and file_sha256 = %(sha)s",
        {"org": org_id, "live": livemode, "sha": sha256},
    ).fetchone()
    assert row is not None
    return Statement(**row)


def get_statement(conn: Conn, org_id: str, livemode: bool, statement_id: str) -> Statement | None:
    return _statement(
        conn.execute(
            f"select {STATEMENT_COLUMNS} from bank_statements where id = %(id)s"
            " and org_id = %(org)s and livemode = %(live)s",
            {"id": statement_id, "org": org_id, "live": livemode},
        ).fetchone()
    )


def list_statements(
    conn: Conn, org_id: str, livemode: bool, *, limit: int, after_id: str | None
) -> list[Statement]:
    rows = conn.execute(
        f"select {STATEMENT_COLUMNS} from bank_statements where org_id = %(org)s"
        " and livemode = %(live)s and (%(after)s::text is null or id < %(after)s)"
        " order by id desc limit %(limit)s",
        {"org": org_id, "live": livemode, "after": after_id, "limit": limit},
    ).fetchall()
    return [Statement(**row) for row in rows]


def read_file(conn: Conn, statement_id: str) -> bytes | None:
    row = conn.execute(
        "select data from bank_statement_files where statement_id = %(id)s", {"id": statement_id}
    ).fetchone()
    return bytes(row["data"]) if row else None


def claim_statement(
    conn: Conn, statement_id: str, task_id: str, lease_seconds: int
) -> Statement | None:
    """Queued -> processing for this task; None when another run holds it or it is done."""
    return _statement(
        conn.execute(
            "update bank_statements set status = 'processing', task_id = %(task)s,"
            " attempts = attempts + 1,"
            " lease_expires_at = now() + make_interval(secs => %(lease)s)"
            " where id = %(id)s and status = 'queued'"
            f" returning {STATEMENT_COLUMNS}",
            {"id": statement_id, "task": task_id, "lease": lease_seconds},
        ).fetchone()
    )


def earlier_statement(
    conn: Conn, *, org_id: str, livemode: bool, account: str, reference: str, statement_id: str
) -> str | None:
    row = conn.execute(
        "select id from bank_statements where org_id = %(org)s and livemode = %(live)s"
        " and account_iban = %(account)s and statement_reference = %(ref)s"
        " and status = 'processed' and id <> %(id)s order by id limit 1",
        {
            "org": org_id,
            "live": livemode,
            "account": account,
            "ref": reference,
            "id": statement_id,
        },
    ).fetchone()
    return row["id"] if row else None


def finish_statement(
    conn: Conn, statement_id: str, task_id: str, values: dict[str, Any]
) -> Statement | None:
    """Record the outcome, if this task still holds the statement."""
    assignments = ", ".join(f"{name} = %({name})s" for name in values)
    return _statement(
        conn.execute(
            f"update bank_statements set {assignments}, processed_at = now(),"
            " lease_expires_at = null"
            " where id = %(_id)s and status = 'processing' and task_id = %(_task)s"
            f" returning {STATEMENT_COLUMNS}",
            {**values, "_id": statement_id, "_task": task_id},
        ).fetchone()
    )


def running_overrun(conn: Conn, limit: int) -> list[Statement]:
    rows = conn.execute(
        f"select {STATEMENT_COLUMNS} from bank_statements where status = 'processing'"
        " and lease_expires_at < now() order by enqueued_at limit %(limit)s"
        " for update skip locked",
        {"limit": limit},
    ).fetchall()
    return [Statement(**row) for row in rows]


def release_to_queue(conn: Conn, statement_id: str) -> bool:
    cur = conn.execute(
        "update bank_statements set status = 'queued', enqueued_at = now(),"
        " lease_expires_at = null, task_id = null where id = %(id)s and status = 'processing'",
        {"id": statement_id},
    )
    return cur.rowcount == 1


def fail_overrun(conn: Conn, statement_id: str, message: str) -> Statement | None:
    return _statement(
        conn.execute(
            "update bank_statements set status = 'failed', error_code = 'statement_failed',"
            " error_message = %(message)s, processed_at = now(), lease_expires_at = null"
            f" where id = %(id)s and status = 'processing' returning {STATEMENT_COLUMNS}",
            {"id": statement_id, "message": message},
        ).fetchone()
    )


def queued_overdue(conn: Conn, older_than_seconds: int, limit: int) -> list[str]:
    rows = conn.execute(
        "update bank_statements set enqueued_at = now() where id in (select id from"
        " bank_statements where status = 'queued'"
        " and enqueued_at < now() - make_interval(secs => %(age)s)"
        " order by enqueued_at limit %(limit)s for update skip locked) returning id",
        {"age": older_than_seconds, "limit": limit},
    ).fetchall()
    return [row["id"] for row in rows]


# --- transactions -------------------------------------------------------------------------


def insert_transactions(conn: Conn, rows: list[dict[str, Any]]) -> int:
    """Insert the statement's transactions; one already imported (same account and dedup
    key) is skipped. Returns how many were new."""
    if not rows:
        return 0
    columns = (
        "id, org_id, livemode, statement_id, account_iban, dedup_key, booking_date,"
        " value_date, amount, currency, counterparty_name, counterparty_iban,"
        " remittance_text, structured_reference, end_to_end_id, bank_reference"
    )
    names = [c.strip() for c in columns.split(",")]
    inserted = 0
    with conn.cursor() as cursor:
        for row in rows:
            cursor.execute(
                f"insert into bank_transactions ({columns}) values ("
                + ", ".join(f"%({n})s" for n in names)
                + ") on conflict (org_id, livemode, account_iban, dedup_key) do nothing",
                row,
            )
            inserted += cursor.rowcount
    return inserted


def list_transactions(
    conn: Conn, statement_id: str, *, limit: int, after_id: str | None
) -> list[Transaction]:
    rows = conn.execute(
        f"select {TRANSACTION_COLUMNS} from bank_transactions where statement_id = %(id)s"
        " and (%(after)s::text is null or id > %(after)s) order by id limit %(limit)s",
        {"id": statement_id, "after": after_id, "limit": limit},
    ).fetchall()
    return [Transaction(**row) for row in rows]


def get_transaction(
    conn: Conn, org_id: str, livemode: bool, transaction_id: str, *, for_update: bool = False
) -> Transaction | None:
    row = conn.execute(
        f"select {TRANSACTION_COLUMNS} from bank_transactions where id = %(id)s"
        " and org_id = %(org)s and livemode = %(live)s" + (" for update" if for_update else ""),
        {"id": transaction_id, "org": org_id, "live": livemode},
    ).fetchone()
    return Transaction(**row) if row else None


def transactions_to_reconcile(
    conn: Conn,
    org_id: str,
    livemode: bool,
    *,
    statement_id: str | None,
    date_from: date | None,
    date_to: date | None,
) -> list[Transaction]:
    """Transactions with no applied match yet (unmatched or only suggested), oldest first."""
    rows = conn.execute(
        f"select {TRANSACTION_COLUMNS} from bank_transactions where org_id = %(org)s"
        " and livemode = %(live)s and reconciliation_status <> 'matched'"
        " and (%(statement)s::text is null or statement_id = %(statement)s)"
        " and (%(from)s::date is null or booking_date >= %(from)s)"
        " and (%(to)s::date is null or booking_date <= %(to)s)"
        " order by booking_date, id for update",
        {
            "org": org_id,
            "live": livemode,
            "statement": statement_id,
            "from": date_from,
            "to": date_to,
        },
    ).fetchall()
    return [Transaction(**row) for row in rows]


def set_transaction_status(conn: Conn, transaction_ids: list[str], status: str) -> None:
    conn.execute(
        "update bank_transactions set reconciliation_status = %(status)s where id = any(%(ids)s)",
        {"ids": transaction_ids, "status": status},
    )


def refresh_transaction_status(conn: Conn, transaction_id: str) -> None:
    """matched while it has an applied match, suggested while it has a suggestion."""
    conn.execute(
        "update bank_transactions t set reconciliation_status = coalesce((select case"
        " when bool_or(m.status = 'applied') then 'matched' else 'suggested' end"
        " from bank_matches m where m.transaction_id = t.id and m.status <> 'undone'"
        " having count(*) > 0), 'unmatched') where t.id = %(id)s",
        {"id": transaction_id},
    )


# --- invoices open for payment ------------------------------------------------------------


def open_invoices(conn: Conn, org_id: str, livemode: bool) -> list[dict[str, Any]]:
    """Invoices and credit notes that may still be paid: extracted, approved or received,
    with what earlier applied matches already paid of each (locked: a concurrent
    reconciliation waits, so it cannot pay the same invoice twice)."""
    return conn.execute(
        "select i.id, i.review_status, i.fields, coalesce((select sum(m.amount)"
        " from bank_matches m where m.invoice_id = i.id and m.status = 'applied'), 0)"
        " as paid from invoices i where i.org_id = %(org)s and i.livemode = %(live)s"
        " and i.status = 'succeeded' and i.review_status in ('received', 'approved')"
        " order by i.id for update of i",
        {"org": org_id, "live": livemode},
    ).fetchall()


# --- reconciliations and matches ----------------------------------------------------------


def insert_reconciliation(conn: Conn, values: dict[str, Any]) -> Reconciliation:
    names = list(values)
    row = conn.execute(
        f"insert into bank_reconciliations ({', '.join(names)}) values ("
        + ", ".join(f"%({n})s" for n in names)
        + f") returning {RECONCILIATION_COLUMNS}",
        values,
    ).fetchone()
    assert row is not None
    return Reconciliation(**row)


def get_reconciliation(
    conn: Conn, org_id: str, livemode: bool, reconciliation_id: str
) -> Reconciliation | None:
    row = conn.execute(
        f"select {RECONCILIATION_COLUMNS} from bank_reconciliations where id = %(id)s"
        " and org_id = %(org)s and livemode = %(live)s",
        {"id": reconciliation_id, "org": org_id, "live": livemode},
    ).fetchone()
    return Reconciliation(**row) if row else None


def list_reconciliations(
    conn: Conn, org_id: str, livemode: bool, *, limit: int, after_id: str | None
) -> list[Reconciliation]:
    rows = conn.execute(
        f"select {RECONCILIATION_COLUMNS} from bank_reconciliations where org_id = %(org)s"
        " and livemode = %(live)s and (%(after)s::text is null or id < %(after)s)"
        " order by id desc limit %(limit)s",
        {"org": org_id, "live": livemode, "after": after_id, "limit": limit},
    ).fetchall()
    return [Reconciliation(**row) for row in rows]


def insert_match(conn: Conn, values: dict[str, Any]) -> Match:
    values = {**values, "reasons": Jsonb(values["reasons"])}
    names = list(values)
    row = conn.execute(
        f"insert into bank_matches ({', '.join(names)}) values ("
        + ", ".join(f"%({n})s" for n in names)
        + f") returning {MATCH_COLUMNS}",
        values,
    ).fetchone()
    assert row is not None
    return Match(**row)


def get_match(
    conn: Conn, org_id: str, livemode: bool, match_id: str, *, for_update: bool = False
) -> Match | None:
    row = conn.execute(
        f"select {MATCH_COLUMNS} from bank_matches where id = %(id)s and org_id = %(org)s"
        " and livemode = %(live)s" + (" for update" if for_update else ""),
        {"id": match_id, "org": org_id, "live": livemode},
    ).fetchone()
    return Match(**row) if row else None


def update_match(conn: Conn, match_id: str, values: dict[str, Any]) -> Match:
    assignments = ", ".join(f"{name} = %({name})s" for name in values)
    row = conn.execute(
        f"update bank_matches set {assignments} where id = %(_id)s returning {MATCH_COLUMNS}",
        {**values, "_id": match_id},
    ).fetchone()
    assert row is not None
    return Match(**row)


def drop_suggestions(conn: Conn, transaction_ids: list[str]) -> None:
    """A new reconciliation replaces the suggestions an earlier one left."""
    conn.execute(
        "delete from bank_matches where transaction_id = any(%(ids)s) and status = 'suggested'",
        {"ids": transaction_ids},
    )


def matches_of_reconciliation(conn: Conn, reconciliation_id: str) -> list[Match]:
    rows = conn.execute(
        f"select {MATCH_COLUMNS} from bank_matches where reconciliation_id = %(id)s order by id",
        {"id": reconciliation_id},
    ).fetchall()
    return [Match(**row) for row in rows]


def live_matches_of_transaction(conn: Conn, transaction_id: str) -> list[Match]:
    rows = conn.execute(
        f"select {MATCH_COLUMNS} from bank_matches where transaction_id = %(id)s"
        " and status <> 'undone' order by id",
        {"id": transaction_id},
    ).fetchall()
    return [Match(**row) for row in rows]


def applied_total(conn: Conn, invoice_id: str) -> int:
    row = conn.execute(
        "select coalesce(sum(amount), 0) as total from bank_matches"
        " where invoice_id = %(id)s and status = 'applied'",
        {"id": invoice_id},
    ).fetchone()
    return int(row["total"]) if row else 0


def status_before_payment(conn: Conn, invoice_id: str, match_id: str) -> str | None:
    """The review status the invoice had before a bank match (`match_id`, or one of its
    other applied matches) paid it."""
    row = conn.execute(
        "select previous_review_status from bank_matches where invoice_id = %(invoice)s"
        " and previous_review_status is not null"
        " and (status = 'applied' or id = %(match)s) order by id desc limit 1",
        {"invoice": invoice_id, "match": match_id},
    ).fetchone()
    return row["previous_review_status"] if row else None
