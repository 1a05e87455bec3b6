"""How invoice values read on the pages: amounts in their currency, confidence markers."""

from __future__ import annotations

from typing import Any

from common.exports.formats import amount

# Fields extracted with less confidence than this are marked for a person to check.
LOW_CONFIDENCE = 0.8
AMOUNT_FIELDS = ("subtotal_amount", "tax_amount", "total_amount", "amount_due", "discount_amount")


def warning_text(warning: Any) -> str:
    """A warning's message; tolerant of rows written before warnings were objects."""
    if isinstance(warning, dict):
        return str(warning.get("message") or warning.get("code") or "")
    return str(warning)


def warning_field(warning: Any) -> str | None:
    return warning.get("field") if isinstance(warning, dict) else None


def money(minor: Any, currency: str | None) -> str:
    text = amount(minor, currency)
    return f"{text} {currency}" if text and currency else text


def low_confidence_fields(resource: dict[str, Any]) -> list[str]:
    return sorted(
        name
        for name, value in (resource.get("field_confidence") or {}).items()
        if isinstance(value, int | float) and value < LOW_CONFIDENCE
    )


def inbox_row(resource: dict[str, Any]) -> dict[str, Any]:
    confidence = resource.get("extraction_confidence")
    return {
        "id": resource["id"],
        "status": resource["status"],
        "review_status": resource["review_status"],
        "document_type": resource["document_type"],
        "vendor": resource.get("vendor_name") or resource["file"]["name"],
        "number": resource.get("invoice_number") or "",
        "date": resource.get("invoice_date") or "",
        "currency": resource.get("currency"),
        "total_minor": resource.get("total_amount"),
        "total": money(resource.get("total_amount"), resource.get("currency")),
        "confidence": confidence,
        "low_fields": low_confidence_fields(resource),
        "low_confidence": (
            (confidence is not None and confidence < LOW_CONFIDENCE)
            or bool(low_confidence_fields(resource))
        ),
        "warnings": [warning_text(w) for w in resource.get("warnings") or []],
        "duplicate_of": resource.get("duplicate_of"),
        "approvable": resource["status"] == "succeeded"
        and resource["review_status"] in ("received", "rejected"),
    }


def page_totals(rows: list[dict[str, Any]]) -> list[str]:
    """The shown invoices' totals summed per currency."""
    sums: dict[str, int] = {}
    for row in rows:
        if row["currency"] and isinstance(row["total_minor"], int):
            sums[row["currency"]] = sums.get(row["currency"], 0) + row["total_minor"]
    return [money(total, currency) for currency, total in sorted(sums.items())]
