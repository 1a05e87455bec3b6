"""SQL for member passwords and web sessions. Never commits; holds no rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from common.db import Conn


@dataclass(frozen=True)
class SignInCandidate:
    member_id: str
    org_id: str
    password_hash: str


@dataclass(frozen=True)
class SessionRow:
    id_sha256: str
    member_id: str
    org_id: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    email: str
    name: str
    role: str
    member_status: str
    org_name: str
    plan: str
    now: datetime


def set_password_hash(conn: Conn, org_id: str, email: str, password_hash: str) -> str | None:
    """The member's ID, or None when the organisation has no member with this email. A
    pending member becomes active (an operator set its password); an inactive one stays."""
    row = conn.execute(
        "update members set password_hash = %(hash)s, password_set_at = now(),"
        " updated_at = now(),"
        " activated_at = case when status = 'pending' then now() else activated_at end,"
        " status = case when status = 'pending' then 'active' else status end"
        " where org_id = %(org)s and lower(email) = lower(%(email)s)"
        " returning id",
        {"hash": password_hash, "org": org_id, "email": email},
    ).fetchone()
    return row["id"] if row else None


def sign_in_candidates(conn: Conn, email: str) -> list[SignInCandidate]:
    """Active members with a password and this email, in every organisation, oldest first."""
    rows = conn.execute(
        "select id as member_id, org_id, password_hash from members"
        " where lower(email) = lower(%(email)s) and password_hash is not null"
        " and status = 'active' order by id",
        {"email": email},
    ).fetchall()
    return [SignInCandidate(**row) for row in rows]


def insert_session(
    conn: Conn,
    *,
    id_sha256: str,
    member_id: str,
    org_id: str,
    csrf_token: str,
    max_seconds: int,
    ip: str | None,
    user_agent: str | None,
) -> None:
    conn.execute(
        "insert into web_sessions"
        " (id_sha256, member_id, org_id, csrf_token, expires_at, ip, user_agent)"
        " values (%(id)s, %(member)s, %(org)s, %(csrf)s,"
        " now() + make_interval(secs => %(max)s), %(ip)s, %(ua)s)",
        {
            "id": id_sha256,
            "member": member_id,
            "org": org_id,
            "csrf": csrf_token,
            "max": max_seconds,
            "ip": ip,
            "ua": user_agent,
        },
    )


def get_session(conn: Conn, id_sha256: str) -> SessionRow | None:
    row = conn.execute(
        "select s.id_sha256, s.member_id, s.org_id, s.csrf_token, s.created_at,"
        " s.last_seen_at, s.expires_at, m.email, m.name, m.role, m.status as member_status,"
        " o.name as org_name, o.plan, now() as now"
        " from web_sessions s join members m on m.id = s.member_id"
        " join orgs o on o.id = s.org_id where s.id_sha256 = %(id)s",
        {"id": id_sha256},
    ).fetchone()
    return SessionRow(**row) if row else None


def touch_session(conn: Conn, id_sha256: str) -> None:
    conn.execute(
        "update web_sessions set last_seen_at = now() where id_sha256 = %(id)s",
        {"id": id_sha256},
    )


def delete_session(conn: Conn, id_sha256: str) -> None:
    conn.execute("delete from web_sessions where id_sha256 = %(id)s", {"id": id_sha256})


def delete_member_sessions(conn: Conn, member_id: str) -> None:
    conn.execute("delete from web_sessions where member_id = %(m)s", {"m": member_id})


def delete_expired_sessions(conn: Conn, idle_seconds: int) -> int:
    cursor = conn.execute(
        "delete from web_sessions where expires_at <= now()"
        " or last_seen_at <= now() - make_interval(secs => %(idle)s)",
        {"idle": idle_seconds},
    )
    return cursor.rowcount


@dataclass(frozen=True)
class Invitation:
    member_id: str
    org_id: str
    email: str
    org_name: str
    member_status: str


def insert_invitation(conn: Conn, token_sha256: str, member_id: str, valid_seconds: int) -> None:
    conn.execute(
        "insert into member_invitations (token_sha256, member_id, expires_at)"
        " values (%(token)s, %(member)s, now() + make_interval(secs => %(valid)s))",
        {"token": token_sha256, "member": member_id, "valid": valid_seconds},
    )


def open_invitation(conn: Conn, token_sha256: str, *, lock: bool = False) -> Invitation | None:
    """The unused, unexpired invitation with this token (its row locked with `lock`)."""
    row = conn.execute(
        "select i.member_id, m.org_id, m.email, o.name as org_name, m.status as member_status"
        " from member_invitations i join members m on m.id = i.member_id"
        " join orgs o on o.id = m.org_id"
        " where i.token_sha256 = %(token)s and i.used_at is null and i.expires_at > now()"
        + (" for update of i" if lock else ""),
        {"token": token_sha256},
    ).fetchone()
    return Invitation(**row) if row else None


def use_invitation(conn: Conn, token_sha256: str, password_hash: str) -> None:
    """Mark the invitation used, set the member's password, and activate a pending member
    (an inactive one stays inactive: someone deactivated it since the invitation)."""
    row = conn.execute(
        "update member_invitations set used_at = now() where token_sha256 = %(token)s"
        " returning member_id",
        {"token": token_sha256},
    ).fetchone()
    assert row is not None  # the caller holds the row
    conn.execute(
        "update members set password_hash = %(hash)s, password_set_at = now(),"
        " updated_at = now(),"
        " activated_at = case when status = 'pending' then now() else activated_at end,"
        " status = case when status = 'pending' then 'active' else status end"
        " where id = %(member)s",
        {"hash": password_hash, "member": row["member_id"]},
    )
