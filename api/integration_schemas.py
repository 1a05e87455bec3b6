"""Schemas of the accounting integrations: connections, mappings, publishing."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from api.schemas import ErrorInfoSchema, StrictSchema

PROVIDER_NAMES = ["xero", "quickbooks"]


class IntegrationSchema(Schema):
    object = fields.String(metadata={"description": "Always `integration`."})
    provider = fields.String(metadata={"description": "`xero` or `quickbooks`."})
    configured = fields.Boolean(
        metadata={"description": "Whether the server has this provider's client ID and secret."}
    )
    status = fields.String(
        metadata={
            "description": "`not_configured`, `not_connected`, `connected`, or `revoked` "
            "(the provider refused the stored connection: connect again).",
            "enum": ["not_configured", "not_connected", "connected", "revoked"],
        }
    )
    connected = fields.Boolean(metadata={"description": "`status` is `connected`."})
    tenant_id = fields.String(
        allow_none=True,
        metadata={"description": "Xero tenant ID or QuickBooks realm ID of the company."},
    )
    company_name = fields.String(
        allow_none=True, metadata={"description": "The connected company's name."}
    )
    last_sync = fields.Integer(
        allow_none=True, metadata={"description": "Last successful publication, Unix seconds."}
    )
    last_error = fields.String(
        allow_none=True, metadata={"description": "The provider's last error, in its words."}
    )


class IntegrationListSchema(Schema):
    object = fields.String(metadata={"description": "Always `list`."})
    data = fields.List(
        fields.Nested(IntegrationSchema), metadata={"description": "One per provider."}
    )
    has_more = fields.Boolean(metadata={"description": "Always `false`."})
    next_cursor = fields.String(allow_none=True, metadata={"description": "Always null."})


class AuthorizationSchema(Schema):
    object = fields.String(metadata={"description": "Always `integration_authorization`."})
    provider = fields.String(metadata={"description": "`xero` or `quickbooks`."})
    authorization_url = fields.String(
        metadata={"description": "Send the user here to grant access (single use)."}
    )
    redirect_uri = fields.String(
        metadata={"description": "Where the provider returns the user (register it there)."}
    )
    expires_at = fields.Integer(
        metadata={"description": "Unix seconds after which the authorization is refused."}
    )


class CallbackArgs(Schema):
    class Meta:
        # the providers add parameters of their own (scope, session_state, ...)
        unknown = EXCLUDE

    state = fields.String(
        required=True,
        validate=validate.Length(max=200),
        metadata={"description": "The state of the authorization URL."},
    )
    code = fields.String(
        load_default=None,
        validate=validate.Length(max=4000),
        metadata={"description": "The authorization code."},
    )
    realm_id = fields.String(
        data_key="realmId",  # Intuit's name
        load_default=None,
        validate=validate.Length(max=100),
        metadata={"description": "QuickBooks: the company's realm ID."},
    )
    error = fields.String(
        load_default=None,
        validate=validate.Length(max=500),
        metadata={"description": "The provider's refusal, e.g. `access_denied`."},
    )


class MappingSchema(Schema):
    object = fields.String(metadata={"description": "Always `integration_mapping`."})
    provider = fields.String(metadata={"description": "`xero` or `quickbooks`."})
    tax_codes = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": 'Tax rate (decimal string, "19.00") to the provider\'s tax code.'},
    )
    expense_account = fields.String(
        allow_none=True,
        metadata={"description": "Account for the bill's lines (Xero code, QuickBooks ID)."},
    )
    updated = fields.Integer(allow_none=True, metadata={"description": "Unix seconds."})


class MappingArgs(StrictSchema):
    tax_codes = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=10)),
        values=fields.String(validate=validate.Length(min=1, max=50)),
        load_default=dict,
        metadata={"description": 'Tax rate ("19.00", "7", "0") to the provider\'s tax code.'},
    )
    expense_account = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "Account for the bill's lines (Xero code, QuickBooks ID)."},
    )


class PublishArgs(StrictSchema):
    target = fields.String(
        required=True,
        validate=validate.OneOf(PROVIDER_NAMES),
        metadata={"description": "`xero` (scope `publish:xero`) or `quickbooks` (`publish:qb`)."},
    )


class PublicationSchema(Schema):
    id = fields.String(metadata={"description": "`pub_...`"})
    object = fields.String(metadata={"description": "Always `publication`."})
    invoice_id = fields.String(metadata={"description": "The invoice published."})
    target = fields.String(metadata={"description": "`xero` or `quickbooks`."})
    status = fields.String(
        metadata={
            "description": "Where it is.",
            "enum": ["queued", "running", "succeeded", "failed"],
        }
    )
    external_id = fields.String(
        allow_none=True, metadata={"description": "The bill's ID in the provider, once made."}
    )
    created = fields.Integer(metadata={"description": "Unix seconds."})
    published_at = fields.Integer(allow_none=True, metadata={"description": "Unix seconds."})
    error = fields.Nested(
        ErrorInfoSchema,
        allow_none=True,
        metadata={"description": "Why it failed (`provider_rejected`: the provider's words)."},
    )
