"""Opaque cursors for keyset pagination on type-prefixed ULID IDs (newest first)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TypeVar

from common import db
from common.errors import ValidationFailed

Row = TypeVar("Row")

MAX_LIMIT = 100


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, prefix: str) -> str | None:
    """The ID after which the next page starts; a cursor for another list is refused."""
    if cursor is None:
        return None
    try:
        value = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (ValueError, UnicodeDecodeError):
        value = ""
    if not value.startswith(f"{prefix}_"):
        raise ValidationFailed("The cursor is not valid.", param="cursor")
    return value


def page_of(rows: list, limit: int) -> tuple[list, bool, str | None]:
    """Rows fetched with `limit + 1`: the page, whether more follow, and the next cursor."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    return rows, has_more, encode_cursor(rows[-1].id) if has_more else None


def clamp_limit(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


def org_page(
    fetch: Callable[..., list[Row]],
    org_id: str,
    livemode: bool,
    *,
    prefix: str,
    limit: int,
    cursor: str | None,
) -> tuple[list[Row], bool, str | None]:
    """One page of an organisation's rows, newest first: `fetch(conn, org_id, livemode,
    limit=, after_id=)` is a repository's list query, asked for one row past the page."""
    limit = clamp_limit(limit)
    with db.transaction() as conn:
        rows = fetch(
            conn, org_id, livemode, limit=limit + 1, after_id=decode_cursor(cursor, prefix)
        )
    return page_of(rows, limit)


def list_body(data: list, has_more: bool = False, next_cursor: str | None = None) -> dict:
    """A list answer as the contract shows it (`object: list`)."""
    return {"object": "list", "data": data, "has_more": has_more, "next_cursor": next_cursor}
