"""Idempotency keys, as the contract defines them (Stripe's rules).

A key is claimed in its own committed transaction before the request runs, so two identical
requests racing see each other: the loser gets `idempotency_in_progress`, then a replay.
An upload claims it instead inside the one statement that stores the upload (`Claim`): the
claim commits with the upload, and a racing twin's statement waits on the key's unique index,
then fails and goes the usual way. A request refused before its work started (a 422) stores
nothing there, as with Stripe: the client may correct it and retry with the same key.
Responses below 500 are stored and replayed for 24 hours; a 500 frees the key so the client
can retry. A claim older than STALE_CLAIM_SECONDS belongs to a process that died; it is taken
over (uploads stay single anyway: the invoice row carries the key under a unique index).
"""

from __future__ import annotations

from dataclasses import dataclass

from common import db
from common.errors import IdempotencyConflict, IdempotencyInProgress, ValidationFailed

KEEP_HOURS = 24
STALE_CLAIM_SECONDS = 120


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    content_type: str


# The record's primary key: an insert that meets it means the key was used before.
CLAIMED = "idempotency_keys_pkey"


@dataclass
class Claim:
    """A key to claim inside the statement that does the request's work (an upload), one
    round trip fewer than `claim` and committed with the work or not at all. `recorded` turns
    True once that statement committed: from then on the key is this request's to complete
    (or to release, on a 500).

    `created_status`: when the answer is the created object as the statement stores it (an
    upload without `wait`), the statement also stores that answer under this status, so the
    request needs no `complete` (`completed` turns True); None leaves it to `complete`."""

    key: str
    request_hash: str
    created_status: int | None = None
    recorded: bool = False
    completed: bool = False


class KeyAlreadyClaimed(Exception):
    """The statement claiming a Claim met a record of its key (a retry, a racing twin, or an
    expired record not yet purged) and rolled back; `claim` then decides as for any view.
    Never reaches a client: api/idempotency.py catches it."""


def check_key(key: str) -> str:
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise ValidationFailed(
            "Idempotency-Key must be 1-255 printable characters.", param="Idempotency-Key"
        )
    return key


def claim(org_id: str, livemode: bool, key: str, request_hash: str) -> StoredResponse | None:
    """None: this request owns the key and should run. Otherwise the response to replay.

    The first use of a key costs one statement; only a key seen before costs more.
    """
    params = {
        "org_id": org_id,
        "livemode": livemode,
        "key": key,
        "hash": request_hash,
        "keep": KEEP_HOURS,
        "stale": STALE_CLAIM_SECONDS,
    }
    with db.connection() as conn:
        inserted = conn.execute(
            "insert into idempotency_keys (org_id, livemode, key, request_hash)"
            " values (%(org_id)s, %(livemode)s, %(key)s, %(hash)s)"
            " on conflict do nothing returning key",
            params,
        ).fetchone()
        if inserted:
            return None
        # Seen before: an expired record, or a claim whose process died, is forgotten and
        # the key claimed afresh; anything else is replayed or refused.
        expired = conn.execute(
            "delete from idempotency_keys where org_id = %(org_id)s and livemode = %(livemode)s"
            " and key = %(key)s and (created_at < now() - make_interval(hours => %(keep)s)"
            " or (completed_at is null"
            "     and created_at < now() - make_interval(secs => %(stale)s)))"
            " returning key",
            params,
        ).fetchone()
        row = None
        if not expired:
            row = conn.execute(
                "select request_hash, status_code, response_body, content_type"
                " from idempotency_keys where org_id = %(org_id)s and livemode = %(livemode)s"
                " and key = %(key)s",
                params,
            ).fetchone()
    if row is None:  # expired just now (or between our statements): claim it again
        return claim(org_id, livemode, key, request_hash)
    if row["request_hash"] != request_hash:
        raise IdempotencyConflict
    if row["status_code"] is None:
        raise IdempotencyInProgress
    return StoredResponse(row["status_code"], bytes(row["response_body"]), row["content_type"])


def complete(org_id: str, livemode: bool, key: str, response: StoredResponse) -> None:
    with db.connection() as conn:
        conn.execute(
            "update idempotency_keys set status_code = %(status)s, response_body = %(body)s,"
            " content_type = %(ctype)s, completed_at = now()"
            " where org_id = %(org_id)s and livemode = %(livemode)s and key = %(key)s",
            {
                "org_id": org_id,
                "livemode": livemode,
                "key": key,
                "status": response.status,
                "body": response.body,
                "ctype": response.content_type,
            },
        )


def release(org_id: str, livemode: bool, key: str) -> None:
    with db.connection() as conn:
        conn.execute(
            "delete from idempotency_keys where org_id = %(org_id)s and livemode = %(livemode)s"
            " and key = %(key)s and completed_at is null",
            {"org_id": org_id, "livemode": livemode, "key": key},
        )


def purge_expired() -> int:
    with db.transaction() as conn:
        cur = conn.execute(
            "delete from idempotency_keys"
            " where created_at < now() - make_interval(hours => %(keep)s)",
            {"keep": KEEP_HOURS},
        )
        return cur.rowcount
