"""Opaque cursors for keyset pagination on type-prefixed ULID IDs (newest first)."""

from __future__ import annotations

import base64

from common.errors import ValidationFailed

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
