"""Quotes and purchase orders in SQL: rows in, dataclasses out. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb

from common.db import Conn

COLUMNS = (
    "id, org_id, livemode, kind, status, source, invoice_id, number, vendor_name,"
    " vendor_tax_id, customer_name, currency, document_date, valid_until, subtotal_amount,"
    " tax_amount, total_amount, lines, metadata, status_reason, created_at, updated_at"
)
# What an upload's extraction or an ERP's JSON sets; status and identity are set apart.
CONTENT = (
    "number",
    "vendor_name",
    "vendor_tax_id",
    "customer_name",
    "currency",
    "document_date",
    "valid_until",
    "subtotal_amount",
    "tax_amount",
    "total_amount",
    "lines",
    "metadata",
)


@dataclass(frozen=True)
class Document:
    id: str
    org_id: str
    livemode: bool
    kind: str
    status: str
    source: str
    invoice_id: str | None
    number: str | None
    vendor_name: str | None
    vendor_tax_id: str | None
    customer_name: str | None
    currency: str | None
    document_date: date | None
    valid_until: date | None
    subtotal_amount: int | None
    tax_amount: int | None
    total_amount: int | None
    lines: list[dict[str, Any]]
    metadata: dict[str, str]
    status_reason: str | None
    created_at: datetime
    updated_at: datetime

    def billable_amount(self) -> int | None:
        """What invoices are counted against: the net total when there is one (orders from
        an ERP are usually net), else the gross."""
        return self.subtotal_amount if self.subtotal_amount is not None else self.total_amount


@dataclass(frozen=True)
class MatchingSettings:
    price_percent: Decimal
    quantity: Decimal
    amount: int
    auto_approve: bool


def _document(row: dict | None) -> Document | None:
    return Document(**row) if row else None


def _params(content: dict[str, Any]) -> dict[str, Any]:
    values = {name: content.get(name) for name in CONTENT}
    values["lines"] = Jsonb(content.get("lines") or [])
    values["metadata"] = Jsonb(content.get("metadata") or {})
    return values


def insert_document(
    conn: Conn,
    *,
    document_id: str,
    org_id: str,
    livemode: bool,
    kind: str,
    status: str,
    source: str,
    invoice_id: str | None,
    content: dict[str, Any],
) -> Document:
    row = conn.execute(
        f"insert into commercial_documents (id, org_id, livemode, kind, status, source,"
        f" invoice_id, {', '.join(CONTENT)}) values (%(id)s, %(org)s, %(live)s, %(kind)s,"
        f" %(status)s, %(source)s, %(invoice)s, {', '.join(f'%({c})s' for c in CONTENT)})"
        f" returning {COLUMNS}",
        {
            "id": document_id,
            "org": org_id,
            "live": livemode,
            "kind": kind,
            "status": status,
            "source": source,
            "invoice": invoice_id,
            **_params(content),
        },
    ).fetchone()
    assert row is not None
    return Document(**row)


def refresh_from_upload(conn: Conn, invoice_id: str, content: dict[str, Any]) -> Document | None:
    """A re-extracted upload updates its document's content; the state stays."""
    return _document(
        conn.execute(
            f"update commercial_documents set {', '.join(f'{c} = %({c})s' for c in CONTENT)},"
            f" updated_at = now() where invoice_id = %(invoice)s returning {COLUMNS}",
            {"invoice": invoice_id, **_params(content)},
        ).fetchone()
    )


def update_content(conn: Conn, document_id: str, content: dict[str, Any]) -> Document:
    row = conn.execute(
        f"update commercial_documents set {', '.join(f'{c} = %({c})s' for c in CONTENT)},"
        f" updated_at = now() where id = %(id)s returning {COLUMNS}",
        {"id": document_id, **_params(content)},
    ).fetchone()
    assert row is not None
    return Document(**row)


def get_document(
    conn: Conn,
    org_id: str,
    livemode: bool,
    kind: str,
    document_id: str,
    *,
    for_update: bool = False,
) -> Document | None:
    return _document(
        conn.execute(
            f"select {COLUMNS} from commercial_documents where id = %(id)s and org_id = %(org)s"
            " and livemode = %(live)s and kind = %(kind)s" + (" for update" if for_update else ""),
            {"id": document_id, "org": org_id, "live": livemode, "kind": kind},
        ).fetchone()
    )


def list_documents(
    conn: Conn,
    org_id: str,
    livemode: bool,
    kind: str,
    *,
    status: str | None,
    after_id: str | None,
    limit: int,
) -> list[Document]:
    rows = conn.execute(
        f"select {COLUMNS} from commercial_documents where org_id = %(org)s"
        " and livemode = %(live)s and kind = %(kind)s"
        " and (%(status)s::text is null or status = %(status)s)"
        " and (%(after)s::text is null or id < %(after)s)"
        " order by id desc limit %(limit)s",
        {
            "org": org_id,
            "live": livemode,
            "kind": kind,
            "status": status,
            "after": after_id,
            "limit": limit,
        },
    ).fetchall()
    return [Document(**row) for row in rows]


def find_by_number(
    conn: Conn, org_id: str, livemode: bool, kind: str, *, number: str, statuses: list[str]
) -> Document | None:
    """The newest document of this kind and number (case-insensitive) in one of `statuses`,
    locked: invoices matched against it at once take turns."""
    return _document(
        conn.execute(
            f"select {COLUMNS} from commercial_documents where org_id = %(org)s"
            " and livemode = %(live)s and kind = %(kind)s and lower(number) = lower(%(number)s)"
            " and status = any(%(statuses)s) order by id desc limit 1 for update",
            {
                "org": org_id,
                "live": livemode,
                "kind": kind,
                "number": number,
                "statuses": statuses,
            },
        ).fetchone()
    )


def recent_in_status(
    conn: Conn, org_id: str, livemode: bool, kind: str, *, status: str, limit: int
) -> list[Document]:
    rows = conn.execute(
        f"select {COLUMNS} from commercial_documents where org_id = %(org)s"
        " and livemode = %(live)s and kind = %(kind)s and status = %(status)s"
        " order by id desc limit %(limit)s",
        {"org": org_id, "live": livemode, "kind": kind, "status": status, "limit": limit},
    ).fetchall()
    return [Document(**row) for row in rows]


def lock_document(conn: Conn, document_id: str) -> Document:
    row = conn.execute(
        f"select {COLUMNS} from commercial_documents where id = %(id)s for update",
        {"id": document_id},
    ).fetchone()
    assert row is not None
    return Document(**row)


def move_status(
    conn: Conn, document_id: str, to_status: str, from_statuses: list[str], reason: str | None
) -> Document | None:
    """The move happens only from an allowed state; of two racing moves, one wins."""
    return _document(
        conn.execute(
            "update commercial_documents set status = %(to)s, status_reason = %(reason)s,"
            " updated_at = now() where id = %(id)s and status = any(%(from)s)"
            f" returning {COLUMNS}",
            {"id": document_id, "to": to_status, "from": from_statuses, "reason": reason},
        ).fetchone()
    )


def expire_quotes(conn: Conn, today: date, batch: int) -> list[Document]:
    """Received quotes whose validity ended before `today`, moved to expired."""
    rows = conn.execute(
        "update commercial_documents set status = 'expired', updated_at = now(),"
        " status_reason = 'validity ended' where id in (select id from commercial_documents"
        " where kind = 'quote' and status = 'received' and valid_until < %(today)s"
        " order by valid_until limit %(batch)s for update skip locked)"
        f" returning {COLUMNS}",
        {"today": today, "batch": batch},
    ).fetchall()
    return [Document(**row) for row in rows]


def billed_by_others(
    conn: Conn, document_id: str, invoice_id: str
) -> tuple[int, dict[int, Decimal]]:
    """What the other invoices matched against a document bill: their amount, and the
    quantity per document line."""
    rows = conn.execute(
        "select amount, quantities from commercial_document_invoices"
        " where document_id = %(doc)s and invoice_id <> %(invoice)s",
        {"doc": document_id, "invoice": invoice_id},
    ).fetchall()
    quantities: dict[int, Decimal] = {}
    for row in rows:
        for line, quantity in row["quantities"].items():
            quantities[int(line)] = quantities.get(int(line), Decimal(0)) + Decimal(quantity)
    return sum(row["amount"] for row in rows), quantities


def record_invoice_match(
    conn: Conn, document_id: str, invoice_id: str, amount: int, quantities: dict[int, Decimal]
) -> None:
    conn.execute(
        "insert into commercial_document_invoices (document_id, invoice_id, amount, quantities)"
        " values (%(doc)s, %(invoice)s, %(amount)s, %(quantities)s)"
        " on conflict (document_id, invoice_id) do update set amount = excluded.amount,"
        " quantities = excluded.quantities",
        {
            "doc": document_id,
            "invoice": invoice_id,
            "amount": amount,
            "quantities": Jsonb({str(k): str(v) for k, v in quantities.items()}),
        },
    )


def forget_invoice_matches(conn: Conn, invoice_id: str, keep: str | None = None) -> list[str]:
    """A re-extracted or corrected invoice no longer billing documents it matched before
    (all but `keep`); returns their IDs."""
    rows = conn.execute(
        "delete from commercial_document_invoices where invoice_id = %(invoice)s"
        " and (%(keep)s::text is null or document_id <> %(keep)s) returning document_id",
        {"invoice": invoice_id, "keep": keep},
    ).fetchall()
    return [row["document_id"] for row in rows]


def invoices_of(conn: Conn, document_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "select invoice_id, amount from commercial_document_invoices"
        " where document_id = %(doc)s order by invoice_id",
        {"doc": document_id},
    ).fetchall()


def get_settings(conn: Conn, org_id: str) -> MatchingSettings:
    row = conn.execute(
        "select price_percent, quantity, amount, auto_approve from matching_settings"
        " where org_id = %(org)s",
        {"org": org_id},
    ).fetchone()
    if row is None:
        return MatchingSettings(Decimal("1.00"), Decimal(0), 100, auto_approve=False)
    return MatchingSettings(**row)


def put_settings(conn: Conn, org_id: str, settings: MatchingSettings) -> MatchingSettings:
    row = conn.execute(
        "insert into matching_settings (org_id, price_percent, quantity, amount, auto_approve)"
        " values (%(org)s, %(price)s, %(quantity)s, %(amount)s, %(auto)s)"
        " on conflict (org_id) do update set price_percent = excluded.price_percent,"
        " quantity = excluded.quantity, amount = excluded.amount,"
        " auto_approve = excluded.auto_approve, updated_at = now()"
        " returning price_percent, quantity, amount, auto_approve",
        {
            "org": org_id,
            "price": settings.price_percent,
            "quantity": settings.quantity,
            "amount": settings.amount,
            "auto": settings.auto_approve,
        },
    ).fetchone()
    assert row is not None
    return MatchingSettings(**row)
