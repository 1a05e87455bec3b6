"""Accounting integrations (Xero, QuickBooks Online): connect with OAuth 2.0 and PKCE,
status, disconnect, tax code mappings; and publishing an approved invoice as a bill."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import current_principal, requires
from api.blueprint import Blueprint
from api.idempotency import idempotent
from api.integration_schemas import (
    AuthorizationSchema,
    CallbackArgs,
    IntegrationListSchema,
    IntegrationSchema,
    MappingArgs,
    MappingSchema,
    PublicationSchema,
    PublishArgs,
)
from api.views.meta import UNAUTHENTICATED
from common.integrations import publishing, service
from common.integrations.publishing import publication_resource

blp = Blueprint(
    "integrations",
    __name__,
    url_prefix="/v1/integrations",
    description="Connections to Xero and QuickBooks Online (OAuth 2.0 with PKCE).",
)
publish_blp = Blueprint(
    "publish",
    __name__,
    url_prefix="/v1/invoices",
    description="Approved invoices published as supplier bills (queue `publish`).",
)

PROVIDER = "<any(xero,quickbooks):provider>"


@blp.route("/status")
class IntegrationStatus(MethodView):
    @requires("settings:read")
    @blp.response(200, IntegrationListSchema)
    def get(self):
        """Each provider: configured, connected, company, last sync and last error."""
        return service.status(current_principal())


@blp.route(f"/{PROVIDER}/connect")
class Connect(MethodView):
    @requires("settings:write")
    @idempotent
    @blp.response(200, AuthorizationSchema)
    def post(self, provider):
        """Start connecting: send the user to `authorization_url` (valid 10 minutes, once).
        409 `integration_not_configured` without the provider's client ID and secret."""
        return service.start_connection(current_principal(), provider)


@blp.route(f"/{PROVIDER}/callback")
class Callback(MethodView):
    @blp.doc(**UNAUTHENTICATED)
    @blp.arguments(CallbackArgs, location="query")
    @blp.response(200, IntegrationSchema)
    def get(self, args, provider):
        """Where the provider sends the user back. Needs no API key: the single-use
        `state` names the organisation. 400 `invalid_oauth_state` for an unknown, used or
        expired state; 400 `invalid_request_error` when the user declined; 502
        `provider_error` when the code cannot be exchanged."""
        return service.complete_connection(
            provider,
            state=args["state"],
            code=args["code"],
            realm_id=args["realm_id"],
            error=args["error"],
        )


@blp.route(f"/{PROVIDER}")
class Connection(MethodView):
    @requires("settings:write")
    @idempotent
    @blp.response(200, IntegrationSchema)
    def delete(self, provider):
        """Disconnect: the refresh token is revoked at the provider and forgotten."""
        return service.disconnect(current_principal(), provider)


@blp.route(f"/{PROVIDER}/mappings")
class Mappings(MethodView):
    @requires("settings:read")
    @blp.response(200, MappingSchema)
    def get(self, provider):
        """Tax rates to the provider's tax codes, and the default expense account."""
        return service.get_mapping(current_principal(), provider)

    @requires("settings:write")
    @blp.arguments(MappingArgs)
    @blp.response(200, MappingSchema)
    def put(self, args, provider):
        """Replace the mapping."""
        return service.put_mapping(
            current_principal(),
            provider,
            tax_codes=args["tax_codes"],
            expense_account=args["expense_account"],
        )


@publish_blp.route("/<id(inv):invoice_id>/publish")
class Publish(MethodView):
    @requires("publish:xero", "publish:qb")
    @idempotent
    @publish_blp.arguments(PublishArgs)
    @publish_blp.response(202, PublicationSchema)
    def post(self, args, invoice_id):
        """Publish an approved invoice as a bill in `target`; it runs in the background:
        wait for `invoice.published` or `invoice.publish_failed`. Publishing again never
        makes a second bill. 409 `invoice_not_approved`, `integration_not_connected`."""
        publication = publishing.publish_invoice(current_principal(), invoice_id, args["target"])
        return publication_resource(publication)
