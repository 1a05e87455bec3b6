"""API keys of the caller's organisation: list, create (the secret shown once), revoke."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import current_principal, requires
from api.blueprint import Blueprint
from api.idempotency import idempotent
from api.schemas import ApiKeyCreateArgs, ApiKeyListSchema, ApiKeySchema
from common.accounts import service
from common.accounts.service import api_key_resource
from common.pagination import list_body

blp = Blueprint("api_keys", __name__, url_prefix="/v1/api-keys", description="API keys.")


@blp.route("")
class ApiKeys(MethodView):
    @requires("settings:write")
    @blp.response(200, ApiKeyListSchema)
    def get(self):
        """Keys of this organisation, with when each was last used (to the minute)."""
        data = [api_key_resource(k) for k in service.list_api_keys(current_principal())]
        return list_body(data)

    @requires("settings:write")
    @idempotent
    @blp.arguments(ApiKeyCreateArgs)
    @blp.response(201, ApiKeySchema)
    def post(self, args):
        """Create a key; its secret is in this answer only. Mode defaults to the caller's."""
        principal = current_principal()
        livemode = principal.livemode if args["mode"] is None else args["mode"] == "live"
        created = service.create_api_key_as(
            principal,
            livemode=livemode,
            scopes=args["scopes"],
            name=args["name"],
            member_id=args["member_id"],
        )
        return api_key_resource(created.key, created.secret)


@blp.route("/<key_id>")
class ApiKeyById(MethodView):
    @requires("settings:write")
    @idempotent
    @blp.response(200, ApiKeySchema)
    def delete(self, key_id):
        """Revoke a key; its next request fails with 401 `invalid_api_key`."""
        return api_key_resource(service.revoke_api_key(current_principal(), key_id))
