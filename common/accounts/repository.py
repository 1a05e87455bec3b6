"""SQL for organisations and API keys. Never commits; holds no rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from common.db import Conn


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    plan: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    id: str
    org_id: str
    livemode: bool
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    member_id: str | None = None


@dataclass(frozen=True)
class ActiveKey:
    key: ApiKey
    org_api_version: str
    org_plan: str = "free"
    # the member the key acts for, as of this request (None: an organisation key)
    member_role: str | None = None
    member_status: str | None = None


KEY_COLUMNS = (
    "id, org_id, livemode, name, prefix, scopes, created_at, last_used_at, revoked_at, member_id"
)


def insert_org(conn: Conn, org_id: str, name: str) -> Org:
    row = conn.execute(
        "insert into orgs (id, name) values (%(id)s, %(name)s)"
        " returning id, name, plan, created_at",
        {"id": org_id, "name": name},
    ).fetchone()
    assert row is not None  # insert/update ... returning always yields the row
    return Org(**row)


def get_org(conn: Conn, org_id: str) -> Org | None:
    row = conn.execute(
        "select id, name, plan, created_at from orgs where id = %(id)s", {"id": org_id}
    ).fetchone()
    return Org(**row) if row else None


def list_orgs(conn: Conn, limit: int) -> list[Org]:
    rows = conn.execute(
        "select id, name, plan, created_at from orgs order by id limit %(limit)s",
        {"limit": limit},
    ).fetchall()
    return [Org(**row) for row in rows]


def insert_api_key(
    conn: Conn,
    *,
    key_id: str,
    org_id: str,
    livemode: bool,
    name: str,
    prefix: str,
    secret_sha256: bytes,
    scopes: list[str],
    member_id: str | None = None,
) -> ApiKey:
    row = conn.execute(
        "insert into api_keys (id, org_id, livemode, name, prefix, secret_sha256, scopes,"
        " member_id) values (%(id)s, %(org_id)s, %(livemode)s, %(name)s, %(prefix)s,"
        f" %(hash)s, %(scopes)s, %(member_id)s) returning {KEY_COLUMNS}",
        {
            "id": key_id,
            "org_id": org_id,
            "livemode": livemode,
            "name": name,
            "prefix": prefix,
            "hash": secret_sha256,
            "scopes": scopes,
            "member_id": member_id,
        },
    ).fetchone()
    assert row is not None  # insert/update ... returning always yields the row
    return ApiKey(**row)


def find_active_key_by_hash(conn: Conn, secret_sha256: bytes) -> ActiveKey | None:
    """The unrevoked key with this hash, its organisation's API version and the role and
    status of the member it acts for, if any; `last_used_at` moves at most once a minute
    (and only for a usable key), in the same statement, so a busy key costs one round trip
    and not a write per request."""
    columns = ", ".join(f"k.{c.strip()}" for c in KEY_COLUMNS.split(","))
    row = conn.execute(
        f"with found as (select {columns}, o.api_version as org_api_version,"
        " o.plan as org_plan,"
        " m.role as member_role, m.status as member_status"
        " from api_keys k join orgs o on o.id = k.org_id"
        " left join members m on m.id = k.member_id"
        " where k.secret_sha256 = %(hash)s and k.revoked_at is null),"
        " touched as (update api_keys set last_used_at = now()"
        " where id = (select id from found where member_id is null"
        " or member_status = 'active') and (last_used_at is null"
        " or last_used_at < now() - interval '60 seconds'))"
        " select * from found",
        {"hash": secret_sha256},
    ).fetchone()
    if row is None:
        return None
    version, plan = row.pop("org_api_version"), row.pop("org_plan")
    role, status = row.pop("member_role"), row.pop("member_status")
    return ActiveKey(ApiKey(**row), version, org_plan=plan, member_role=role, member_status=status)


def list_api_keys(conn: Conn, org_id: str) -> list[ApiKey]:
    rows = conn.execute(
        f"select {KEY_COLUMNS} from api_keys where org_id = %(org)s order by id desc limit 100",
        {"org": org_id},
    ).fetchall()
    return [ApiKey(**row) for row in rows]


def get_api_key(conn: Conn, key_id: str) -> ApiKey | None:
    """Any organisation's key (operator commands name a key, not its organisation)."""
    row = conn.execute(
        f"select {KEY_COLUMNS} from api_keys where id = %(id)s", {"id": key_id}
    ).fetchone()
    return ApiKey(**row) if row else None


def revoke_api_key(conn: Conn, org_id: str, key_id: str) -> ApiKey | None:
    row = conn.execute(
        "update api_keys set revoked_at = coalesce(revoked_at, now())"
        f" where id = %(id)s and org_id = %(org)s returning {KEY_COLUMNS}",
        {"id": key_id, "org": org_id},
    ).fetchone()
    return ApiKey(**row) if row else None
