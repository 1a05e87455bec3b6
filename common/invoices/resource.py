"""The invoice as the contract shows it, to clients and inside webhook events."""

from __future__ import annotations

from typing import Any

from common.invoice_fields import FIELD_NAMES, LIST_FIELDS
from common.invoices.repository import Invoice


def invoice_resource(invoice: Invoice) -> dict[str, Any]:
    fields = invoice.fields or {}
    resource: dict[str, Any] = {
        "id": invoice.id,
        "object": "invoice",
        "livemode": invoice.livemode,
        "created": int(invoice.created_at.timestamp()),
        "updated": int(invoice.updated_at.timestamp()),
        "status": invoice.status,
        "review_status": invoice.review_status,
        "source_channel": invoice.source_channel,
        "document_type": fields.get("document_type", "unknown"),
        "source": fields.get("source"),
        "file": {
            "name": invoice.file_name,
            "content_type": invoice.content_type,
            "size": invoice.file_size,
            "sha256": invoice.file_sha256,
            "pages": invoice.file_pages,
        },
    }
    for name in FIELD_NAMES:
        default: Any = [] if name in LIST_FIELDS else ({} if name == "custom_fields" else None)
        resource[name] = fields.get(name, default)
    resource.update(
        {
            "extraction_confidence": fields.get("extraction_confidence"),
            "field_confidence": fields.get("field_confidence", {}),
            "warnings": fields.get("warnings", []),
            "schema_id": invoice.schema_id,
            "metadata": invoice.metadata or {},
            "duplicate_of": invoice.duplicate_of,
            "split_from": invoice.split_from,
            "split_into": fields.get("split_into", []),
            # the quote or purchase order it was matched against: {type, id, number}
            "matched_document": fields.get("matched_document"),
            "published": invoice.published or [],
            "error": (
                {"code": invoice.error_code, "message": invoice.error_message}
                if invoice.status == "failed"
                else None
            ),
        }
    )
    return resource
