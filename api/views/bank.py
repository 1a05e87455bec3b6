"""Bank statements in (camt, MT940, OFX, CSV; parsed on queue `bank`) and reconciliation
against the invoices: which invoices are paid."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import current_principal, requires
from api.bank_schemas import (
    MatchCreateArgs,
    MatchSchema,
    ReconcileArgs,
    ReconciliationListSchema,
    ReconciliationSchema,
    StatementListSchema,
    StatementSchema,
    StatementUploadArgs,
    TransactionListSchema,
    TransactionPageArgs,
)
from api.blueprint import Blueprint
from api.idempotency import idempotent
from api.schemas import PageArgs
from common.bank import reconcile, service
from common.bank.service import statement_resource, transaction_resource
from common.config import get_settings
from common.errors import FileTooLarge
from common.pagination import list_body

blp = Blueprint(
    "bank",
    __name__,
    url_prefix="/v1/bank",
    description="Bank statements and reconciliation: which invoices are paid.",
)


def _read_file(upload) -> bytes:
    limit = get_settings().max_upload_bytes
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"The file is larger than {limit} bytes.", param="file")
    return data


@blp.route("/statements")
class Statements(MethodView):
    @requires("bank:read")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, StatementListSchema)
    def get(self, args):
        """List bank statements, newest first."""
        statements, has_more, cursor = service.list_statements(
            current_principal(), limit=args["limit"], cursor=args["cursor"]
        )
        return list_body([statement_resource(s) for s in statements], has_more, cursor)

    @requires("bank:write")
    @idempotent
    @blp.arguments(StatementUploadArgs, location="multipart")
    @blp.response(202, StatementSchema)
    @blp.alt_response(200, schema=StatementSchema, description="The same file was uploaded before.")
    def post(self, form):
        """Upload a statement; it is parsed in the background: poll it, or wait for the
        `bank_statement.processed` event. 422 `unprocessable_statement` for a file in no
        statement format."""
        upload = form["file"]
        statement, created = service.create_statement(
            current_principal(),
            file_name=(upload.filename or "statement")[:255],
            data=_read_file(upload),
            mapping=form["mapping"],
        )
        return statement_resource(statement), 202 if created else 200


@blp.route("/statements/<id(bst):statement_id>")
class StatementById(MethodView):
    @requires("bank:read")
    @blp.response(200, StatementSchema)
    def get(self, statement_id):
        """One bank statement."""
        return statement_resource(service.get_statement(current_principal(), statement_id))


@blp.route("/statements/<id(bst):statement_id>/transactions")
class StatementTransactions(MethodView):
    @requires("bank:read")
    @blp.arguments(TransactionPageArgs, location="query")
    @blp.response(200, TransactionListSchema)
    def get(self, args, statement_id):
        """A statement's transactions, in the statement's order."""
        rows, has_more, cursor = service.list_transactions(
            current_principal(), statement_id, limit=args["limit"], cursor=args["cursor"]
        )
        return list_body([transaction_resource(t) for t in rows], has_more, cursor)


@blp.route("/reconcile")
class Reconcile(MethodView):
    @requires("bank:write")
    @idempotent
    @blp.arguments(ReconcileArgs)
    @blp.response(201, ReconciliationSchema)
    def post(self, args):
        """Match the transactions not matched yet to the open invoices and credit notes;
        confident matches pay their invoices (`invoice.paid`), the others are suggestions.
        Sends `bank.reconciled`."""
        rec, matches = reconcile.reconcile(current_principal(), **args)
        return reconcile.reconciliation_resource(rec, matches)


@blp.route("/reconciliations")
class Reconciliations(MethodView):
    @requires("bank:read")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ReconciliationListSchema)
    def get(self, args):
        """List reconciliations, newest first."""
        rows, has_more, cursor = reconcile.list_reconciliations(
            current_principal(), limit=args["limit"], cursor=args["cursor"]
        )
        return list_body([reconcile.reconciliation_resource(r) for r in rows], has_more, cursor)


@blp.route("/reconciliations/<id(rec):reconciliation_id>")
class ReconciliationById(MethodView):
    @requires("bank:read")
    @blp.response(200, ReconciliationSchema)
    def get(self, reconciliation_id):
        """One reconciliation with its matches."""
        rec, matches = reconcile.get_reconciliation(current_principal(), reconciliation_id)
        return reconcile.reconciliation_resource(rec, matches)


@blp.route("/matches")
class Matches(MethodView):
    @requires("bank:write")
    @idempotent
    @blp.arguments(MatchCreateArgs)
    @blp.response(201, MatchSchema)
    def post(self, args):
        """Confirm a suggestion (`match_id`) or match a payment to an invoice by hand
        (`transaction_id`, `invoice_id`); the invoice is paid once matches cover it."""
        return reconcile.match_resource(reconcile.confirm_match(current_principal(), **args))


@blp.route("/matches/<id(bmt):match_id>")
class MatchById(MethodView):
    @requires("bank:write")
    @idempotent
    @blp.response(200, MatchSchema)
    def delete(self, match_id):
        """Undo a match (the invoice returns to its earlier review status) or reject a
        suggestion."""
        return reconcile.match_resource(reconcile.undo_match(current_principal(), match_id))
