"""SQL for accounting integrations, their pending authorizations, mappings and the
publications of invoices. Never commits; holds no rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from common.db import Conn


@dataclass(frozen=True)
class Integration:
    org_id: str
    livemode: bool
    provider: str
    status: str
    access_token: str | None  # encrypted
    refresh_token: str | None  # encrypted
    expires_at: datetime | None
    tenant_id: str | None
    company_name: str | None
    last_sync: datetime | None
    last_error: str | None
    connected_at: datetime
    updated_at: datetime


INTEGRATION_COLUMNS = (
    "org_id, livemode, provider, status, access_token, refresh_token, expires_at, tenant_id,"
    " company_name, last_sync, last_error, connected_at, updated_at"
)


def get_integration(
    conn: Conn, org_id: str, livemode: bool, provider: str, *, for_update: bool = False
) -> Integration | None:
    lock = " for update" if for_update else ""
    row = conn.execute(
        f"select {INTEGRATION_COLUMNS} from integrations where org_id = %(org)s"
        f" and livemode = %(live)s and provider = %(provider)s{lock}",
        {"org": org_id, "live": livemode, "provider": provider},
    ).fetchone()
    return Integration(**row) if row else None


def list_integrations(conn: Conn, org_id: str, livemode: bool) -> list[Integration]:
    rows = conn.execute(
        f"select {INTEGRATION_COLUMNS} from integrations where org_id = %(org)s"
        " and livemode = %(live)s",
        {"org": org_id, "live": livemode},
    ).fetchall()
    return [Integration(**row) for row in rows]


def idle_connections(conn: Conn, idle_since: datetime, limit: int) -> list[Integration]:
    rows = conn.execute(
        f"select {INTEGRATION_COLUMNS} from integrations where status = 'connected'"
        " and updated_at < %(since)s order by updated_at limit %(limit)s",
        {"since": idle_since, "limit": limit},
    ).fetchall()
    return [Integration(**row) for row in rows]


def upsert_connection(
    conn: Conn,
    *,
    org_id: str,
    livemode: bool,
    provider: str,
    access_token: str,
    refresh_token: str,
    expires_in: int,
    tenant_id: str | None,
    company_name: str | None,
) -> None:
    conn.execute(
        "insert into integrations (org_id, livemode, provider, status, access_token,"
        " refresh_token, expires_at, tenant_id, company_name)"
        " values (%(org)s, %(live)s, %(provider)s, 'connected', %(access)s, %(refresh)s,"
        " now() + make_interval(secs => %(expires_in)s), %(tenant)s, %(company)s)"
        " on conflict (org_id, livemode, provider) do update set status = 'connected',"
        " access_token = excluded.access_token, refresh_token = excluded.refresh_token,"
        " expires_at = excluded.expires_at, tenant_id = excluded.tenant_id,"
        " company_name = excluded.company_name, last_error = null, connected_at = now(),"
        " updated_at = now()",
        {
            "org": org_id,
            "live": livemode,
            "provider": provider,
            "access": access_token,
            "refresh": refresh_token,
            "expires_in": expires_in,
            "tenant": tenant_id,
            "company": company_name,
        },
    )


def save_tokens(
    conn: Conn,
    integration: Integration,
    *,
    access_token: str,
    refresh_token: str,
    expires_in: int,
) -> None:
    conn.execute(
        "update integrations set access_token = %(access)s, refresh_token = %(refresh)s,"
        " expires_at = now() + make_interval(secs => %(expires_in)s), updated_at = now()"
        " where org_id = %(org)s and livemode = %(live)s and provider = %(provider)s",
        {
            "access": access_token,
            "refresh": refresh_token,
            "expires_in": expires_in,
            "org": integration.org_id,
            "live": integration.livemode,
            "provider": integration.provider,
        },
    )


def set_status(
    conn: Conn,
    org_id: str,
    livemode: bool,
    provider: str,
    *,
    status: str | None = None,
    last_error: str | None = None,
    synced: bool = False,
    forget_tokens: bool = False,
) -> None:
    """Record an outcome: a new status (None: unchanged), the last error (None clears it
    on a sync), and with `forget_tokens` the tokens go."""
    conn.execute(
        "update integrations set status = coalesce(%(status)s, status),"
        " last_error = case when %(synced)s then null else coalesce(%(error)s, last_error) end,"
        " last_sync = case when %(synced)s then now() else last_sync end,"
        " access_token = case when %(forget)s then null else access_token end,"
        " refresh_token = case when %(forget)s then null else refresh_token end,"
        " updated_at = now()"
        " where org_id = %(org)s and livemode = %(live)s and provider = %(provider)s",
        {
            "status": status,
            "error": last_error,
            "synced": synced,
            "forget": forget_tokens,
            "org": org_id,
            "live": livemode,
            "provider": provider,
        },
    )


def expire_access_token(conn: Conn, org_id: str, livemode: bool, provider: str) -> None:
    """The next use refreshes first (the provider refused the access token early)."""
    conn.execute(
        "update integrations set expires_at = now() - interval '1 second'"
        " where org_id = %(org)s and livemode = %(live)s and provider = %(provider)s",
        {"org": org_id, "live": livemode, "provider": provider},
    )


def insert_authorization(
    conn: Conn,
    *,
    state_hash: bytes,
    org_id: str,
    livemode: bool,
    provider: str,
    code_verifier: str,
    ttl_seconds: int,
) -> None:
    conn.execute(
        "insert into integration_authorizations (state_hash, org_id, livemode, provider,"
        " code_verifier, expires_at) values (%(hash)s, %(org)s, %(live)s, %(provider)s,"
        " %(verifier)s, now() + make_interval(secs => %(ttl)s))",
        {
            "hash": state_hash,
            "org": org_id,
            "live": livemode,
            "provider": provider,
            "verifier": code_verifier,
            "ttl": ttl_seconds,
        },
    )


def take_authorization(conn: Conn, state_hash: bytes, provider: str) -> dict[str, Any] | None:
    """Delete and return the unexpired authorization of this state: single use, so of two
    callbacks with one state only one gets it."""
    return conn.execute(
        "delete from integration_authorizations where state_hash = %(hash)s"
        " and provider = %(provider)s returning org_id, livemode, code_verifier,"
        " expires_at > now() as fresh",
        {"hash": state_hash, "provider": provider},
    ).fetchone()


def delete_expired_authorizations(conn: Conn) -> int:
    return conn.execute("delete from integration_authorizations where expires_at < now()").rowcount


def get_mapping(conn: Conn, org_id: str, livemode: bool, provider: str) -> dict[str, Any]:
    row = conn.execute(
        "select tax_codes, expense_account, updated_at from integration_mappings"
        " where org_id = %(org)s and livemode = %(live)s and provider = %(provider)s",
        {"org": org_id, "live": livemode, "provider": provider},
    ).fetchone()
    return dict(row) if row else {"tax_codes": {}, "expense_account": None, "updated_at": None}


def put_mapping(
    conn: Conn,
    org_id: str,
    livemode: bool,
    provider: str,
    *,
    tax_codes: dict[str, str],
    expense_account: str | None,
) -> dict[str, Any]:
    row = conn.execute(
        "insert into integration_mappings (org_id, livemode, provider, tax_codes,"
        " expense_account) values (%(org)s, %(live)s, %(provider)s, %(codes)s, %(account)s)"
        " on conflict (org_id, livemode, provider) do update set tax_codes = excluded.tax_codes,"
        " expense_account = excluded.expense_account, updated_at = now()"
        " returning tax_codes, expense_account, updated_at",
        {
            "org": org_id,
            "live": livemode,
            "provider": provider,
            "codes": Jsonb(tax_codes),
            "account": expense_account,
        },
    ).fetchone()
    assert row is not None
    return dict(row)


# --- publications ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Publication:
    id: str
    org_id: str
    livemode: bool
    invoice_id: str
    target: str
    status: str
    external_id: str | None
    vendor_id: str | None
    attachment_id: str | None
    attempts: int
    task_id: str | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    published_at: datetime | None


PUBLICATION_COLUMNS = (
    "id, org_id, livemode, invoice_id, target, status, external_id, vendor_id, attachment_id,"
    " attempts, task_id, error_code, error_message, created_at, published_at"
)


def _publication(row: dict | None) -> Publication | None:
    return Publication(**row) if row else None


def get_publication_for(conn: Conn, invoice_id: str, target: str) -> Publication | None:
    return _publication(
        conn.execute(
            f"select {PUBLICATION_COLUMNS} from publications where invoice_id = %(inv)s"
            " and target = %(target)s",
            {"inv": invoice_id, "target": target},
        ).fetchone()
    )


def get_publication(conn: Conn, publication_id: str) -> Publication | None:
    return _publication(
        conn.execute(
            f"select {PUBLICATION_COLUMNS} from publications where id = %(id)s",
            {"id": publication_id},
        ).fetchone()
    )


def insert_publication(
    conn: Conn, *, publication_id: str, org_id: str, livemode: bool, invoice_id: str, target: str
) -> Publication:
    """A queued publication; an existing one for (invoice, target) is sent again only if
    it failed (it keeps its external IDs, so no second bill)."""
    row = conn.execute(
        "insert into publications (id, org_id, livemode, invoice_id, target)"
        " values (%(id)s, %(org)s, %(live)s, %(inv)s, %(target)s)"
        " on conflict (invoice_id, target) do update set status = 'queued', attempts = 0,"
        " error_code = null, error_message = null, enqueued_at = now(), task_id = null"
        " where publications.status = 'failed'"
        f" returning {PUBLICATION_COLUMNS}",
        {
            "id": publication_id,
            "org": org_id,
            "live": livemode,
            "inv": invoice_id,
            "target": target,
        },
    ).fetchone()
    if row is None:  # queued, running or succeeded already: left as it is
        existing = get_publication_for(conn, invoice_id, target)
        assert existing is not None
        return existing
    return Publication(**row)


def claim_publication(
    conn: Conn, publication_id: str, task_id: str, lease_seconds: int
) -> Publication | None:
    """Queued -> running under a lease (or taken back: lease ran out, or this same task
    message again, as a retry or a redelivery); None when someone else holds it or done."""
    return _publication(
        conn.execute(
            "update publications set status = 'running', attempts = attempts + 1,"
            " task_id = %(task)s, lease_expires_at = now() + make_interval(secs => %(lease)s)"
            " where id = %(id)s and (status = 'queued' or (status = 'running' and"
            " (lease_expires_at < now() or task_id = %(task)s)))"
            f" returning {PUBLICATION_COLUMNS}",
            {"id": publication_id, "task": task_id, "lease": lease_seconds},
        ).fetchone()
    )


def record_progress(conn: Conn, publication_id: str, **values: str) -> None:
    """Store an external ID the moment the provider made it (vendor_id, external_id,
    attachment_id): a later run starts from there."""
    allowed = {"vendor_id", "external_id", "attachment_id"}
    assert set(values) <= allowed, values
    sets = ", ".join(f"{name} = %({name})s" for name in values)
    conn.execute(
        f"update publications set {sets} where id = %(id)s", {**values, "id": publication_id}
    )


def finish_publication(
    conn: Conn,
    publication_id: str,
    task_id: str,
    *,
    status: str,
    error_code: str | None = None,
    error_message: str | None = None,
) -> Publication | None:
    return _publication(
        conn.execute(
            "update publications set status = %(status)s, error_code = %(code)s,"
            " error_message = %(message)s, lease_expires_at = null,"
            " published_at = case when %(status)s = 'succeeded' then now() end"
            " where id = %(id)s and status = 'running' and task_id = %(task)s"
            f" returning {PUBLICATION_COLUMNS}",
            {
                "id": publication_id,
                "task": task_id,
                "status": status,
                "code": error_code,
                "message": error_message,
            },
        ).fetchone()
    )


def add_published(conn: Conn, invoice_id: str, entry: dict[str, Any]) -> None:
    """Append to the invoice's `published` (one entry per target)."""
    conn.execute(
        "update invoices set published = (select coalesce(jsonb_agg(e), '[]') from"
        " jsonb_array_elements(published) e where e->>'target' <> %(target)s) || %(entry)s,"
        " updated_at = now() where id = %(id)s",
        {"id": invoice_id, "target": entry["target"], "entry": Jsonb([entry])},
    )


def queued_overdue(conn: Conn, older_than_seconds: int, limit: int) -> list[str]:
    rows = conn.execute(
        "select id from publications where status = 'queued'"
        " and enqueued_at < now() - make_interval(secs => %(age)s)"
        " order by enqueued_at limit %(limit)s",
        {"age": older_than_seconds, "limit": limit},
    ).fetchall()
    return [row["id"] for row in rows]


def release_overrun(conn: Conn, limit: int) -> list[str]:
    """Running publications whose lease ran out (their worker died): queued again."""
    rows = conn.execute(
        "update publications set status = 'queued', enqueued_at = now(), task_id = null,"
        " lease_expires_at = null where id in (select id from publications"
        " where status = 'running' and lease_expires_at < now() limit %(limit)s"
        " for update skip locked) returning id",
        {"limit": limit},
    ).fetchall()
    return [row["id"] for row in rows]
