"""Dated API versions: the one place where changes that would break a client are declared.

The code always builds the newest shape; a request pinned to an older version (header
`Invex-Version`, else its organisation's default) gets each newer change undone, newest first,
just before the response is sent. Adding fields, endpoints or enum values needs no entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common.errors import InvalidVersion


def _duplicate_of_was_is_duplicate(resource: dict[str, Any]) -> dict[str, Any]:
    resource = dict(resource)
    resource["is_duplicate"] = resource.pop("duplicate_of", None) is not None
    return resource


@dataclass(frozen=True)
class Change:
    version: str  # the first version with the new shape
    description: str
    object: str  # the resource type it touches ("invoice", ...)
    undo: Callable[[dict[str, Any]], dict[str, Any]]


CHANGES = (
    Change(
        "2026-11-01",
        "Invoices name the invoice they duplicate (`duplicate_of`) instead of a boolean "
        "`is_duplicate`.",
        "invoice",
        _duplicate_of_was_is_duplicate,
    ),
)
VERSIONS = ("2026-06-01", "2026-11-01")
LATEST = VERSIONS[-1]


def check_version(requested: str) -> str:
    if requested not in VERSIONS:
        raise InvalidVersion(
            f"Unknown Invex-Version {requested!r}; known: {', '.join(VERSIONS)}.",
            param="Invex-Version",
        )
    return requested


def render_for_version(payload: Any, version: str) -> Any:
    """The payload as a client pinned to `version` expects it (nested objects included)."""
    pending = [c for c in reversed(CHANGES) if c.version > version]
    if not pending:
        return payload
    return _walk(payload, pending)


def _walk(value: Any, pending: list[Change]) -> Any:
    if isinstance(value, list):
        return [_walk(item, pending) for item in value]
    if not isinstance(value, dict):
        return value
    value = {key: _walk(item, pending) for key, item in value.items()}
    for change in pending:
        if value.get("object") == change.object:
            value = change.undo(value)
    return value
