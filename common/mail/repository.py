"""SQL for mailboxes and the messages they took. Never commits; holds no rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from common.db import Conn


@dataclass(frozen=True)
class Mailbox:
    id: str
    org_id: str
    livemode: bool
    name: str
    host: str
    port: int
    username: str
    password_encrypted: str = field(repr=False)  # secretbox; kept out of any log line
    folder: str
    allowed_senders: list[str]
    after_processing: str
    processed_folder: str | None
    ca_certificate: str | None
    enabled: bool
    next_poll_at: datetime
    failures: int
    last_polled_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


COLUMNS = (
    "id, org_id, livemode, name, host, port, username, password_encrypted, folder,"
    " allowed_senders, after_processing, processed_folder, ca_certificate, enabled,"
    " next_poll_at, failures, last_polled_at, last_error, created_at, updated_at"
)

EDITABLE = frozenset(
    {
        "name",
        "host",
        "port",
        "username",
        "password_encrypted",
        "folder",
        "allowed_senders",
        "after_processing",
        "processed_folder",
        "ca_certificate",
        "enabled",
    }
)


def insert_mailbox(conn: Conn, **values: Any) -> Mailbox:
    names = ", ".join(values)
    placeholders = ", ".join(f"%({name})s" for name in values)
    row = conn.execute(
        f"insert into mailboxes ({names}) values ({placeholders}) returning {COLUMNS}", values
    ).fetchone()
    assert row is not None
    return Mailbox(**row)


def get_mailbox(conn: Conn, org_id: str, livemode: bool, mailbox_id: str) -> Mailbox | None:
    row = conn.execute(
        f"select {COLUMNS} from mailboxes where id = %(id)s and org_id = %(org_id)s"
        " and livemode = %(livemode)s",
        {"id": mailbox_id, "org_id": org_id, "livemode": livemode},
    ).fetchone()
    return Mailbox(**row) if row else None


def get_mailbox_by_id(conn: Conn, mailbox_id: str) -> Mailbox | None:
    row = conn.execute(
        f"select {COLUMNS} from mailboxes where id = %(id)s", {"id": mailbox_id}
    ).fetchone()
    return Mailbox(**row) if row else None


def list_mailboxes(
    conn: Conn, org_id: str, livemode: bool, *, limit: int, after_id: str | None
) -> list[Mailbox]:
    rows = conn.execute(
        f"select {COLUMNS} from mailboxes where org_id = %(org_id)s and livemode = %(livemode)s"
        " and (%(after)s::text is null or id < %(after)s) order by id desc limit %(limit)s",
        {"org_id": org_id, "livemode": livemode, "after": after_id, "limit": limit},
    ).fetchall()
    return [Mailbox(**row) for row in rows]


def update_mailbox(conn: Conn, mailbox_id: str, changes: dict[str, Any]) -> Mailbox:
    assert set(changes) <= EDITABLE, set(changes) - EDITABLE
    assignments = "".join(f"{column} = %({column})s, " for column in changes)
    # a changed mailbox is polled at once, its failures forgotten
    row = conn.execute(
        f"update mailboxes set {assignments} next_poll_at = now(), failures = 0,"
        f" updated_at = now() where id = %(id)s returning {COLUMNS}",
        {**changes, "id": mailbox_id},
    ).fetchone()
    assert row is not None
    return Mailbox(**row)


def delete_mailbox(conn: Conn, mailbox_id: str) -> None:
    conn.execute("delete from mailboxes where id = %(id)s", {"id": mailbox_id})


def claim_due_mailboxes(conn: Conn, *, lease_seconds: int, limit: int) -> list[str]:
    """Enabled mailboxes whose poll is due, pushed `lease_seconds` ahead so no other
    dispatcher sends them meanwhile (SKIP LOCKED: concurrent dispatchers take disjoint
    rows). The poll sets the real next time when it ends."""
    rows = conn.execute(
        "update mailboxes set next_poll_at = now() + make_interval(secs => %(lease)s)"
        " where id in (select id from mailboxes where enabled and next_poll_at <= now()"
        " order by next_poll_at limit %(limit)s for update skip locked) returning id",
        {"lease": lease_seconds, "limit": limit},
    ).fetchall()
    return [row["id"] for row in rows]


def try_poll_lock(conn: Conn, mailbox_id: str) -> bool:
    """A session advisory lock on the mailbox: one poller at a time talks to its server."""
    row = conn.execute(
        "select pg_try_advisory_lock(hashtext('mailbox:' || %(id)s)) as locked",
        {"id": mailbox_id},
    ).fetchone()
    return bool(row and row["locked"])


def release_poll_lock(conn: Conn, mailbox_id: str) -> None:
    conn.execute("select pg_advisory_unlock(hashtext('mailbox:' || %(id)s))", {"id": mailbox_id})


def record_poll(
    conn: Conn, mailbox_id: str, *, error: str | None, next_in_seconds: float, failed: bool
) -> None:
    conn.execute(
        "update mailboxes set last_polled_at = now(), last_error = %(error)s,"
        " failures = case when %(failed)s then failures + 1 else 0 end,"
        " next_poll_at = now() + make_interval(secs => %(next)s) where id = %(id)s",
        {"id": mailbox_id, "error": error, "failed": failed, "next": next_in_seconds},
    )


def taken_uids(conn: Conn, mailbox_id: str, uidvalidity: int, uids: list[int]) -> set[int]:
    rows = conn.execute(
        "select uid from mail_messages where mailbox_id = %(id)s"
        " and uidvalidity = %(uidvalidity)s and uid = any(%(uids)s)",
        {"id": mailbox_id, "uidvalidity": uidvalidity, "uids": uids},
    ).fetchall()
    return {row["uid"] for row in rows}


def insert_message(
    conn: Conn,
    mailbox: Mailbox,
    *,
    uidvalidity: int,
    uid: int,
    message_id: str | None,
    outcome: str,
    reason: str | None,
) -> int | None:
    """The message's row, or None when the mailbox took it before (by UID or Message-ID).

    Written first in the transaction that takes the message: a concurrent poller's insert
    of the same keys waits on this row's index entries until that transaction ends, then
    conflicts, so only one of them goes on to make invoices."""
    row = conn.execute(
        "insert into mail_messages (mailbox_id, org_id, livemode, uidvalidity, uid,"
        " message_id, outcome, reason) values (%(mailbox_id)s, %(org_id)s, %(livemode)s,"
        " %(uidvalidity)s, %(uid)s, %(message_id)s, %(outcome)s, %(reason)s)"
        " on conflict do nothing returning id",
        {
            "mailbox_id": mailbox.id,
            "org_id": mailbox.org_id,
            "livemode": mailbox.livemode,
            "uidvalidity": uidvalidity,
            "uid": uid,
            "message_id": message_id,
            "outcome": outcome,
            "reason": reason,
        },
    ).fetchone()
    return row["id"] if row else None


def set_message_result(
    conn: Conn, row_id: int, outcome: str, reason: str | None, invoice_ids: list[str]
) -> None:
    conn.execute(
        "update mail_messages set outcome = %(outcome)s, reason = %(reason)s,"
        " invoice_ids = %(ids)s where id = %(id)s",
        {"id": row_id, "outcome": outcome, "reason": reason, "ids": invoice_ids},
    )
