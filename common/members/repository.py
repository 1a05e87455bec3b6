"""SQL for members. Never commits; holds no rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common.db import Conn

# First key of the two-key advisory lock that serialises changes to one organisation's team.
TEAM_LOCK_CLASS = 0x1A7E_0008


@dataclass(frozen=True)
class Member:
    id: str
    org_id: str
    email: str
    name: str
    role: str
    status: str
    invited_by_key_id: str | None
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    deactivated_at: datetime | None


MEMBER_COLUMNS = (
    "id, org_id, email, name, role, status, invited_by_key_id,"
    " created_at, updated_at, activated_at, deactivated_at"
)


def lock_team(conn: Conn, org_id: str) -> None:
    """Hold, until the transaction ends, the lock every change of this organisation's roles
    and statuses takes: two owners demoted at once cannot both see the other still there."""
    conn.execute(
        "select pg_advisory_xact_lock(%(class)s, hashtext(%(org)s))",
        {"class": TEAM_LOCK_CLASS, "org": org_id},
    )


def insert_member(
    conn: Conn,
    *,
    member_id: str,
    org_id: str,
    email: str,
    name: str,
    role: str,
    invited_by_key_id: str | None,
) -> Member | None:
    """The new pending member, or None if the organisation has one with this email already
    (in any case: the unique index is on lower(email))."""
    row = conn.execute(
        "insert into members (id, org_id, email, name, role, invited_by_key_id)"
        " values (%(id)s, %(org)s, %(email)s, %(name)s, %(role)s, %(key)s)"
        " on conflict (org_id, lower(email)) do nothing"
        f" returning {MEMBER_COLUMNS}",
        {
            "id": member_id,
            "org": org_id,
            "email": email,
            "name": name,
            "role": role,
            "key": invited_by_key_id,
        },
    ).fetchone()
    return Member(**row) if row else None


def get_member(conn: Conn, org_id: str, member_id: str) -> Member | None:
    row = conn.execute(
        f"select {MEMBER_COLUMNS} from members where id = %(id)s and org_id = %(org)s",
        {"id": member_id, "org": org_id},
    ).fetchone()
    return Member(**row) if row else None


def list_members(
    conn: Conn, org_id: str, *, status: str | None, limit: int, after_id: str | None
) -> list[Member]:
    rows = conn.execute(
        f"select {MEMBER_COLUMNS} from members where org_id = %(org)s"
        " and (%(status)s::text is null or status = %(status)s)"
        " and (%(after)s::text is null or id < %(after)s)"
        " order by id desc limit %(limit)s",
        {"org": org_id, "status": status, "after": after_id, "limit": limit},
    ).fetchall()
    return [Member(**row) for row in rows]


def count_active_owners(conn: Conn, org_id: str) -> int:
    row = conn.execute(
        "select count(*) as n from members"
        " where org_id = %(org)s and status = 'active' and role = 'owner'",
        {"org": org_id},
    ).fetchone()
    assert row is not None  # count(*) always yields a row
    return int(row["n"])


def update_member(conn: Conn, member_id: str, changes: dict[str, Any]) -> Member:
    allowed = {"name", "role"}
    assert set(changes) <= allowed, set(changes) - allowed
    assignments = "".join(f"{column} = %({column})s, " for column in changes)
    row = conn.execute(
        f"update members set {assignments}updated_at = now()"
        f" where id = %(member_id)s returning {MEMBER_COLUMNS}",
        {**changes, "member_id": member_id},
    ).fetchone()
    assert row is not None  # the caller holds the member, which is never deleted
    return Member(**row)


def set_member_status(conn: Conn, member_id: str, status: str) -> Member:
    """Move to `status`, stamping when it was last activated or deactivated."""
    row = conn.execute(
        "update members set status = %(status)s, updated_at = now(),"
        " activated_at = case when %(status)s = 'active' then now() else activated_at end,"
        " deactivated_at = case when %(status)s = 'inactive' then now() end"
        f" where id = %(member_id)s returning {MEMBER_COLUMNS}",
        {"status": status, "member_id": member_id},
    ).fetchone()
    assert row is not None  # the caller holds the member, which is never deleted
    return Member(**row)
