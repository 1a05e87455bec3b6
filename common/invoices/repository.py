"""SQL for invoices. Never commits; holds no rules."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from common.credits.repository import TAKE_UPLOAD_PAGES
from common.db import Conn, reused_cursor
from common.ids import first_id_at
from common.webhooks.repository import SUBSCRIBED


@dataclass(frozen=True)
class Invoice:
    id: str
    org_id: str
    livemode: bool
    status: str
    review_status: str
    file_name: str
    content_type: str
    file_size: int
    file_sha256: str
    file_pages: int | None
    fields: dict[str, Any]
    error_code: str | None
    error_message: str | None
    metadata: dict[str, str]
    schema_id: str | None
    duplicate_of: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    source_channel: str = "api"  # api, email (a mailbox), folder (`invex watch`)
    # A document split out of a larger file: {"invoice", "first_page", "last_page"}.
    split_from: dict[str, Any] | None = None
    split_documents: bool = True  # whether its extraction may split the file
    # [{target, external_id, published_at}]: where the invoice was published (publications)
    published: list[dict[str, Any]] = field(default_factory=list)


COLUMNS = (
    "id, org_id, livemode, status, review_status, file_name, content_type, file_size,"
    " file_sha256, file_pages, fields, error_code, error_message, metadata, schema_id,"
    " duplicate_of, attempts, created_at, updated_at, source_channel, split_from,"
    " split_documents, published"
)


# An invoice's created_at is the moment its ID (a ULID) names, to the millisecond; rows
# stored by earlier versions took it from the database's clock instead, the same moment
# give or take the clock difference between the two hosts. The list's creation-time filters
# add ID bounds this much wider than the window, which holds for any clocks kept by NTP.
ID_CLOCK_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class InvoiceFilters:
    status: str | None = None
    review_status: str | None = None
    document_type: str | None = None
    vendor: str | None = None
    currency: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    duplicate: bool | None = None

    def others_than_vendor(self) -> bool:
        return any(
            getattr(self, f.name) is not None
            for f in dataclasses.fields(self)
            if f.name != "vendor"
        )


def _invoice(row: dict | None) -> Invoice | None:
    return Invoice(**row) if row else None


@dataclass(frozen=True)
class StoredUpload:
    invoice: Invoice | None  # None: this idempotency key already made an invoice
    deliveries: int  # webhook deliveries of its `invoice.created` event
    claim_completed: bool  # the claim was stored with its answer


# An upload in one statement, so one round trip and one implicit transaction (the
# connection is in autocommit): the invoice, marked `duplicate_of` the tenant's first
# invoice with the same bytes; its file; the idempotency claim when one is given; the
# `invoice.created` event and its deliveries; the page credits. Each CTE after `invoice`
# reads the row it inserted, so none writes anything when the idempotency key already made
# an invoice (`on conflict do nothing` leaves `invoice` empty), and a failure anywhere (the
# key's record exists, the credits run out) stores nothing at all. Locks (the credit
# balance's row, the key's index entry) are held only until this statement commits.
UPLOAD = f"""
with invoice as (
    insert into invoices (id, org_id, livemode, file_name, content_type, file_size,
        file_sha256, file_pages, metadata, schema_id, duplicate_of, idempotency_key,
        created_at, updated_at, source_channel, split_from, split_documents)
    values (%(id)s, %(org_id)s, %(livemode)s, %(file_name)s, %(content_type)s,
        %(file_size)s, %(sha)s, %(pages)s, %(metadata)s,
        -- none named: the default schema as it is now, kept so a later default rewrites
        -- nothing (extraction_schemas_one_default finds it)
        coalesce(%(schema_id)s, (select s.id from extraction_schemas s
            where s.org_id = %(org_id)s and s.livemode = %(livemode)s and s.is_default)),
        (select first.id from invoices first where first.org_id = %(org_id)s
         and first.livemode = %(livemode)s and first.file_sha256 = %(sha)s
         order by first.id limit 1),
        %(ikey)s, %(created_at)s, %(created_at)s, %(source_channel)s, %(split_from)s,
        -- not said by the upload: the organisation's default
        coalesce(%(split)s, (select o.split_documents from orgs o where o.id = %(org_id)s)))
    on conflict (org_id, livemode, idempotency_key) where idempotency_key is not null
    do nothing
    returning id, org_id, livemode, duplicate_of, schema_id, split_documents
), file as (
    -- the bytes, unless the file store keeps them elsewhere (common/storage.py)
    insert into invoice_files (invoice_id, data) select id, %(data)s from invoice
    where %(data)s::bytea is not null
), event as (
    -- the invoice as rendered before the insert; duplicate_of and schema_id come from the row
    insert into events (id, org_id, livemode, type, object_id, data)
    select %(event_id)s, org_id, livemode, %(event_type)s, id,
        jsonb_set(
            jsonb_set(%(event_data)s, '{{object,duplicate_of}}',
                coalesce(to_jsonb(duplicate_of), 'null')),
            '{{object,schema_id}}', coalesce(to_jsonb(schema_id), 'null'))
    from invoice
    returning id, data
), deliveries as (
    insert into webhook_deliveries (id, endpoint_id, event_id, ordering_key)
    select invex_new_id('dlv'), e.id, event.id, %(id)s
    from event, webhook_endpoints e where {SUBSCRIBED} order by e.id
    returning id
), claim as (
    -- no `on conflict`: a record of the key fails the statement (common/idempotency.py);
    -- with a created_status, the answer is the invoice as the event shows it
    insert into idempotency_keys (org_id, livemode, key, request_hash,
        status_code, response_body, content_type, completed_at)
    select %(org_id)s, %(livemode)s, %(ikey)s, %(request_hash)s,
        answer.status, answer.body, answer.content_type, answer.at
    from (select) as always left join (
        select %(created_status)s::int as status, 'application/json' as content_type,
            convert_to((data -> 'object')::text, 'UTF8') as body, now() as at
        from event where %(created_status)s::int is not null
    ) as answer on true
    where %(request_hash)s::text is not null
    returning completed_at is not null as completed
), credits as (
    {TAKE_UPLOAD_PAGES}
)
select invoice.duplicate_of, invoice.schema_id, invoice.split_documents,
    (select count(*) from deliveries) as deliveries,
    coalesce((select completed from claim), false) as claim_completed
from invoice
"""


def insert_upload(
    conn: Conn,
    invoice: Invoice,
    *,
    data: bytes | None,
    idempotency_key: str | None,
    claim_hash: str | None,
    created_status: int | None,
    event_id: str,
    event_type: str,
    event_data: Jsonb,
    charge: dict[str, Any],
    split: bool | None = None,
) -> StoredUpload:
    """Store a queued `invoice` (as built by the caller, minus `duplicate_of`, and with the
    default schema when it names none) with `data`
    and everything that goes with it (UPLOAD). `claim_hash`: claim `idempotency_key` with
    this request hash, and with `created_status` store the invoice as the answer too.
    `charge`: credits.repository.TAKE_UPLOAD_PAGES's parameters. `split`: whether the
    extraction may split the file, None for the organisation's default."""
    cursor = reused_cursor(conn)
    row = cursor.execute(
        UPLOAD,
        {
            "id": invoice.id,
            "org_id": invoice.org_id,
            "livemode": invoice.livemode,
            "file_name": invoice.file_name,
            "content_type": invoice.content_type,
            "file_size": invoice.file_size,
            "sha": invoice.file_sha256,
            "pages": invoice.file_pages,
            "metadata": Jsonb(invoice.metadata),
            "schema_id": invoice.schema_id,
            "split_from": Jsonb(invoice.split_from) if invoice.split_from else None,
            "split": split,
            "ikey": idempotency_key,
            "created_at": invoice.created_at,
            "source_channel": invoice.source_channel,
            "data": data,
            "request_hash": claim_hash,
            "created_status": created_status,
            "event_id": event_id,
            "event_type": event_type,
            "event_data": event_data,
            **charge,
        },
    ).fetchone()
    if row is None:
        return StoredUpload(None, 0, False)
    # the rest of the row is the caller's `invoice`: only the lookups are news
    if (
        row["duplicate_of"] is not None
        or row["schema_id"] != invoice.schema_id
        or row["split_documents"] != invoice.split_documents
    ):
        invoice = dataclasses.replace(
            invoice,
            duplicate_of=row["duplicate_of"],
            schema_id=row["schema_id"],
            split_documents=row["split_documents"],
        )
    return StoredUpload(invoice, row["deliveries"], row["claim_completed"])


def find_by_idempotency_key(conn: Conn, org_id: str, livemode: bool, key: str) -> Invoice | None:
    return _invoice(
        conn.execute(
            f"select {COLUMNS} from invoices where org_id = %(org_id)s and livemode = %(livemode)s"
            " and idempotency_key = %(key)s",
            {"org_id": org_id, "livemode": livemode, "key": key},
        ).fetchone()
    )


def get_invoice(conn: Conn, org_id: str, livemode: bool, invoice_id: str) -> Invoice | None:
    return _invoice(
        conn.execute(
            f"select {COLUMNS} from invoices where id = %(id)s and org_id = %(org_id)s"
            " and livemode = %(livemode)s",
            {"id": invoice_id, "org_id": org_id, "livemode": livemode},
        ).fetchone()
    )


def get_invoice_by_id(conn: Conn, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
    lock = " for update" if for_update else ""
    return _invoice(
        conn.execute(
            f"select {COLUMNS} from invoices where id = %(id)s{lock}", {"id": invoice_id}
        ).fetchone()
    )


# A vendor filter (a substring) is first tried on this many of the newest invoices that
# pass the other filters; see list_invoices.
VENDOR_FIRST_LOOK = 1000


def list_invoices_query(
    org_id: str,
    livemode: bool,
    filters: InvoiceFilters,
    *,
    limit: int,
    after_id: str | None,
    first_look: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """The list's SQL and parameters (bench/invoice_list_scale.py EXPLAINs exactly this).
    Each filter has its index (migrations 0001, 0009, 0010; vendor, currency and invoice
    date are columns generated from `fields`); the creation-time filters use
    the ID's, newest first. `first_look`: the vendor filter applies only to that many of
    the newest invoices that pass the other filters."""
    where = ["org_id = %(org_id)s", "livemode = %(livemode)s"]
    params: dict[str, Any] = {"org_id": org_id, "livemode": livemode, "limit": limit}
    if after_id:
        where.append("id < %(after_id)s")
        params["after_id"] = after_id
    simple = {"status": "status", "review_status": "review_status"}
    for attr, column in simple.items():
        value = getattr(filters, attr)
        if value is not None:
            where.append(f"{column} = %({attr})s")
            params[attr] = value
    if filters.document_type is not None:
        where.append("fields->>'document_type' = %(document_type)s")
        params["document_type"] = filters.document_type
    if filters.currency is not None:
        where.append("currency = %(currency)s")
        params["currency"] = filters.currency.upper()
    vendor = None
    if filters.vendor:
        vendor = "vendor_name ilike %(vendor)s"
        escaped = filters.vendor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["vendor"] = f"%{escaped}%"
    if filters.date_from:
        where.append("invoice_date >= %(date_from)s")
        params["date_from"] = filters.date_from
    if filters.date_to:
        where.append("invoice_date <= %(date_to)s")
        params["date_to"] = filters.date_to
    # created_at decides; the ID bounds beside it only let the newest-first scan start and
    # stop near the window instead of at the newest invoice (see ID_CLOCK_MARGIN).
    if filters.created_after:
        where.append("created_at > %(created_after)s and id >= %(created_after_id)s")
        params["created_after"] = filters.created_after
        params["created_after_id"] = first_id_at("inv", filters.created_after - ID_CLOCK_MARGIN)
    if filters.duplicate is not None:
        where.append(f"duplicate_of is {'not ' if filters.duplicate else ''}null")
    if filters.created_before:
        where.append("created_at < %(created_before)s and id < %(created_before_id)s")
        params["created_before"] = filters.created_before
        params["created_before_id"] = first_id_at("inv", filters.created_before + ID_CLOCK_MARGIN)
    if vendor is not None and first_look is not None:
        params["first_look"] = first_look
        sql = (
            f"select {COLUMNS} from (select * from invoices where {' and '.join(where)}"
            f" order by id desc limit %(first_look)s) newest where {vendor}"
            " order by id desc limit %(limit)s"
        )
        return sql, params
    if vendor is not None:
        where.append(vendor)
    sql = (
        f"select {COLUMNS} from invoices where {' and '.join(where)}"
        " order by id desc limit %(limit)s"
    )
    return sql, params


def list_invoices(
    conn: Conn,
    org_id: str,
    livemode: bool,
    filters: InvoiceFilters,
    *,
    limit: int,
    after_id: str | None,
) -> list[Invoice]:
    """Newest first; keyset on id (a ULID), so cursors survive inserts and deletes.

    A vendor substring beside other filters is first looked for among the newest invoices
    that pass the others (one index range, a few milliseconds): a vendor on many invoices
    fills the page there. Only when it does not is the whole query run. Alone, the planner
    chooses well between the trigram index and reading newest first (migration 0010 gives
    it the statistics); beside other filters it would AND the trigram index's tens of
    thousands of matches of a common word with them, 25 ms at a million invoices. Both steps
    return the same rows in the same order."""
    if filters.vendor and filters.others_than_vendor():
        sql, params = list_invoices_query(
            org_id,
            livemode,
            filters,
            limit=limit,
            after_id=after_id,
            first_look=VENDOR_FIRST_LOOK,
        )
        rows = conn.execute(sql, params).fetchall()
        if len(rows) >= limit:
            return [Invoice(**row) for row in rows]
    sql, params = list_invoices_query(org_id, livemode, filters, limit=limit, after_id=after_id)
    return [Invoice(**row) for row in conn.execute(sql, params).fetchall()]


def delete_invoice(conn: Conn, invoice_id: str) -> None:
    conn.execute("delete from invoices where id = %(id)s", {"id": invoice_id})


def requeue_invoice(conn: Conn, invoice_id: str, schema_id: str | None = None) -> Invoice | None:
    """Back to queued for a fresh extraction (reprocess); attempts start over. The schema:
    the one given, else the invoice's own, else (an invoice stored before uploads kept the
    default they used) the default now."""
    return _invoice(
        conn.execute(
            "update invoices set status = 'queued', attempts = 0, enqueued_at = now(),"
            " schema_id = coalesce(%(schema_id)s, schema_id, (select s.id from extraction_schemas s"
            " where s.org_id = invoices.org_id and s.livemode = invoices.livemode"
            " and s.is_default)),"
            " lease_expires_at = null, task_id = null, error_code = null, error_message = null,"
            f" updated_at = now() where id = %(id)s and status in ('succeeded', 'failed')"
            f" returning {COLUMNS}",
            {"id": invoice_id, "schema_id": schema_id},
        ).fetchone()
    )


def claim_for_extraction(
    conn: Conn, invoice_id: str, task_id: str, lease_seconds: int
) -> Invoice | None:
    """Move a queued invoice to processing under a lease; None if someone else has it.

    A processing row is taken back when its lease ran out, or when this same task message is
    being redelivered (its first run died with its worker: acks_late redelivers the message).
    """
    return _invoice(
        conn.execute(
            "update invoices set status = 'processing', attempts = attempts + 1,"
            " lease_expires_at = now() + make_interval(secs => %(lease)s), task_id = %(task_id)s,"
            " updated_at = now()"
            " where id = %(id)s and (status = 'queued' or (status = 'processing' and"
            " (lease_expires_at < now() or task_id = %(task_id)s)))"
            f" returning {COLUMNS}",
            {"id": invoice_id, "task_id": task_id, "lease": lease_seconds},
        ).fetchone()
    )


def finish_extraction(
    conn: Conn,
    invoice_id: str,
    task_id: str,
    *,
    status: str,
    fields: dict | None,
    pages: int | None,
    error_code: str | None,
    error_message: str | None,
) -> Invoice | None:
    """Record the outcome, only if this task still holds the invoice."""
    return _invoice(
        conn.execute(
            "update invoices set status = %(status)s, fields = coalesce(%(fields)s, fields),"
            " extracted = coalesce(%(fields)s, extracted),"
            " file_pages = coalesce(%(pages)s, file_pages), error_code = %(code)s,"
            " error_message = %(message)s, lease_expires_at = null, updated_at = now()"
            " where id = %(id)s and status = 'processing' and task_id = %(task_id)s"
            f" returning {COLUMNS}",
            {
                "id": invoice_id,
                "task_id": task_id,
                "status": status,
                "fields": Jsonb(fields) if fields is not None else None,
                "pages": pages,
                "code": error_code,
                "message": error_message,
            },
        ).fetchone()
    )


def release_to_queue(conn: Conn, invoice_id: str, task_id: str | None) -> bool:
    """Give a processing invoice back to the queue (a temporary error, or an overrun lease)."""
    cur = conn.execute(
        "update invoices set status = 'queued', enqueued_at = now(), lease_expires_at = null,"
        " task_id = null, updated_at = now() where id = %(id)s and status = 'processing'"
        " and (%(task_id)s::text is null or task_id = %(task_id)s)",
        {"id": invoice_id, "task_id": task_id},
    )
    return cur.rowcount == 1


def claim_undispatched(conn: Conn, limit: int) -> list[str]:
    """Up to `limit` queued invoices whose extraction task has not been sent, marked sent.
    The rows stay locked until the caller's transaction ends, so a second dispatcher skips
    them (SKIP LOCKED) rather than sending them too; a rollback leaves them unsent."""
    rows = conn.execute(
        "update invoices set dispatched_at = now() where id in ("
        " select id from invoices where status = 'queued' and dispatched_at is null"
        " order by id limit %(limit)s for update skip locked) returning id",
        {"limit": limit},
    ).fetchall()
    return [row["id"] for row in rows]


def queued_overdue(conn: Conn, older_than_seconds: int, limit: int) -> list[str]:
    """Queued invoices whose task may have been lost; their clock restarts as they are read,
    and they count as dispatched (the caller sends their tasks)."""
    rows = conn.execute(
        "update invoices set enqueued_at = now(), dispatched_at = now() where id in ("
        " select id from invoices where status = 'queued'"
        " and enqueued_at < now() - make_interval(secs => %(age)s)"
        " order by enqueued_at limit %(limit)s for update skip locked) returning id",
        {"age": older_than_seconds, "limit": limit},
    ).fetchall()
    return [row["id"] for row in rows]


def processing_overrun(conn: Conn, limit: int) -> list[Invoice]:
    rows = conn.execute(
        f"select {COLUMNS} from invoices where status = 'processing'"
        " and lease_expires_at < now() order by lease_expires_at limit %(limit)s"
        " for update skip locked",
        {"limit": limit},
    ).fetchall()
    return [Invoice(**row) for row in rows]


def fail_overrun(conn: Conn, invoice_id: str, code: str, message: str) -> Invoice | None:
    return _invoice(
        conn.execute(
            "update invoices set status = 'failed', error_code = %(code)s, error_message = %(msg)s,"
            " lease_expires_at = null, updated_at = now() where id = %(id)s"
            f" and status = 'processing' returning {COLUMNS}",
            {"id": invoice_id, "code": code, "msg": message},
        ).fetchone()
    )


def get_extracted(conn: Conn, invoice_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        "select extracted from invoices where id = %(id)s", {"id": invoice_id}
    ).fetchone()
    return row["extracted"] if row else None


def update_fields(
    conn: Conn, invoice_id: str, fields: dict[str, Any], metadata: dict[str, str]
) -> Invoice:
    row = conn.execute(
        "update invoices set fields = %(fields)s, metadata = %(metadata)s, updated_at = now()"
        f" where id = %(id)s returning {COLUMNS}",
        {"id": invoice_id, "fields": Jsonb(fields), "metadata": Jsonb(metadata)},
    ).fetchone()
    assert row is not None
    return Invoice(**row)


def move_review_status(
    conn: Conn, invoice_id: str, to_status: str, from_statuses: list[str]
) -> Invoice | None:
    """The move happens only from an allowed state; of two racing moves, one wins."""
    return _invoice(
        conn.execute(
            "update invoices set review_status = %(to)s, updated_at = now()"
            " where id = %(id)s and review_status = any(%(from)s)"
            f" returning {COLUMNS}",
            {"id": invoice_id, "to": to_status, "from": from_statuses},
        ).fetchone()
    )


def insert_history(
    conn: Conn,
    invoice: Invoice,
    *,
    kind: str,
    field: str,
    old: Any,
    new: Any,
    key_id: str | None,
    reason: str | None = None,
) -> None:
    conn.execute(
        "insert into invoice_history (invoice_id, org_id, livemode, kind, field, old_value,"
        " new_value, reason, key_id) values (%(invoice)s, %(org)s, %(live)s, %(kind)s,"
        " %(field)s, %(old)s, %(new)s, %(reason)s, %(key)s)",
        {
            "invoice": invoice.id,
            "org": invoice.org_id,
            "live": invoice.livemode,
            "kind": kind,
            "field": field,
            "old": Jsonb(old),
            "new": Jsonb(new),
            "reason": reason,
            "key": key_id,
        },
    )


def list_history(conn: Conn, invoice_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "select kind, field, old_value, new_value, reason, key_id, created_at"
        " from invoice_history where invoice_id = %(id)s order by id",
        {"id": invoice_id},
    ).fetchall()


def insert_comment(
    conn: Conn, comment_id: str, invoice_id: str, key_id: str | None, body: str
) -> dict[str, Any]:
    row = conn.execute(
        "insert into invoice_comments (id, invoice_id, key_id, body)"
        " values (%(id)s, %(invoice)s, %(key)s, %(body)s)"
        " returning id, invoice_id, key_id, body, created_at",
        {"id": comment_id, "invoice": invoice_id, "key": key_id, "body": body},
    ).fetchone()
    assert row is not None
    return row


def list_comments(conn: Conn, invoice_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "select id, invoice_id, key_id, body, created_at from invoice_comments"
        " where invoice_id = %(id)s order by id",
        {"id": invoice_id},
    ).fetchall()


def find_same_invoice(conn: Conn, invoice: Invoice, fields: dict[str, Any]) -> str | None:
    """Another succeeded invoice of this tenant with the same number and total, from the
    same vendor (tax ID, else name, case-insensitive)."""
    number, total = fields.get("invoice_number"), fields.get("total_amount")
    tax_id, name = fields.get("vendor_tax_id"), fields.get("vendor_name")
    if not number or total is None or not (tax_id or name):
        return None
    row = conn.execute(
        "select id from invoices where org_id = %(org)s and livemode = %(live)s"
        " and status = 'succeeded' and fields->>'invoice_number' = %(number)s"
        " and id <> %(id)s and (fields->'total_amount')::bigint = %(total)s"
        " and ((%(tax_id)s::text is not null and fields->>'vendor_tax_id' = %(tax_id)s)"
        "  or (%(tax_id)s::text is null and lower(fields->>'vendor_name') = lower(%(name)s)))"
        " order by id limit 1",
        {
            "org": invoice.org_id,
            "live": invoice.livemode,
            "number": number,
            "id": invoice.id,
            "total": total,
            "tax_id": tax_id,
            "name": name,
        },
    ).fetchone()
    return row["id"] if row else None


def split_children(conn: Conn, parent_id: str) -> list[Invoice]:
    """The invoices split out of `parent_id`, in page order."""
    rows = conn.execute(
        f"select {COLUMNS} from invoices where split_from ->> 'invoice' = %(id)s"
        " order by (split_from ->> 'first_page')::int",
        {"id": parent_id},
    ).fetchall()
    return [Invoice(**row) for row in rows]


def set_org_split_default(conn: Conn, org_id: str, split: bool) -> bool:
    cur = conn.execute(
        "update orgs set split_documents = %(split)s where id = %(id)s",
        {"id": org_id, "split": split},
    )
    return cur.rowcount == 1


def get_page_image(conn: Conn, file_sha256: str, page: int, dpi: int) -> dict[str, Any] | None:
    row = conn.execute(
        "select png, width, height from page_images"
        " where file_sha256 = %(sha)s and page = %(page)s and dpi = %(dpi)s",
        {"sha": file_sha256, "page": page, "dpi": dpi},
    ).fetchone()
    return (
        {"png": bytes(row["png"]), "width": row["width"], "height": row["height"]} if row else None
    )


def insert_page_image(
    conn: Conn, file_sha256: str, page: int, dpi: int, *, png: bytes, width: int, height: int
) -> None:
    conn.execute(
        "insert into page_images (file_sha256, page, dpi, png, width, height)"
        " values (%(sha)s, %(page)s, %(dpi)s, %(png)s, %(w)s, %(h)s)"
        " on conflict do nothing",  # two first views at once rendered the same image
        {"sha": file_sha256, "page": page, "dpi": dpi, "png": png, "w": width, "h": height},
    )
