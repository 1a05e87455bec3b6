"""Marshmallow schemas: what requests may carry, and (for the OpenAPI document) what
responses look like."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pycountry
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, pre_load, validate

STATUSES = ("queued", "processing", "succeeded", "failed")
REVIEW_STATUSES = ("received", "approved", "rejected", "paid", "archived")
DOCUMENT_TYPES = ("invoice", "credit_note", "receipt", "quote", "purchase_order", "unknown")
METADATA_MAX_KEYS = 50
# Unix seconds up to the end of year 9999: later ones are no datetime (a 500, not a 400).
UNIX_SECONDS = validate.Range(min=0, max=253_402_300_799)


def is_storable_text(value: str) -> bool:
    """PostgreSQL text holds neither NUL characters nor unpaired UTF-16 surrogates (which
    JSON's `\\ud800` escapes can make); either would fail deep in a query as a 500."""
    if "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def first_unstorable_text(value: object, path: str = "") -> str | None:
    """The dotted path of the first string (or key) in `value` that is not storable text."""
    if isinstance(value, str):
        return None if is_storable_text(value) else path
    if isinstance(value, Mapping):  # webargs' MultiDictProxy too
        for key in value:
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not is_storable_text(key):
                return inner
            found = first_unstorable_text(value[key], inner)
            if found is not None:
                return found
    if isinstance(value, list | tuple):
        for number, item in enumerate(value):
            found = first_unstorable_text(item, f"{path}.{number}" if path else str(number))
            if found is not None:
                return found
    return None


class StrictSchema(Schema):
    class Meta:
        # Unknown parameters are errors with their name as `param`, not silently dropped.
        unknown = "raise"

    @pre_load
    def refuse_unstorable_text(self, data, **kwargs):
        path = first_unstorable_text(data)
        if path is not None:
            raise ValidationError(
                "Text may not contain NUL characters or unpaired surrogates.",
                field_name=path or "_schema",
            )
        return data


def check_metadata(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationError("metadata must be a JSON object of strings.")
    if len(value) > METADATA_MAX_KEYS:
        raise ValidationError(f"metadata holds at most {METADATA_MAX_KEYS} keys.")
    for key, item in value.items():
        if not isinstance(item, str) or not 1 <= len(key) <= 40 or len(item) > 500:
            raise ValidationError(
                "metadata keys are 1-40 characters, values strings of at most 500."
            )
    return value


class MetadataField(fields.Field):
    """A JSON object of strings, sent as a JSON text in a form field."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValidationError("metadata must be a JSON object.") from None
        return check_metadata(value)


class UploadArgs(StrictSchema):
    file = Upload(
        required=True,
        metadata={
            "description": "PDF, PNG, JPEG, TIFF, WebP or UBL/CII XML; at most 20 MB and 50 pages."
        },
    )
    metadata = MetadataField(load_default=dict, metadata={"description": "JSON object of strings."})
    schema_id = fields.String(load_default=None, validate=validate.Length(max=64))
    wait = fields.Float(
        load_default=0,
        validate=validate.Range(min=0, max=30),
        metadata={
            "description": "Seconds to wait for extraction (0-30): 200 with the finished "
            "invoice if it completes in time, else 202."
        },
    )


class ListArgs(StrictSchema):
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    review_status = fields.String(load_default=None, validate=validate.OneOf(REVIEW_STATUSES))
    document_type = fields.String(load_default=None, validate=validate.OneOf(DOCUMENT_TYPES))
    vendor = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    currency = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z]{3}$"))
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    created_after = fields.Integer(load_default=None, validate=UNIX_SECONDS)
    created_before = fields.Integer(load_default=None, validate=UNIX_SECONDS)
    duplicate = fields.Boolean(load_default=None)


class WaitArgs(StrictSchema):
    wait = fields.Float(load_default=0, validate=validate.Range(min=0, max=30))


class FileSchema(Schema):
    name = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    pages = fields.Integer(allow_none=True)


class LineItemSchema(Schema):
    description = fields.String(allow_none=True)
    quantity = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    unit_price = fields.Integer(allow_none=True)
    total_price = fields.Integer(allow_none=True)
    tax_rate = fields.String(allow_none=True)
    tax_amount = fields.Integer(allow_none=True)
    discount_percent = fields.String(allow_none=True)
    discount_amount = fields.Integer(allow_none=True)


class TaxBreakdownSchema(Schema):
    rate = fields.String(allow_none=True)
    taxable_amount = fields.Integer(allow_none=True)
    tax_amount = fields.Integer(allow_none=True)


class WarningSchema(Schema):
    code = fields.String()
    message = fields.String()
    field = fields.String(allow_none=True)
    duplicate_of = fields.String(metadata={"description": "With `duplicate_suspected`."})


class ErrorInfoSchema(Schema):
    code = fields.String()
    message = fields.String()


class InvoiceSchema(Schema):
    class Meta:
        ordered = True

    id = fields.String()
    object = fields.String()
    livemode = fields.Boolean()
    created = fields.Integer()
    updated = fields.Integer()
    status = fields.String(metadata={"enum": list(STATUSES)})
    review_status = fields.String(metadata={"enum": list(REVIEW_STATUSES)})
    document_type = fields.String(metadata={"enum": list(DOCUMENT_TYPES)})
    source = fields.String(allow_none=True)
    file = fields.Nested(FileSchema)
    invoice_number = fields.String(allow_none=True)
    invoice_date = fields.String(allow_none=True)
    due_date = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)
    purchase_order = fields.String(allow_none=True)
    vendor_name = fields.String(allow_none=True)
    vendor_email = fields.String(allow_none=True)
    vendor_phone = fields.String(allow_none=True)
    vendor_tax_id = fields.String(allow_none=True)
    vendor_address = fields.String(allow_none=True)
    vendor_iban = fields.String(allow_none=True)
    customer_name = fields.String(allow_none=True)
    customer_email = fields.String(allow_none=True)
    customer_phone = fields.String(allow_none=True)
    customer_tax_id = fields.String(allow_none=True)
    customer_address = fields.String(allow_none=True)
    subtotal_amount = fields.Integer(allow_none=True)
    tax_amount = fields.Integer(allow_none=True)
    total_amount = fields.Integer(allow_none=True)
    amount_due = fields.Integer(allow_none=True)
    discount_amount = fields.Integer(allow_none=True)
    tax_rate = fields.String(allow_none=True)
    discount_percent = fields.String(allow_none=True)
    tax_breakdown = fields.List(fields.Nested(TaxBreakdownSchema))
    payment_terms = fields.String(allow_none=True)
    payment_method = fields.String(allow_none=True)
    payment_reference = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    line_items = fields.List(fields.Nested(LineItemSchema))
    custom_fields = fields.Dict()
    extraction_confidence = fields.Float(allow_none=True)
    field_confidence = fields.Dict(keys=fields.String(), values=fields.Float())
    warnings = fields.List(fields.Nested(WarningSchema))
    schema_id = fields.String(allow_none=True)
    metadata = fields.Dict(keys=fields.String(), values=fields.String())
    duplicate_of = fields.String(allow_none=True)
    error = fields.Nested(ErrorInfoSchema, allow_none=True)


class InvoiceListSchema(Schema):
    object = fields.String()
    data = fields.List(fields.Nested(InvoiceSchema))
    has_more = fields.Boolean()
    next_cursor = fields.String(allow_none=True)


class DeletedSchema(Schema):
    id = fields.String()
    object = fields.String()
    deleted = fields.Boolean()


class PageArgs(StrictSchema):
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None)


class EventListArgs(PageArgs):
    type = fields.String(load_default=None)


class WebhookCreateArgs(StrictSchema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    events = fields.List(
        fields.String(),
        load_default=lambda: ["*"],
        metadata={"description": "Event types; `*` or empty for all."},
    )
    description = fields.String(load_default="", validate=validate.Length(max=500))
    enabled = fields.Boolean(load_default=True)


class WebhookUpdateArgs(StrictSchema):
    url = fields.String(validate=validate.Length(min=1, max=2048))
    events = fields.List(fields.String())
    description = fields.String(validate=validate.Length(max=500))
    enabled = fields.Boolean()


class WebhookEndpointSchema(Schema):
    id = fields.String()
    object = fields.String()
    livemode = fields.Boolean()
    url = fields.String()
    description = fields.String()
    events = fields.List(fields.String())
    enabled = fields.Boolean()
    disabled_reason = fields.String(allow_none=True)
    secret = fields.String(metadata={"description": "Only on create and rotate-secret."})
    created = fields.Integer()
    updated = fields.Integer()


class WebhookDeliverySchema(Schema):
    id = fields.String()
    object = fields.String()
    endpoint_id = fields.String()
    event_id = fields.String()
    status = fields.String(metadata={"enum": ["pending", "sending", "succeeded", "failed"]})
    attempts = fields.Integer()
    next_attempt = fields.Integer(allow_none=True)
    last_attempt = fields.Integer(allow_none=True)
    response_status = fields.Integer(allow_none=True)
    response_body = fields.String(allow_none=True)
    duration_ms = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    created = fields.Integer()


class EventSchema(Schema):
    id = fields.String()
    object = fields.String()
    type = fields.String()
    created = fields.Integer()
    livemode = fields.Boolean()
    data = fields.Dict()


def list_schema(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {
            "object": fields.String(),
            "data": fields.List(fields.Nested(item)),
            "has_more": fields.Boolean(),
            "next_cursor": fields.String(allow_none=True),
        },
        name=name,
    )


WebhookEndpointListSchema = list_schema(WebhookEndpointSchema, "WebhookEndpointList")
WebhookDeliveryListSchema = list_schema(WebhookDeliverySchema, "WebhookDeliveryList")
EventListSchema = list_schema(EventSchema, "EventList")


def check_currency(value: str) -> None:
    if pycountry.currencies.get(alpha_3=value) is None:
        raise ValidationError("Not an ISO 4217 currency code.")


RATE = validate.Regexp(r"^-?\d{1,3}(\.\d{1,4})?$", error="A rate is a decimal string, e.g. 19.00.")
QUANTITY = validate.Regexp(r"^-?\d{1,12}(\.\d{1,6})?$", error="A decimal string, e.g. 2.5.")


def _text(maximum: int = 1000) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=maximum))


def _amount() -> fields.Integer:
    return fields.Integer(
        strict=True, allow_none=True, metadata={"description": "Minor units of the currency."}
    )


class LineItemArgs(StrictSchema):
    description = _text()
    quantity = fields.String(allow_none=True, validate=QUANTITY)
    unit = _text(50)
    unit_price = _amount()
    total_price = _amount()
    tax_rate = fields.String(allow_none=True, validate=RATE)
    tax_amount = _amount()
    discount_percent = fields.String(allow_none=True, validate=RATE)
    discount_amount = _amount()


class TaxBreakdownArgs(StrictSchema):
    rate = fields.String(allow_none=True, validate=RATE)
    taxable_amount = _amount()
    tax_amount = _amount()


class InvoicePatchArgs(StrictSchema):
    """Every invoice field a person may correct; unknown names answer 400 with `param`."""

    invoice_number = _text(200)
    invoice_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    currency = fields.String(allow_none=True, validate=check_currency)
    purchase_order = _text(200)
    vendor_name = _text()
    vendor_email = fields.Email(allow_none=True)
    vendor_phone = _text(100)
    vendor_tax_id = _text(100)
    vendor_address = _text()
    vendor_iban = _text(64)
    customer_name = _text()
    customer_email = fields.Email(allow_none=True)
    customer_phone = _text(100)
    customer_tax_id = _text(100)
    customer_address = _text()
    subtotal_amount = _amount()
    tax_amount = _amount()
    total_amount = _amount()
    amount_due = _amount()
    discount_amount = _amount()
    tax_rate = fields.String(allow_none=True, validate=RATE)
    discount_percent = fields.String(allow_none=True, validate=RATE)
    tax_breakdown = fields.List(fields.Nested(TaxBreakdownArgs), validate=validate.Length(max=50))
    payment_terms = _text()
    payment_method = _text(100)
    payment_reference = _text(200)
    notes = _text(5000)
    line_items = fields.List(fields.Nested(LineItemArgs), validate=validate.Length(max=1000))
    custom_fields = fields.Dict(keys=fields.String(validate=validate.Length(max=100)))
    metadata = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=40)),
        values=fields.String(allow_none=True, validate=validate.Length(max=500)),
        metadata={"description": "Merged into the metadata; a null or empty value removes a key."},
    )


class ExpandArgs(StrictSchema):
    wait = fields.Float(load_default=0, validate=validate.Range(min=0, max=30))
    expand = fields.List(fields.String(validate=validate.OneOf(["extracted"])), load_default=list)


class ReasonArgs(StrictSchema):
    reason = fields.String(load_default=None, validate=validate.Length(max=1000))


class CommentArgs(StrictSchema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=10000))


class CommentSchema(Schema):
    id = fields.String()
    object = fields.String()
    invoice_id = fields.String()
    key_id = fields.String(allow_none=True)
    body = fields.String()
    created = fields.Integer()


class HistoryEntrySchema(Schema):
    object = fields.String()
    kind = fields.String()
    field = fields.String()
    old = fields.Raw(allow_none=True)
    new = fields.Raw(allow_none=True)
    reason = fields.String(allow_none=True)
    key_id = fields.String(allow_none=True)
    created = fields.Integer()


CommentListSchema = list_schema(CommentSchema, "CommentList")
HistoryListSchema = list_schema(HistoryEntrySchema, "HistoryList")


class InvoiceExpandedSchema(InvoiceSchema):
    extracted = fields.Dict(allow_none=True, metadata={"description": "With expand=extracted."})


class CustomFieldArgs(StrictSchema):
    name = fields.String(required=True)
    type = fields.String(
        load_default="string", validate=validate.OneOf(["string", "number", "money", "date"])
    )
    labels = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=list,
        validate=validate.Length(max=20),
    )
    pattern = fields.String(load_default=None, validate=validate.Length(max=500))


class SchemaCreateArgs(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    # `fields` would shadow marshmallow's module inside the class body
    custom = fields.List(
        fields.Nested(CustomFieldArgs), required=True, data_key="fields", attribute="fields"
    )
    is_default = fields.Boolean(load_default=False)


class SchemaUpdateArgs(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    custom = fields.List(fields.Nested(CustomFieldArgs), data_key="fields", attribute="fields")
    is_default = fields.Boolean()


class ExtractionSchemaSchema(Schema):
    id = fields.String()
    object = fields.String()
    livemode = fields.Boolean()
    name = fields.String()
    custom = fields.List(fields.Dict(), data_key="fields", attribute="fields")
    is_default = fields.Boolean()
    created = fields.Integer()
    updated = fields.Integer()


ExtractionSchemaListSchema = list_schema(ExtractionSchemaSchema, "ExtractionSchemaList")


class ReprocessArgs(StrictSchema):
    schema_id = fields.String(load_default=None, validate=validate.Length(max=64))


class ApiKeyCreateArgs(StrictSchema):
    name = fields.String(load_default="", validate=validate.Length(max=200))
    mode = fields.String(load_default=None, validate=validate.OneOf(["live", "test"]))
    scopes = fields.List(fields.String(), load_default=list)
    member_id = fields.String(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={
            "description": "Tie the key to a member: it works only while the member is "
            "active, within the member's role. A key acting for a member makes keys for "
            "that member only (and by default)."
        },
    )


class ApiKeySchema(Schema):
    id = fields.String()
    object = fields.String()
    name = fields.String()
    mode = fields.String()
    prefix = fields.String()
    scopes = fields.List(fields.String())
    created = fields.Integer()
    last_used = fields.Integer(allow_none=True)
    revoked = fields.Integer(allow_none=True)
    member_id = fields.String(allow_none=True)
    secret = fields.String(metadata={"description": "Only in the answer to create."})


ApiKeyListSchema = list_schema(ApiKeySchema, "ApiKeyList")

MEMBER_ROLES = ("owner", "admin", "member", "viewer")
MEMBER_STATUSES = ("active", "inactive", "pending")


class MemberListArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(MEMBER_STATUSES))


class MemberInviteArgs(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(load_default="", validate=validate.Length(max=200))
    role = fields.String(load_default="member", validate=validate.OneOf(MEMBER_ROLES))


class MemberUpdateArgs(StrictSchema):
    name = fields.String(validate=validate.Length(max=200))
    role = fields.String(validate=validate.OneOf(MEMBER_ROLES))


class MemberSchema(Schema):
    id = fields.String()
    object = fields.String()
    email = fields.String()
    name = fields.String()
    role = fields.String(metadata={"enum": list(MEMBER_ROLES)})
    status = fields.String(metadata={"enum": list(MEMBER_STATUSES)})
    invited_by = fields.String(allow_none=True, metadata={"description": "The inviting key."})
    created = fields.Integer()
    updated = fields.Integer()
    activated = fields.Integer(allow_none=True)
    deactivated = fields.Integer(allow_none=True)


MemberListSchema = list_schema(MemberSchema, "MemberList")


class ErrorDetailSchema(Schema):
    type = fields.String()
    code = fields.String(metadata={"description": "Stable; branch on it."})
    message = fields.String(metadata={"description": "For humans; may change."})
    param = fields.String()
    request_id = fields.String()


class ErrorSchema(Schema):
    """Every error, in the contract's shape."""

    error = fields.Nested(ErrorDetailSchema)


class UsageSchema(Schema):
    object = fields.String()
    livemode = fields.Boolean()
    period = fields.Dict(keys=fields.String(), values=fields.Integer())
    invoices = fields.Integer()
    pages = fields.Integer()
    api_calls = fields.Integer(allow_none=True)
    corrections = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(),
        metadata={"description": "Per field: invoices corrected, and their share."},
    )


class CreditsSchema(Schema):
    object = fields.String()
    plan = fields.String()
    plan_monthly_allotment = fields.Integer(
        metadata={"description": "Pages of live uploads the plan includes each month (UTC)."}
    )
    used = fields.Integer(metadata={"description": "Pages of the allotment used this month."})
    subscription = fields.Integer(metadata={"description": "Pages left of this month's allotment."})
    top_up = fields.Integer(
        metadata={"description": "Top-up pages left; used after the allotment, never expire."}
    )
    remaining = fields.Integer(metadata={"description": "`subscription` plus `top_up`."})
    period = fields.Dict(keys=fields.String(), values=fields.Integer())


class DiscoveryEndpointSchema(Schema):
    method = fields.String()
    path = fields.String()
    scope = fields.String(allow_none=True)


class DiscoverySchema(Schema):
    object = fields.String()
    name = fields.String()
    version = fields.String()
    openapi = fields.String()
    docs = fields.String()
    endpoints = fields.List(fields.Nested(DiscoveryEndpointSchema))


class PingSchema(Schema):
    pong = fields.Boolean()
    version = fields.String()
    status = fields.String(metadata={"enum": ["operational", "degraded"]})
    checks = fields.Dict(keys=fields.String(), values=fields.Boolean())
