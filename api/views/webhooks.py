"""Webhook endpoints, their delivery log, and the events they carry."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import current_principal, requires
from api.blueprint import Blueprint
from api.idempotency import idempotent
from api.schemas import (
    DeletedSchema,
    EventListArgs,
    EventListSchema,
    EventSchema,
    PageArgs,
    WebhookCreateArgs,
    WebhookDeliveryListSchema,
    WebhookDeliverySchema,
    WebhookEndpointListSchema,
    WebhookEndpointSchema,
    WebhookUpdateArgs,
)
from common import events
from common.pagination import decode_cursor, list_body, page_of
from common.webhooks import service
from common.webhooks.service import delivery_resource, endpoint_resource

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/v1/webhooks",
    description="Signed webhook endpoints and their delivery log.",
)
events_blp = Blueprint(
    "events", __name__, url_prefix="/v1/events", description="Every event of the last 30 days."
)


@blp.route("")
class Webhooks(MethodView):
    @requires("webhooks:read")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, WebhookEndpointListSchema)
    def get(self, args):
        """List webhook endpoints."""
        rows = service.list_endpoints(
            current_principal(),
            limit=args["limit"] + 1,
            after_id=decode_cursor(args["cursor"], "whk"),
        )
        page, has_more, cursor = page_of(rows, args["limit"])
        return list_body([endpoint_resource(e) for e in page], has_more, cursor)

    @requires("webhooks:write")
    @idempotent
    @blp.arguments(WebhookCreateArgs)
    @blp.response(201, WebhookEndpointSchema)
    def post(self, args):
        """Create an endpoint; its signing secret is returned only now."""
        created = service.create_endpoint(current_principal(), **args)
        return endpoint_resource(created.endpoint, created.secret)


@blp.route("/<endpoint_id>")
class WebhookById(MethodView):
    @requires("webhooks:read")
    @blp.response(200, WebhookEndpointSchema)
    def get(self, endpoint_id):
        """One endpoint (without its secret)."""
        return endpoint_resource(service.get_endpoint(current_principal(), endpoint_id))

    @requires("webhooks:write")
    @idempotent
    @blp.arguments(WebhookUpdateArgs)
    @blp.response(200, WebhookEndpointSchema)
    def patch(self, args, endpoint_id):
        """Change the URL, events, description or `enabled`."""
        return endpoint_resource(service.update_endpoint(current_principal(), endpoint_id, args))

    @requires("webhooks:write")
    @idempotent
    @blp.response(200, DeletedSchema)
    def delete(self, endpoint_id):
        """Delete an endpoint; its pending deliveries go with it."""
        endpoint = service.delete_endpoint(current_principal(), endpoint_id)
        return {"id": endpoint.id, "object": "webhook_endpoint", "deleted": True}


@blp.route("/<endpoint_id>/rotate-secret")
class WebhookRotate(MethodView):
    @requires("webhooks:write")
    @idempotent
    @blp.response(200, WebhookEndpointSchema)
    def post(self, endpoint_id):
        """A new secret; the old one keeps signing beside it for 24 hours."""
        rotated = service.rotate_secret(current_principal(), endpoint_id)
        return endpoint_resource(rotated.endpoint, rotated.secret)


@blp.route("/<endpoint_id>/test")
class WebhookTest(MethodView):
    @requires("webhooks:write")
    @idempotent
    @blp.response(202, WebhookDeliverySchema)
    def post(self, endpoint_id):
        """Send a `ping` event to this endpoint."""
        principal = current_principal()
        delivery_id = service.send_test_ping(principal, endpoint_id)
        deliveries = service.list_deliveries(principal, endpoint_id, limit=1, after_id=None)
        match = [d for d in deliveries if d.id == delivery_id]
        return delivery_resource(match[0]) if match else {"id": delivery_id}


@blp.route("/<endpoint_id>/deliveries")
class WebhookDeliveries(MethodView):
    @requires("webhooks:read")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, WebhookDeliveryListSchema)
    def get(self, args, endpoint_id):
        """The delivery log: status, attempts, response code, duration, body (first 1 KB)."""
        rows = service.list_deliveries(
            current_principal(),
            endpoint_id,
            limit=args["limit"] + 1,
            after_id=decode_cursor(args["cursor"], "dlv"),
        )
        page, has_more, cursor = page_of(rows, args["limit"])
        return list_body([delivery_resource(d) for d in page], has_more, cursor)


@blp.route("/<endpoint_id>/deliveries/<delivery_id>/retry")
class WebhookDeliveryRetry(MethodView):
    @requires("webhooks:write")
    @idempotent
    @blp.response(202, WebhookDeliverySchema)
    def post(self, endpoint_id, delivery_id):
        """Send a delivery now: a finished one (succeeded or given up) again, a pending one
        without waiting for its next attempt. 409 `delivery_in_progress` while it is being
        sent."""
        return delivery_resource(
            service.retry_delivery(current_principal(), endpoint_id, delivery_id)
        )


@events_blp.route("")
class Events(MethodView):
    @requires("invoices:read")
    @events_blp.arguments(EventListArgs, location="query")
    @events_blp.response(200, EventListSchema)
    def get(self, args):
        """Events of the last 30 days, newest first."""
        principal = current_principal()
        return list_body(
            *events.list_events(
                principal.org_id,
                principal.livemode,
                limit=args["limit"],
                cursor=args["cursor"],
                type=args["type"],
            )
        )


@events_blp.route("/<event_id>")
class EventById(MethodView):
    @requires("invoices:read")
    @events_blp.response(200, EventSchema)
    def get(self, event_id):
        """One event."""
        principal = current_principal()
        return events.get_event(principal.org_id, principal.livemode, event_id)
