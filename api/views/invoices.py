"""Invoice endpoints. Each view parses, calls one service function, and renders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView

from api.auth import current_principal, requires
from api.blueprint import Blueprint
from api.idempotency import idempotent, view_claim
from api.schemas import (
    CommentArgs,
    CommentListSchema,
    CommentSchema,
    DeletedSchema,
    ExpandArgs,
    HistoryListSchema,
    InvoiceExpandedSchema,
    InvoiceListSchema,
    InvoicePatchArgs,
    InvoiceSchema,
    ListArgs,
    ReasonArgs,
    ReprocessArgs,
    UploadArgs,
    UploadQueryArgs,
)
from common.config import get_settings
from common.documents import SNIFF_BYTES, sniff_content_type
from common.errors import FileTooLarge, UnsupportedFileType, ValidationFailed
from common.invoices import downloads, review, service
from common.invoices.repository import InvoiceFilters
from common.invoices.resource import invoice_resource
from common.pagination import list_body

blp = Blueprint(
    "invoices",
    __name__,
    url_prefix="/v1/invoices",
    description="Upload invoices, poll their extraction, read and manage them.",
)


def _timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def list_filters(args: dict) -> InvoiceFilters:
    """The list's filters from its parsed query (ListArgs); bench/invoice_list_scale.py
    builds the SQL it EXPLAINs with this too."""
    return InvoiceFilters(
        status=args["status"],
        review_status=args["review_status"],
        document_type=args["document_type"],
        vendor=args["vendor"],
        currency=args["currency"],
        date_from=args["date_from"].isoformat() if args["date_from"] else None,
        date_to=args["date_to"].isoformat() if args["date_to"] else None,
        created_after=_timestamp(args["created_after"]),
        created_before=_timestamp(args["created_before"]),
        duplicate=args["duplicate"],
    )


def _read_upload(upload) -> tuple[str, bytes]:
    """The sniffed content type and the bytes, refusing what is too large or unknown."""
    stream = upload.stream
    head = stream.read(SNIFF_BYTES)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise UnsupportedFileType(param="file")
    limit = get_settings().max_upload_bytes
    data = head + stream.read(limit + 1 - len(head))
    if len(data) > limit:
        raise FileTooLarge(f"The file is larger than {limit} bytes.", param="file")
    if not data:
        raise ValidationFailed("The file is empty.", param="file")
    return content_type, data


def _query_or_form(name: str, query: dict, form: dict, default: Any) -> Any:
    """A parameter clients send in the query or in the form; in both, the values agree."""
    if name in query and name in form and query[name] != form[name]:
        raise ValidationFailed(f"{name}: the query and the form give different values.", param=name)
    return query.get(name, form.get(name, default))


@blp.route("")
class Invoices(MethodView):
    @requires("upload:write")
    @idempotent(claimed_in_view=True)
    @blp.arguments(UploadArgs, location="multipart")
    @blp.arguments(UploadQueryArgs, location="query")
    @blp.response(202, InvoiceSchema)
    @blp.alt_response(200, schema=InvoiceSchema, description="Extraction finished within `wait`.")
    def post(self, form, query):
        """Upload an invoice; extraction runs in the background (or within `wait`)."""
        args = {
            **form,
            "schema_id": _query_or_form("schema_id", query, form, None),
            "wait": _query_or_form("wait", query, form, 0),
        }
        upload = args["file"]
        content_type, data = _read_upload(upload)
        principal = current_principal()
        invoice = service.create_invoice(
            principal,
            file_name=(upload.filename or "upload")[:255],
            content_type=content_type,
            data=data,
            metadata=args["metadata"],
            schema_id=args["schema_id"],
            idempotency_key=request.headers.get("Idempotency-Key"),
            # without `wait` the answer is the queued invoice, stored with the upload
            claim=view_claim(created_status=202 if args["wait"] == 0 else None),
            split=args.get("split"),
        )
        if args["wait"] > 0:
            invoice = service.wait_for_invoice(principal, invoice.id, args["wait"])
        status = 200 if invoice.status in service.TERMINAL else 202
        if not invoice.fields:
            # Nothing extracted (an upload's usual answer): the resource is already all that
            # InvoiceSchema would dump (the replay tests check it), so the dump is skipped.
            return current_app.json.response(invoice_resource(invoice)), status
        return invoice_resource(invoice), status

    @requires("invoices:read")
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, InvoiceListSchema)
    def get(self, args):
        """List invoices, newest first, with filters and cursor pagination."""
        page = service.list_invoices(
            current_principal(), list_filters(args), limit=args["limit"], cursor=args["cursor"]
        )
        return list_body(
            [invoice_resource(i) for i in page.invoices], page.has_more, page.next_cursor
        )


@blp.route("/<id(inv):invoice_id>")
class InvoiceById(MethodView):
    @requires("invoices:read")
    @blp.arguments(ExpandArgs, location="query")
    @blp.response(200, InvoiceExpandedSchema)
    def get(self, args, invoice_id):
        """One invoice. `wait` (0-30 s) holds the answer until extraction ends;
        `expand=extracted` adds the fields as extracted, before any correction."""
        principal = current_principal()
        if args["wait"] > 0:
            invoice = service.wait_for_invoice(principal, invoice_id, args["wait"])
        else:
            invoice = service.get_invoice(principal, invoice_id)
        resource = invoice_resource(invoice)
        if "extracted" in args["expand"]:
            resource["extracted"] = review.extracted_fields(principal, invoice_id)
        return resource

    @requires("invoices:write")
    @idempotent
    @blp.arguments(InvoicePatchArgs)
    @blp.response(200, InvoiceSchema)
    def patch(self, args, invoice_id):
        """Correct fields; the extracted values stay available with `expand=extracted`.
        409 `invalid_state_transition` unless extraction succeeded."""
        metadata = args.pop("metadata", None)
        changes = {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in args.items()
        }
        return invoice_resource(
            review.correct_invoice(current_principal(), invoice_id, changes, metadata=metadata)
        )

    @requires("invoices:delete")
    @idempotent
    @blp.response(200, DeletedSchema)
    def delete(self, invoice_id):
        """Delete an invoice and its file."""
        invoice = service.delete_invoice(current_principal(), invoice_id)
        return {"id": invoice.id, "object": "invoice", "deleted": True}


@blp.route("/<id(inv):invoice_id>/file")
class InvoiceFile(MethodView):
    @requires("invoices:read")
    @blp.response(200, description="The original upload, byte for byte.")
    def get(self, invoice_id):
        """Download the original file."""
        invoice, data = service.read_invoice_file(current_principal(), invoice_id)
        safe_name = "".join(c for c in invoice.file_name if c.isalnum() or c in "._- ")
        return Response(
            data,
            mimetype=invoice.content_type,
            headers={
                "Content-Disposition": f'attachment; filename="{safe_name or invoice.id}"',
                "X-Content-Type-Options": "nosniff",
            },
        )


def _download(download) -> Response:
    return Response(
        download.data,
        mimetype=download.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{download.file_name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@blp.route("/<id(inv):invoice_id>/xml")
class InvoiceXml(MethodView):
    @requires("invoices:read")
    @blp.response(200, description="The original e-invoice XML, or UBL 2.1 from the fields.")
    def get(self, invoice_id):
        """The e-invoice XML: the original, or UBL 2.1 generated from the corrected fields."""
        return _download(downloads.invoice_xml(current_principal(), invoice_id))


@blp.route("/<id(inv):invoice_id>/pdf")
class InvoicePdf(MethodView):
    @requires("invoices:read")
    @blp.response(200, description="The original PDF, or one rendered from the fields.")
    def get(self, invoice_id):
        """The PDF: the original, or one rendered from an XML e-invoice's fields."""
        return _download(downloads.invoice_pdf(current_principal(), invoice_id))


@blp.route("/<id(inv):invoice_id>/reprocess")
class InvoiceReprocess(MethodView):
    @requires("invoices:write")
    @idempotent
    @blp.arguments(ReprocessArgs)
    @blp.response(202, InvoiceSchema)
    def post(self, args, invoice_id):
        """Run extraction again on the stored file, optionally with another schema."""
        return invoice_resource(
            service.reprocess_invoice(current_principal(), invoice_id, args["schema_id"])
        )


def _register_transition(action: str) -> None:
    @blp.route(f"/<id(inv):invoice_id>/{action}", endpoint=f"invoice_{action.replace('-', '_')}")
    class InvoiceTransition(MethodView):
        @requires("invoices:write")
        @idempotent
        @blp.arguments(ReasonArgs)
        @blp.response(200, InvoiceSchema)
        def post(self, args, invoice_id):
            return invoice_resource(
                review.move_invoice(current_principal(), invoice_id, action, args["reason"])
            )

    InvoiceTransition.post.__doc__ = (
        f"Review workflow: {action}. 409 `invalid_state_transition` when not allowed "
        f"(from: {', '.join(review.TRANSITIONS[action].from_statuses)}; extraction: "
        f"{', '.join(review.TRANSITIONS[action].extraction)})."
    )


for _action in review.TRANSITIONS:
    _register_transition(_action)


@blp.route("/<id(inv):invoice_id>/comments")
class InvoiceComments(MethodView):
    @requires("invoices:read")
    @blp.response(200, CommentListSchema)
    def get(self, invoice_id):
        """Comments, oldest first."""
        comments = review.list_comments(current_principal(), invoice_id)
        return list_body(comments)

    @requires("invoices:write")
    @idempotent
    @blp.arguments(CommentArgs)
    @blp.response(201, CommentSchema)
    def post(self, args, invoice_id):
        """Add a comment."""
        return review.add_comment(current_principal(), invoice_id, args["body"])


@blp.route("/<id(inv):invoice_id>/history")
class InvoiceHistory(MethodView):
    @requires("invoices:read")
    @blp.response(200, HistoryListSchema)
    def get(self, invoice_id):
        """Every change: field, old, new, which key, when."""
        entries = review.history(current_principal(), invoice_id)
        return list_body(entries)
