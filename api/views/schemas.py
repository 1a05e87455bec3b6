"""Extraction schemas: the custom fields read into `custom_fields`."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import current_principal, requires
from api.blueprint import Blueprint
from api.idempotency import idempotent
from api.schemas import (
    DeletedSchema,
    ExtractionSchemaListSchema,
    ExtractionSchemaSchema,
    SchemaCreateArgs,
    SchemaUpdateArgs,
)
from common.pagination import list_body
from common.schemas import service
from common.schemas.service import schema_resource

blp = Blueprint(
    "schemas", __name__, url_prefix="/v1/schemas", description="Custom fields to extract."
)


@blp.route("")
class Schemas(MethodView):
    @requires("settings:read")
    @blp.response(200, ExtractionSchemaListSchema)
    def get(self):
        """List extraction schemas."""
        data = [schema_resource(s) for s in service.list_schemas(current_principal())]
        return list_body(data)

    @requires("settings:write")
    @idempotent
    @blp.arguments(SchemaCreateArgs)
    @blp.response(201, ExtractionSchemaSchema)
    def post(self, args):
        """Create a schema; `is_default` makes it apply to uploads that name none."""
        return schema_resource(service.create_schema(current_principal(), **args))


@blp.route("/<schema_id>")
class SchemaById(MethodView):
    @requires("settings:read")
    @blp.response(200, ExtractionSchemaSchema)
    def get(self, schema_id):
        """One schema."""
        return schema_resource(service.get_schema(current_principal(), schema_id))

    @requires("settings:write")
    @idempotent
    @blp.arguments(SchemaUpdateArgs)
    @blp.response(200, ExtractionSchemaSchema)
    def patch(self, args, schema_id):
        """Change the name, the fields or whether it is the default."""
        return schema_resource(service.update_schema(current_principal(), schema_id, args))

    @requires("settings:write")
    @idempotent
    @blp.response(200, DeletedSchema)
    def delete(self, schema_id):
        """Delete a schema (invoices extracted with it keep their custom fields)."""
        schema = service.delete_schema(current_principal(), schema_id)
        return {"id": schema.id, "object": "extraction_schema", "deleted": True}
