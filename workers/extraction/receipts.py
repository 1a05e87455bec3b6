"""Receipt fields the invoice parser does not look for (placeholder)."""

from __future__ import annotations

from typing import Any

from workers.extraction.layout import Page


def refine_receipt_fields(fields: dict[str, Any], pages: list[Page]) -> dict[str, Any]:
    return fields
