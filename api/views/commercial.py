"""Quotes and purchase orders from suppliers, which invoices are matched against, and the
organisation's matching tolerances."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import current_principal, requires
from api.blueprint import Blueprint
from api.commercial_schemas import (
    MatchingSettingsArgs,
    MatchingSettingsSchema,
    PurchaseOrderCreateArgs,
    PurchaseOrderListArgs,
    PurchaseOrderListSchema,
    PurchaseOrderPatchArgs,
    PurchaseOrderSchema,
    QuoteListArgs,
    QuoteListSchema,
    QuoteSchema,
)
from api.idempotency import idempotent
from api.schemas import ReasonArgs
from common.commercial import service
from common.commercial.service import document_resource
from common.pagination import list_body

quotes_blp = Blueprint(
    "quotes",
    __name__,
    url_prefix="/v1/quotes",
    description="Quotes received from suppliers (uploads classified `quote`).",
)
orders_blp = Blueprint(
    "purchase_orders",
    __name__,
    url_prefix="/v1/purchase-orders",
    description="Purchase orders, uploaded or sent as JSON by an ERP.",
)
matching_blp = Blueprint(
    "matching",
    __name__,
    url_prefix="/v1/matching",
    description="How far an invoice may differ from its quote or order before a warning.",
)


def _page(kind: str, args: dict) -> dict:
    page = service.list_documents(
        current_principal(),
        kind,
        status=args["status"],
        limit=args["limit"],
        cursor=args["cursor"],
    )
    return list_body(
        [document_resource(doc) for doc in page.documents], page.has_more, page.next_cursor
    )


@quotes_blp.route("")
class Quotes(MethodView):
    @requires("invoices:read")
    @quotes_blp.arguments(QuoteListArgs, location="query")
    @quotes_blp.response(200, QuoteListSchema)
    def get(self, args):
        """List quotes, newest first; `status` filters."""
        return _page("quote", args)


@quotes_blp.route("/<id(qte):quote_id>")
class QuoteById(MethodView):
    @requires("invoices:read")
    @quotes_blp.response(200, QuoteSchema)
    def get(self, quote_id):
        """One quote, with the invoices matched against it."""
        return service.get_document(current_principal(), "quote", quote_id)


def _register_decision(action: str) -> None:
    @quotes_blp.route(f"/<id(qte):quote_id>/{action}", endpoint=f"quote_{action}")
    class QuoteDecision(MethodView):
        @requires("invoices:write")
        @idempotent
        @quotes_blp.arguments(ReasonArgs)
        @quotes_blp.response(200, QuoteSchema)
        def post(self, args, quote_id):
            return service.decide_quote(current_principal(), quote_id, action, args["reason"])

    QuoteDecision.post.__doc__ = (
        f"{action.capitalize()} a received quote (`quote.{action}ed`). 409 "
        "`invalid_state_transition` from any other state."
    )


for _action in service.QUOTE_DECISIONS:
    _register_decision(_action)


@orders_blp.route("")
class PurchaseOrders(MethodView):
    @requires("invoices:read")
    @orders_blp.arguments(PurchaseOrderListArgs, location="query")
    @orders_blp.response(200, PurchaseOrderListSchema)
    def get(self, args):
        """List purchase orders, newest first; `status` filters."""
        return _page("purchase_order", args)

    @requires("invoices:write")
    @idempotent
    @orders_blp.arguments(PurchaseOrderCreateArgs)
    @orders_blp.response(201, PurchaseOrderSchema)
    def post(self, args):
        """Create a purchase order an ERP already has. Invoices referencing its number are
        matched against it. 409 `resource_already_exists` for a number created before."""
        return service.create_purchase_order(current_principal(), args)


@orders_blp.route("/<id(po):order_id>")
class PurchaseOrderById(MethodView):
    @requires("invoices:read")
    @orders_blp.response(200, PurchaseOrderSchema)
    def get(self, order_id):
        """One purchase order, with the invoices matched against it."""
        return service.get_document(current_principal(), "purchase_order", order_id)

    @requires("invoices:write")
    @idempotent
    @orders_blp.arguments(PurchaseOrderPatchArgs)
    @orders_blp.response(200, PurchaseOrderSchema)
    def patch(self, args, order_id):
        """Change an order's number, parties, amounts, lines or metadata (not a closed
        one: 409 `invalid_state_transition`). Invoices already matched keep their result."""
        return service.update_purchase_order(current_principal(), order_id, args)


@orders_blp.route("/<id(po):order_id>/close")
class PurchaseOrderClose(MethodView):
    @requires("invoices:write")
    @idempotent
    @orders_blp.arguments(ReasonArgs)
    @orders_blp.response(200, PurchaseOrderSchema)
    def post(self, args, order_id):
        """No more invoices expected (from open or partially_invoiced); 409
        `invalid_state_transition` otherwise."""
        return service.close_purchase_order(current_principal(), order_id, args["reason"])


@matching_blp.route("/settings")
class MatchingSettings(MethodView):
    @requires("settings:read")
    @matching_blp.response(200, MatchingSettingsSchema)
    def get(self):
        """The organisation's tolerances and whether clean matches are approved."""
        return service.get_matching_settings(current_principal())

    @requires("settings:write")
    @idempotent
    @matching_blp.arguments(MatchingSettingsArgs)
    @matching_blp.response(200, MatchingSettingsSchema)
    def put(self, args):
        """Change the tolerances; the fields left out keep their values."""
        return service.put_matching_settings(current_principal(), args)
