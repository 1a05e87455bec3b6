"""Exports: invoices out, in a file an accounting program imports, written in the background
(queue `exports`) and downloaded when done."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from api.auth import current_principal, requires
from api.blueprint import Blueprint
from api.idempotency import idempotent
from api.schemas import DeletedSchema, ExportCreateArgs, ExportListSchema, ExportSchema, PageArgs
from common.errors import RangeNotSatisfiable
from common.exports import service
from common.exports.service import export_resource
from common.pagination import list_body

blp = Blueprint(
    "exports",
    __name__,
    url_prefix="/v1/exports",
    description="Invoices out, as CSV, JSON Lines, UBL, Factur-X, Xero, QuickBooks or DATEV.",
)


@blp.route("")
class Exports(MethodView):
    @requires("export:read")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ExportListSchema)
    def get(self, args):
        """List exports, newest first."""
        exports, has_more, cursor = service.list_exports(
            current_principal(), limit=args["limit"], cursor=args["cursor"]
        )
        return list_body([export_resource(e) for e in exports], has_more, cursor)

    @requires("export:write")
    @idempotent
    @blp.arguments(ExportCreateArgs)
    @blp.response(202, ExportSchema)
    def post(self, args):
        """Start an export of the invoices the list's filters select; it runs in the
        background: poll it, or wait for the `export.completed` event."""
        fmt = args.pop("format")
        include_files = args.pop("include_files")
        bom = args.pop("bom")
        datev = args.pop("datev")
        filters = {
            name: value.isoformat() if hasattr(value, "isoformat") else value
            for name, value in args.items()
        }
        export = service.create_export(
            current_principal(),
            format=fmt,
            filters=filters,
            include_files=include_files,
            bom=bom,
            datev=datev if fmt == "datev" else None,
        )
        return export_resource(export)


@blp.route("/<id(exp):export_id>")
class ExportById(MethodView):
    @requires("export:read")
    @blp.response(200, ExportSchema)
    def get(self, export_id):
        """One export."""
        return export_resource(service.get_export(current_principal(), export_id))

    @requires("export:write")
    @idempotent
    @blp.response(200, DeletedSchema)
    def delete(self, export_id):
        """Delete an export and its file."""
        export = service.delete_export(current_principal(), export_id)
        return {"id": export.id, "object": "export", "deleted": True}


@blp.route("/<id(exp):export_id>/download")
class ExportDownload(MethodView):
    @requires("export:read")
    @blp.response(200, description="The file (`Range`, `If-None-Match` and `If-Range` work).")
    @blp.alt_response(206, description="The requested byte range of the file.")
    @blp.alt_response(304, description="Not modified (`If-None-Match` matched the `ETag`).")
    def get(self, export_id):
        """Download a succeeded export's file. 409 `export_not_ready` before it succeeded."""
        export, stream = service.open_download(current_principal(), export_id)
        response = Response(
            # ExportFile is a RawIOBase: a binary stream, which typeshed's IO[bytes] does not
            # name.
            wrap_file(request.environ, stream, buffer_size=1 << 16),  # type: ignore[arg-type]
            content_type=export.content_type,
            direct_passthrough=True,
        )
        response.content_length = export.size or 0
        response.set_etag(export.sha256 or export.id)
        response.last_modified = export.completed_at
        response.headers["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.cache_control.private = True
        # werkzeug answers Range (206), If-Range and If-None-Match (304) from these
        try:
            return response.make_conditional(
                request, accept_ranges=True, complete_length=export.size
            )
        except RequestedRangeNotSatisfiable:
            stream.close()
            raise RangeNotSatisfiable(
                headers={"Content-Range": f"bytes */{export.size}"}, param="Range"
            ) from None
