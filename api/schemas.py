"""Marshmallow schemas: what requests may carry, and (for the OpenAPI document) what
responses look like."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

import pycountry
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, pre_load, validate

from common.invoice_fields import MAX_AMOUNT, MAX_SIGNIFICANT_DIGITS

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
    # no load_default: the view tells an absent value from one the query repeats
    schema_id = fields.String(
        validate=validate.Length(max=64),
        metadata={
            "description": "The extraction schema (`sch_...`); else the default schema, if "
            "any. May be sent in the query instead."
        },
    )
    split = fields.Boolean(
        metadata={
            "description": "Whether a PDF or TIFF that holds several documents becomes one "
            "invoice per document (default: the organisation's setting, on unless changed)."
        },
    )
    wait = fields.Float(
        validate=validate.Range(min=0, max=30),
        metadata={
            "default": 0,
            "description": "Seconds to wait for extraction (0-30): 200 with the finished "
            "invoice if it completes in time, else 202. May be sent in the query instead.",
        },
    )


class UploadQueryArgs(StrictSchema):
    """An upload's `schema_id` and `wait` as query parameters, as some clients send them."""

    schema_id = fields.String(
        validate=validate.Length(max=64),
        metadata={"description": "As the form field; both given, they must agree."},
    )
    wait = fields.Float(
        validate=validate.Range(min=0, max=30),
        metadata={"description": "As the form field; both given, they must agree."},
    )


class ListArgs(StrictSchema):
    limit = fields.Integer(
        load_default=25,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Items per page, 1-100."},
    )
    cursor = fields.String(
        load_default=None, metadata={"description": "The `next_cursor` of the previous page."}
    )
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(STATUSES),
        metadata={"description": "Only invoices with this extraction status."},
    )
    review_status = fields.String(
        load_default=None,
        validate=validate.OneOf(REVIEW_STATUSES),
        metadata={"description": "Only invoices with this review status."},
    )
    document_type = fields.String(
        load_default=None,
        validate=validate.OneOf(DOCUMENT_TYPES),
        metadata={"description": "Only documents of this type."},
    )
    vendor = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Vendor name contains this (case-insensitive)."},
    )
    currency = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[A-Za-z]{3}$"),
        metadata={"description": "ISO 4217 code, e.g. EUR."},
    )
    date_from = fields.Date(
        load_default=None, metadata={"description": "Invoice date on or after (YYYY-MM-DD)."}
    )
    date_to = fields.Date(
        load_default=None, metadata={"description": "Invoice date on or before (YYYY-MM-DD)."}
    )
    created_after = fields.Integer(
        load_default=None,
        validate=UNIX_SECONDS,
        metadata={"description": "Created after this Unix time (seconds)."},
    )
    created_before = fields.Integer(
        load_default=None,
        validate=UNIX_SECONDS,
        metadata={"description": "Created before this Unix time (seconds)."},
    )
    duplicate = fields.Boolean(
        load_default=None,
        metadata={
            "description": "`true`: only exact duplicates of earlier uploads; `false`: none."
        },
    )


class WaitArgs(StrictSchema):
    wait = fields.Float(
        load_default=0,
        validate=validate.Range(min=0, max=30),
        metadata={"description": "Seconds (0-30) to hold the answer until extraction ends."},
    )


class FileSchema(Schema):
    name = fields.String(metadata={"description": "The uploaded file's name."})
    content_type = fields.String(metadata={"description": "The type sniffed from the bytes."})
    size = fields.Integer(metadata={"description": "Bytes."})
    sha256 = fields.String(metadata={"description": "SHA-256 of the bytes, hex."})
    pages = fields.Integer(allow_none=True, metadata={"description": "Pages (null for XML)."})


UNIT_PRICE_DECIMAL = (
    "The unit price as an exact decimal string (exact decimal) in major units (e.g. `3.3333`"
    " EUR), as the document states it; `unit_price` is it rounded to minor units. Generated"
    " UBL uses it."
)


class LineItemSchema(Schema):
    description = fields.String(allow_none=True, metadata={"description": "Text of the line."})
    quantity = fields.String(
        allow_none=True,
        metadata={"description": 'Quantity, a decimal string (exact decimal, e.g. "2.5").'},
    )
    unit = fields.String(
        allow_none=True, metadata={"description": "Unit of the quantity (e.g. h, pcs)."}
    )
    unit_price = fields.Integer(
        allow_none=True,
        metadata={"description": "Price of one unit, in minor units of `currency`."},
    )
    unit_price_decimal = fields.String(
        allow_none=True, metadata={"description": UNIT_PRICE_DECIMAL}
    )
    total_price = fields.Integer(
        allow_none=True,
        metadata={"description": "The line's total, in minor units of `currency`."},
    )
    tax_rate = fields.String(
        allow_none=True,
        metadata={
            "description": 'Tax rate in percent, a decimal string (exact decimal, e.g. "19.00").'
        },
    )
    tax_amount = fields.Integer(
        allow_none=True,
        metadata={"description": "Tax, in minor units of `currency`."},
    )
    discount_percent = fields.String(
        allow_none=True,
        metadata={
            "description": 'Discount in percent, a decimal string (exact decimal, e.g. "2.00").'
        },
    )
    discount_amount = fields.Integer(
        allow_none=True,
        metadata={"description": "Discount, in minor units of `currency`."},
    )


class TaxBreakdownSchema(Schema):
    rate = fields.String(
        allow_none=True,
        metadata={
            "description": 'Tax rate in percent, a decimal string (exact decimal, e.g. "19.00").'
        },
    )
    taxable_amount = fields.Integer(
        allow_none=True,
        metadata={"description": "Amount the rate applies to, in minor units of `currency`."},
    )
    tax_amount = fields.Integer(
        allow_none=True,
        metadata={"description": "Tax, in minor units of `currency`."},
    )


class WarningSchema(Schema):
    code = fields.String(
        metadata={"description": "Stable code, e.g. `totals_mismatch`, `duplicate_suspected`."}
    )
    message = fields.String(metadata={"description": "For humans; may change."})
    field = fields.String(
        allow_none=True, metadata={"description": "The field it concerns, if one."}
    )
    duplicate_of = fields.String(metadata={"description": "With `duplicate_suspected`."})
    line = fields.Integer(
        metadata={"description": "The line item (1-based) a matching deviation concerns."}
    )


class MatchedDocumentSchema(Schema):
    type = fields.String(metadata={"description": "`quote` or `purchase_order`."})
    id = fields.String(metadata={"description": "`qte_...` or `po_...`."})
    number = fields.String(allow_none=True, metadata={"description": "Its number."})


class ErrorInfoSchema(Schema):
    code = fields.String(metadata={"description": "Stable code of the failure."})
    message = fields.String(metadata={"description": "For humans; may change."})


class SplitPartSchema(Schema):
    class Meta:
        ordered = True

    invoice = fields.String(metadata={"description": "The other invoice (`inv_...`)."})
    first_page = fields.Integer(metadata={"description": "Its first page in the upload (1-based)."})
    last_page = fields.Integer(metadata={"description": "Its last page in the upload."})


class PublishedSchema(Schema):
    target = fields.String(metadata={"description": "`xero` or `quickbooks`."})
    external_id = fields.String(
        metadata={
            "description": "The bill's ID in the provider (Xero InvoiceID, QuickBooks Bill Id)."
        }
    )
    published_at = fields.Integer(metadata={"description": "When, in Unix seconds."})


class InvoiceSchema(Schema):
    class Meta:
        ordered = True

    id = fields.String(metadata={"description": "The object's ID, prefixed with its type."})
    object = fields.String(metadata={"description": "Always `invoice`."})
    livemode = fields.Boolean(
        metadata={"description": "`true` for live data, `false` for test data (the key's mode)."}
    )
    created = fields.Integer(metadata={"description": "When it was created, Unix seconds."})
    updated = fields.Integer(metadata={"description": "When it last changed, Unix seconds."})
    status = fields.String(metadata={"description": "Extraction status.", "enum": list(STATUSES)})
    review_status = fields.String(
        metadata={"description": "Review workflow status.", "enum": list(REVIEW_STATUSES)}
    )
    source_channel = fields.String(
        metadata={
            "description": "How the file arrived: `api` (an upload), `email` (a mailbox; "
            "`metadata` names the mail) or `folder` (`invex watch`).",
            "enum": ["api", "email", "folder"],
        }
    )
    document_type = fields.String(
        metadata={"description": "What the document is.", "enum": list(DOCUMENT_TYPES)}
    )
    source = fields.String(
        allow_none=True,
        metadata={"description": "Where the fields came from: pdf_text, ocr, ubl, cii or facturx."},
    )
    file = fields.Nested(FileSchema, metadata={"description": "The uploaded file."})
    invoice_number = fields.String(
        allow_none=True, metadata={"description": "The invoice's number."}
    )
    invoice_date = fields.String(
        allow_none=True, metadata={"description": "Issue date, YYYY-MM-DD."}
    )
    due_date = fields.String(
        allow_none=True, metadata={"description": "Payment due date, YYYY-MM-DD."}
    )
    currency = fields.String(
        allow_none=True, metadata={"description": "ISO 4217 code of every amount."}
    )
    purchase_order = fields.String(
        allow_none=True, metadata={"description": "The buyer's purchase order number."}
    )
    vendor_name = fields.String(allow_none=True, metadata={"description": "Seller's name."})
    vendor_email = fields.String(allow_none=True, metadata={"description": "Seller's email."})
    vendor_phone = fields.String(allow_none=True, metadata={"description": "Seller's phone."})
    vendor_tax_id = fields.String(
        allow_none=True, metadata={"description": "Seller's VAT or tax ID."}
    )
    vendor_address = fields.String(allow_none=True, metadata={"description": "Seller's address."})
    vendor_iban = fields.String(allow_none=True, metadata={"description": "Seller's IBAN."})
    customer_name = fields.String(allow_none=True, metadata={"description": "Buyer's name."})
    customer_email = fields.String(allow_none=True, metadata={"description": "Buyer's email."})
    customer_phone = fields.String(allow_none=True, metadata={"description": "Buyer's phone."})
    customer_tax_id = fields.String(
        allow_none=True, metadata={"description": "Buyer's VAT or tax ID."}
    )
    customer_address = fields.String(allow_none=True, metadata={"description": "Buyer's address."})
    subtotal_amount = fields.Integer(
        allow_none=True,
        metadata={"description": "Net total before tax, in minor units of `currency`."},
    )
    tax_amount = fields.Integer(
        allow_none=True,
        metadata={"description": "Tax, in minor units of `currency`."},
    )
    total_amount = fields.Integer(
        allow_none=True,
        metadata={"description": "Gross total, in minor units of `currency`."},
    )
    amount_due = fields.Integer(
        allow_none=True,
        metadata={"description": "Still to pay, in minor units of `currency`."},
    )
    discount_amount = fields.Integer(
        allow_none=True,
        metadata={"description": "Discount, in minor units of `currency`."},
    )
    tax_rate = fields.String(
        allow_none=True,
        metadata={
            "description": 'Tax rate in percent, a decimal string (exact decimal, e.g. "19.00").'
        },
    )
    discount_percent = fields.String(
        allow_none=True,
        metadata={
            "description": 'Discount in percent, a decimal string (exact decimal, e.g. "2.00").'
        },
    )
    tax_breakdown = fields.List(
        fields.Nested(TaxBreakdownSchema), metadata={"description": "Tax per rate."}
    )
    payment_terms = fields.String(
        allow_none=True, metadata={"description": "Payment terms as written."}
    )
    payment_method = fields.String(
        allow_none=True, metadata={"description": "How to pay (e.g. transfer)."}
    )
    payment_reference = fields.String(
        allow_none=True, metadata={"description": "Reference to quote when paying."}
    )
    notes = fields.String(allow_none=True, metadata={"description": "Free text."})
    line_items = fields.List(
        fields.Nested(LineItemSchema), metadata={"description": "The invoice's lines."}
    )
    custom_fields = fields.Dict(
        metadata={"description": "Values of the extraction schema's custom fields, by name."}
    )
    extraction_confidence = fields.Float(
        allow_none=True, metadata={"description": "Overall confidence, 0..1."}
    )
    field_confidence = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        metadata={"description": "Confidence per field, 0..1."},
    )
    warnings = fields.List(
        fields.Nested(WarningSchema),
        metadata={"description": "Checks that failed, e.g. totals that do not add up."},
    )
    schema_id = fields.String(
        allow_none=True,
        metadata={
            "description": "The extraction schema used (the default at upload when none was named)."
        },
    )
    metadata = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "Your own keys and values."},
    )
    duplicate_of = fields.String(
        allow_none=True, metadata={"description": "The earlier upload of the same bytes, if any."}
    )
    split_from = fields.Nested(
        SplitPartSchema,
        allow_none=True,
        metadata={"description": "The upload this document was split out of, and its pages."},
    )
    split_into = fields.List(
        fields.Nested(SplitPartSchema),
        metadata={
            "description": "The documents this upload held, each an invoice of its own "
            "(empty unless the file was split)."
        },
    )
    matched_document = fields.Nested(
        MatchedDocumentSchema,
        allow_none=True,
        metadata={"description": "The quote or purchase order it was checked against."},
    )
    published = fields.List(
        fields.Nested(PublishedSchema),
        metadata={"description": "Where the invoice was published as a bill, one per target."},
    )
    error = fields.Nested(
        ErrorInfoSchema,
        allow_none=True,
        metadata={"description": "Why extraction failed (status `failed`)."},
    )


class InvoiceListSchema(Schema):
    object = fields.String(metadata={"description": "Always `list`."})
    data = fields.List(
        fields.Nested(InvoiceSchema), metadata={"description": "The items of this page."}
    )
    has_more = fields.Boolean(metadata={"description": "Whether a next page exists."})
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "`cursor` for the next page, or null."}
    )


class DeletedSchema(Schema):
    id = fields.String(metadata={"description": "The object's ID, prefixed with its type."})
    object = fields.String(metadata={"description": "The deleted object's type."})
    deleted = fields.Boolean(metadata={"description": "Always `true`."})


class PageArgs(StrictSchema):
    limit = fields.Integer(
        load_default=25,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Items per page, 1-100."},
    )
    cursor = fields.String(
        load_default=None, metadata={"description": "The `next_cursor` of the previous page."}
    )


class EventListArgs(PageArgs):
    type = fields.String(load_default=None, metadata={"description": "Only events of this type."})


class WebhookCreateArgs(StrictSchema):
    url = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2048),
        metadata={"description": "HTTPS URL that receives the events."},
    )
    events = fields.List(
        fields.String(),
        load_default=lambda: ["*"],
        metadata={"description": "Event types; `*` or empty for all."},
    )
    description = fields.String(
        load_default="", validate=validate.Length(max=500), metadata={"description": "Your note."}
    )
    enabled = fields.Boolean(
        load_default=True, metadata={"description": "Whether events are sent to it."}
    )


class WebhookUpdateArgs(StrictSchema):
    url = fields.String(
        validate=validate.Length(min=1, max=2048),
        metadata={"description": "HTTPS URL that receives the events."},
    )
    events = fields.List(
        fields.String(), metadata={"description": "Event types; `*` or empty for all."}
    )
    description = fields.String(
        validate=validate.Length(max=500), metadata={"description": "Your note."}
    )
    enabled = fields.Boolean(metadata={"description": "Whether events are sent to it."})


class WebhookEndpointSchema(Schema):
    id = fields.String(metadata={"description": "The object's ID, prefixed with its type."})
    object = fields.String(metadata={"description": "Always `webhook_endpoint`."})
    livemode = fields.Boolean(
        metadata={"description": "`true` for live data, `false` for test data (the key's mode)."}
    )
    url = fields.String(metadata={"description": "HTTPS URL that receives the events."})
    description = fields.String(metadata={"description": "Your note."})
    events = fields.List(
        fields.String(), metadata={"description": "Subscribed event types; empty for all."}
    )
    enabled = fields.Boolean(metadata={"description": "Whether events are sent to it."})
    disabled_reason = fields.String(
        allow_none=True, metadata={"description": "Why it was disabled automatically, if it was."}
    )
    secret = fields.String(metadata={"description": "Only on create and rotate-secret."})
    created = fields.Integer(metadata={"description": "When it was created, Unix seconds."})
    updated = fields.Integer(metadata={"description": "When it last changed, Unix seconds."})


class WebhookDeliverySchema(Schema):
    id = fields.String(metadata={"description": "The object's ID, prefixed with its type."})
    object = fields.String(metadata={"description": "Always `webhook_delivery`."})
    endpoint_id = fields.String(metadata={"description": "The endpoint (`whk_`)."})
    event_id = fields.String(metadata={"description": "The event (`evt_`)."})
    status = fields.String(
        metadata={
            "description": "Delivery status.",
            "enum": ["pending", "sending", "succeeded", "failed"],
        }
    )
    attempts = fields.Integer(metadata={"description": "Attempts made."})
    next_attempt = fields.Integer(
        allow_none=True, metadata={"description": "When the next attempt is due, Unix seconds."}
    )
    last_attempt = fields.Integer(
        allow_none=True, metadata={"description": "When the last attempt was made, Unix seconds."}
    )
    response_status = fields.Integer(
        allow_none=True, metadata={"description": "HTTP status of the last attempt."}
    )
    response_body = fields.String(
        allow_none=True, metadata={"description": "First 1 KB of the last response."}
    )
    duration_ms = fields.Integer(
        allow_none=True, metadata={"description": "Duration of the last attempt, ms."}
    )
    error = fields.String(
        allow_none=True, metadata={"description": "Why the last attempt failed, if no HTTP status."}
    )
    created = fields.Integer(metadata={"description": "When it was created, Unix seconds."})


class EventSchema(Schema):
    id = fields.String(metadata={"description": "The object's ID, prefixed with its type."})
    object = fields.String(metadata={"description": "Always `event`."})
    type = fields.String(metadata={"description": "Event type, e.g. `invoice.succeeded`."})
    created = fields.Integer(metadata={"description": "When it was created, Unix seconds."})
    livemode = fields.Boolean(
        metadata={"description": "`true` for live data, `false` for test data (the key's mode)."}
    )
    data = fields.Dict(metadata={"description": '`{"object": ...}`: the resource as it was.'})


def list_schema(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {
            "object": fields.String(metadata={"description": "Always `list`."}),
            "data": fields.List(
                fields.Nested(item), metadata={"description": "The items of this page."}
            ),
            "has_more": fields.Boolean(metadata={"description": "Whether a next page exists."}),
            "next_cursor": fields.String(
                allow_none=True,
                metadata={"description": "`cursor` for the next page, or null."},
            ),
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


def _decimal_string(example: str) -> Callable[[str | None], None]:
    shape = re.compile(r"-?(\d{1,15})(?:\.(\d{1,15}))?")

    def check(value: str | None) -> None:
        match = shape.fullmatch(value) if value is not None else None
        if value is not None and match is None:
            raise ValidationError(f"A decimal string, e.g. {example}.")
        if match and len((match[1] + (match[2] or "")).lstrip("0")) > MAX_SIGNIFICANT_DIGITS:
            raise ValidationError(f"At most {MAX_SIGNIFICANT_DIGITS} significant digits.")

    return check


UNIT_PRICE = _decimal_string("3.3333")
QUANTITY = _decimal_string("2.5")


def _text(maximum: int = 1000, description: str = "") -> fields.String:
    return fields.String(
        allow_none=True,
        validate=validate.Length(max=maximum),
        metadata={"description": description},
    )


def _amount() -> fields.Integer:
    return fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(
            min=-MAX_AMOUNT, max=MAX_AMOUNT, error="Minor units, below 10**15 in magnitude."
        ),
        metadata={
            "description": "In minor units of `currency` (1250 EUR = 12.50), below 10**15 in"
            " magnitude."
        },
    )


class LineItemArgs(StrictSchema):
    description = _text(description="Text of the line.")
    quantity = fields.String(
        allow_none=True,
        validate=QUANTITY,
        metadata={"description": 'Quantity, a decimal string (exact decimal, e.g. "2.5").'},
    )
    unit = _text(50, description="Unit of the quantity (e.g. h, pcs).")
    unit_price = _amount()
    unit_price_decimal = fields.String(
        allow_none=True, validate=UNIT_PRICE, metadata={"description": UNIT_PRICE_DECIMAL}
    )
    total_price = _amount()
    tax_rate = fields.String(
        allow_none=True,
        validate=RATE,
        metadata={
            "description": 'Tax rate in percent, a decimal string (exact decimal, e.g. "19.00").'
        },
    )
    tax_amount = _amount()
    discount_percent = fields.String(
        allow_none=True,
        validate=RATE,
        metadata={
            "description": 'Discount in percent, a decimal string (exact decimal, e.g. "2.00").'
        },
    )
    discount_amount = _amount()


class TaxBreakdownArgs(StrictSchema):
    rate = fields.String(
        allow_none=True,
        validate=RATE,
        metadata={
            "description": 'Tax rate in percent, a decimal string (exact decimal, e.g. "19.00").'
        },
    )
    taxable_amount = _amount()
    tax_amount = _amount()


class InvoicePatchArgs(StrictSchema):
    """Every invoice field a person may correct; unknown names answer 400 with `param`."""

    invoice_number = _text(200, description="The invoice's number.")
    invoice_date = fields.Date(allow_none=True, metadata={"description": "Issue date, YYYY-MM-DD."})
    due_date = fields.Date(
        allow_none=True, metadata={"description": "Payment due date, YYYY-MM-DD."}
    )
    currency = fields.String(
        allow_none=True,
        validate=check_currency,
        metadata={"description": "ISO 4217 code of every amount."},
    )
    purchase_order = _text(200, description="The buyer's purchase order number.")
    vendor_name = _text(description="Seller's name.")
    vendor_email = fields.Email(allow_none=True, metadata={"description": "Seller's email."})
    vendor_phone = _text(100, description="Seller's phone.")
    vendor_tax_id = _text(100, description="Seller's VAT or tax ID.")
    vendor_address = _text(description="Seller's address.")
    vendor_iban = _text(64, description="Seller's IBAN.")
    customer_name = _text(description="Buyer's name.")
    customer_email = fields.Email(allow_none=True, metadata={"description": "Buyer's email."})
    customer_phone = _text(100, description="Buyer's phone.")
    customer_tax_id = _text(100, description="Buyer's VAT or tax ID.")
    customer_address = _text(description="Buyer's address.")
    subtotal_amount = _amount()
    tax_amount = _amount()
    total_amount = _amount()
    amount_due = _amount()
    discount_amount = _amount()
    tax_rate = fields.String(
        allow_none=True,
        validate=RATE,
        metadata={
            "description": 'Tax rate in percent, a decimal string (exact decimal, e.g. "19.00").'
        },
    )
    discount_percent = fields.String(
        allow_none=True,
        validate=RATE,
        metadata={
            "description": 'Discount in percent, a decimal string (exact decimal, e.g. "2.00").'
        },
    )
    tax_breakdown = fields.List(
        fields.Nested(TaxBreakdownArgs),
        validate=validate.Length(max=50),
        metadata={"description": "Tax per rate; replaces the list."},
    )
    payment_terms = _text(description="Payment terms as written.")
    payment_method = _text(100, description="How to pay (e.g. transfer).")
    payment_reference = _text(200, description="Reference to quote when paying.")
    notes = _text(5000, description="Free text.")
    line_items = fields.List(
        fields.Nested(LineItemArgs),
        validate=validate.Length(max=1000),
        metadata={"description": "The lines; replaces the list."},
    )
    custom_fields = fields.Dict(
        keys=fields.String(validate=validate.Length(max=100)),
        metadata={"description": "Custom field values, by name; replaces them."},
    )
    metadata = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=40)),
        values=fields.String(allow_none=True, validate=validate.Length(max=500)),
        metadata={"description": "Merged into the metadata; a null or empty value removes a key."},
    )


class ExpandArgs(StrictSchema):
    wait = fields.Float(
        load_default=0,
        validate=validate.Range(min=0, max=30),
        metadata={"description": "Seconds (0-30) to hold the answer until extraction ends."},
    )
    expand = fields.List(
        fields.String(validate=validate.OneOf(["extracted"])),
        load_default=list,
        metadata={"description": "`extracted`: add the fields as extracted, before corrections."},
    )


class ReasonArgs(StrictSchema):
    reason = fields.String(
        load_default=None,
        validate=validate.Length(max=1000),
        metadata={"description": "Why; kept in the history."},
    )


class CommentArgs(StrictSchema):
    body = fields.String(
        required=True,
        validate=validate.Length(min=1, max=10000),
        metadata={"description": "The comment's text."},
    )


class CommentSchema(Schema):
    id = fields.String(metadata={"description": "The object's ID, prefixed with its type."})
    object = fields.String(metadata={"description": "Always `comment`."})
    invoice_id = fields.String(metadata={"description": "The invoice (`inv_`)."})
    key_id = fields.String(allow_none=True, metadata={"description": "The API key that wrote it."})
    body = fields.String(metadata={"description": "The comment's text."})
    created = fields.Integer(metadata={"description": "When it was created, Unix seconds."})


class HistoryEntrySchema(Schema):
    object = fields.String(metadata={"description": "Always `history_entry`."})
    kind = fields.String(metadata={"description": "What happened (correction, transition, ...)."})
    field = fields.String(metadata={"description": "The field or status that changed."})
    old = fields.Raw(allow_none=True, metadata={"description": "The value before."})
    new = fields.Raw(allow_none=True, metadata={"description": "The value after."})
    reason = fields.String(allow_none=True, metadata={"description": "The reason given, if any."})
    key_id = fields.String(
        allow_none=True, metadata={"description": "The API key that made the change."}
    )
    created = fields.Integer(metadata={"description": "When it was created, Unix seconds."})


CommentListSchema = list_schema(CommentSchema, "CommentList")
HistoryListSchema = list_schema(HistoryEntrySchema, "HistoryList")


class InvoiceExpandedSchema(InvoiceSchema):
    extracted = fields.Dict(allow_none=True, metadata={"description": "With expand=extracted."})


class CustomFieldArgs(StrictSchema):
    name = fields.String(required=True, metadata={"description": "Lowercase name: a-z, 0-9, _."})
    type = fields.String(
        load_default="string",
        validate=validate.OneOf(["string", "number", "money", "date"]),
        metadata={"description": "string, number, money (minor units) or date."},
    )
    labels = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "Labels that precede the value on the document."},
    )
    pattern = fields.String(
        load_default=None,
        validate=validate.Length(max=500),
        metadata={"description": "RE2 pattern; its first group is the value."},
    )


class SchemaCreateArgs(StrictSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The schema's name."},
    )
    # `fields` would shadow marshmallow's module inside the class body
    custom = fields.List(
        fields.Nested(CustomFieldArgs),
        required=True,
        data_key="fields",
        attribute="fields",
        metadata={"description": "The custom fields."},
    )
    is_default = fields.Boolean(
        load_default=False, metadata={"description": "Use it for uploads that name no schema."}
    )


class SchemaUpdateArgs(StrictSchema):
    name = fields.String(
        validate=validate.Length(min=1, max=200), metadata={"description": "The schema's name."}
    )
    custom = fields.List(
        fields.Nested(CustomFieldArgs),
        data_key="fields",
        attribute="fields",
        metadata={"description": "The custom fields; replaces them."},
    )
    is_default = fields.Boolean(metadata={"description": "Use it for uploads that name no schema."})


class ExtractionSchemaSchema(Schema):
    id = fields.String(metadata={"description": "The object's ID, prefixed with its type."})
    object = fields.String(metadata={"description": "Always `extraction_schema`."})
    livemode = fields.Boolean(
        metadata={"description": "`true` for live data, `false` for test data (the key's mode)."}
    )
    name = fields.String(metadata={"description": "The schema's name."})
    custom = fields.List(
        fields.Dict(),
        data_key="fields",
        attribute="fields",
        metadata={"description": "The custom fields: name, type, labels, pattern."},
    )
    is_default = fields.Boolean(metadata={"description": "Used for uploads that name no schema."})
    created = fields.Integer(metadata={"description": "When it was created, Unix seconds."})
    updated = fields.Integer(metadata={"description": "When it last changed, Unix seconds."})


ExtractionSchemaListSchema = list_schema(ExtractionSchemaSchema, "ExtractionSchemaList")


class ReprocessArgs(StrictSchema):
    schema_id = fields.String(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={"description": "Another extraction schema; else the invoice's."},
    )


class ApiKeyCreateArgs(StrictSchema):
    name = fields.String(
        load_default="", validate=validate.Length(max=200), metadata={"description": "Your label."}
    )
    mode = fields.String(
        load_default=None,
        validate=validate.OneOf(["live", "test"]),
        metadata={"description": "live or test; default the calling key's."},
    )
    scopes = fields.List(
        fields.String(),
        load_default=list,
        metadata={"description": "Scopes; empty for full access."},
    )
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
    id = fields.String(metadata={"description": "The object's ID, prefixed with its type."})
    object = fields.String(metadata={"description": "Always `api_key`."})
    name = fields.String(metadata={"description": "Your label."})
    mode = fields.String(metadata={"description": "live or test."})
    prefix = fields.String(metadata={"description": "The secret's visible start."})
    scopes = fields.List(
        fields.String(), metadata={"description": "Scopes; empty for full access."}
    )
    created = fields.Integer(metadata={"description": "When it was created, Unix seconds."})
    last_used = fields.Integer(
        allow_none=True, metadata={"description": "When it was last used, Unix seconds."}
    )
    revoked = fields.Integer(
        allow_none=True, metadata={"description": "When it was revoked, Unix seconds."}
    )
    member_id = fields.String(
        allow_none=True, metadata={"description": "The member it acts for, if any."}
    )
    secret = fields.String(metadata={"description": "Only in the answer to create."})


ApiKeyListSchema = list_schema(ApiKeySchema, "ApiKeyList")

MEMBER_ROLES = ("owner", "admin", "member", "viewer")
MEMBER_STATUSES = ("active", "inactive", "pending")


class MemberListArgs(PageArgs):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(MEMBER_STATUSES),
        metadata={"description": "Only members with this status."},
    )


class MemberInviteArgs(StrictSchema):
    email = fields.Email(
        required=True,
        validate=validate.Length(max=254),
        metadata={"description": "The member's email."},
    )
    name = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "The member's name."},
    )
    role = fields.String(
        load_default="member",
        validate=validate.OneOf(MEMBER_ROLES),
        metadata={"description": "owner, admin, member or viewer."},
    )


class MemberUpdateArgs(StrictSchema):
    name = fields.String(
        validate=validate.Length(max=200), metadata={"description": "The member's name."}
    )
    role = fields.String(
        validate=validate.OneOf(MEMBER_ROLES),
        metadata={"description": "owner, admin, member or viewer."},
    )


class MemberSchema(Schema):
    id = fields.String(metadata={"description": "The object's ID, prefixed with its type."})
    object = fields.String(metadata={"description": "Always `member`."})
    email = fields.String(metadata={"description": "The member's email."})
    name = fields.String(metadata={"description": "The member's name."})
    role = fields.String(
        metadata={"description": "What the member may do.", "enum": list(MEMBER_ROLES)}
    )
    status = fields.String(
        metadata={"description": "active, inactive or pending.", "enum": list(MEMBER_STATUSES)}
    )
    invited_by = fields.String(allow_none=True, metadata={"description": "The inviting key."})
    created = fields.Integer(metadata={"description": "When it was created, Unix seconds."})
    updated = fields.Integer(metadata={"description": "When it last changed, Unix seconds."})
    activated = fields.Integer(
        allow_none=True, metadata={"description": "When activated, Unix seconds."}
    )
    deactivated = fields.Integer(
        allow_none=True, metadata={"description": "When deactivated, Unix seconds."}
    )


MemberListSchema = list_schema(MemberSchema, "MemberList")


class ErrorDetailSchema(Schema):
    type = fields.String(metadata={"description": "Error family, e.g. `invalid_request_error`."})
    code = fields.String(metadata={"description": "Stable; branch on it."})
    message = fields.String(metadata={"description": "For humans; may change."})
    param = fields.String(metadata={"description": "The parameter at fault, if one."})
    request_id = fields.String(metadata={"description": "This request's ID, as in `Request-Id`."})


class ErrorSchema(Schema):
    """Every error, in the contract's shape."""

    error = fields.Nested(ErrorDetailSchema, metadata={"description": "The error."})


class UsageSchema(Schema):
    object = fields.String(metadata={"description": "Always `usage`."})
    livemode = fields.Boolean(
        metadata={"description": "`true` for live data, `false` for test data (the key's mode)."}
    )
    period = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "`start` and `end` of the month, Unix seconds."},
    )
    invoices = fields.Integer(metadata={"description": "Invoices uploaded this period."})
    pages = fields.Integer(metadata={"description": "Pages uploaded this period."})
    api_calls = fields.Integer(allow_none=True, metadata={"description": "API calls this period."})
    corrections = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(),
        metadata={"description": "Per field: invoices corrected, and their share."},
    )


class CreditsSchema(Schema):
    object = fields.String(metadata={"description": "Always `credits`."})
    plan = fields.String(metadata={"description": "The organisation's plan."})
    plan_monthly_allotment = fields.Integer(
        metadata={"description": "Pages of live uploads the plan includes each month (UTC)."}
    )
    used = fields.Integer(metadata={"description": "Pages of the allotment used this month."})
    subscription = fields.Integer(metadata={"description": "Pages left of this month's allotment."})
    top_up = fields.Integer(
        metadata={"description": "Top-up pages left; used after the allotment, never expire."}
    )
    remaining = fields.Integer(metadata={"description": "`subscription` plus `top_up`."})
    period = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "`start` and `end` of the month, Unix seconds."},
    )


class DiscoveryEndpointSchema(Schema):
    method = fields.String(metadata={"description": "HTTP method."})
    path = fields.String(metadata={"description": "Path, with `{parameters}`."})
    scope = fields.String(
        allow_none=True, metadata={"description": "Scope it requires; null when none."}
    )


class DiscoveryEventTypeSchema(Schema):
    type = fields.String(metadata={"description": "Event type."})
    emitted = fields.Boolean(metadata={"description": "Whether anything sends it yet."})
    note = fields.String(
        allow_none=True, metadata={"description": "Why not, when it is not sent yet."}
    )


class DiscoveryScopeSchema(Schema):
    scope = fields.String(metadata={"description": "Scope."})
    checked = fields.Boolean(metadata={"description": "Whether an endpoint requires it yet."})
    note = fields.String(
        allow_none=True, metadata={"description": "Why not, when nothing requires it yet."}
    )


class DiscoverySchema(Schema):
    object = fields.String(metadata={"description": "Always `discovery`."})
    name = fields.String(metadata={"description": "`Invex`."})
    version = fields.String(metadata={"description": "The URL's major version."})
    openapi = fields.String(metadata={"description": "Path of the OpenAPI document."})
    docs = fields.String(metadata={"description": "Path of the rendered reference."})
    endpoints = fields.List(
        fields.Nested(DiscoveryEndpointSchema),
        metadata={"description": "Every endpoint with its scope."},
    )
    event_types = fields.List(
        fields.Nested(DiscoveryEventTypeSchema),
        metadata={"description": "Every webhook event type."},
    )
    scopes = fields.List(
        fields.Nested(DiscoveryScopeSchema), metadata={"description": "Every key scope."}
    )


class PingSchema(Schema):
    pong = fields.Boolean(metadata={"description": "Always `true`."})
    version = fields.String(metadata={"description": "The URL's major version."})
    status = fields.String(
        metadata={
            "description": "`operational`, or `degraded` (503).",
            "enum": ["operational", "degraded"],
        }
    )
    checks = fields.Dict(
        keys=fields.String(),
        values=fields.Boolean(),
        metadata={"description": "Reachability per dependency (database, broker)."},
    )


EXPORT_FORMATS = (
    "csv",
    "csv_lines",
    "json",
    "ubl",
    "facturx",
    "xero_bills_csv",
    "quickbooks_bills_csv",
    "datev",
)
EXPORT_STATUSES = ("queued", "running", "succeeded", "failed")


class DatevOptionsSchema(StrictSchema):
    """The DATEV client a `datev` export is for (the EXTF header and each booking's
    accounts); what is left out takes its default."""

    consultant_number = fields.Integer(
        load_default=1001,
        validate=validate.Range(1001, 9999999),
        metadata={"description": "Beraternummer (default 1001)."},
    )
    client_number = fields.Integer(
        load_default=1,
        validate=validate.Range(1, 99999),
        metadata={"description": "Mandantennummer (default 1)."},
    )
    fiscal_year_start_month = fields.Integer(
        load_default=1,
        validate=validate.Range(1, 12),
        metadata={"description": "The month the fiscal year starts (WJ-Beginn; default 1)."},
    )
    account_length = fields.Integer(
        load_default=4,
        validate=validate.Range(4, 8),
        metadata={"description": "Sachkontenlänge (default 4)."},
    )
    creditor_account = fields.Integer(
        load_default=70000,
        validate=validate.Range(1, 999999999),
        metadata={"description": "The creditor account booked (Konto; default 70000)."},
    )
    expense_account = fields.Integer(
        load_default=4980,
        validate=validate.Range(1, 99999999),
        metadata={
            "description": "The expense account booked against (Gegenkonto; default 4980, "
            "SKR03 Sonstiger Betriebsbedarf)."
        },
    )
    description = fields.String(
        load_default="Invex Eingangsrechnungen",
        validate=validate.Length(max=30),
        metadata={"description": "The batch's Bezeichnung (at most 30 characters)."},
    )


class ExportCreateArgs(StrictSchema):
    format = fields.String(
        required=True,
        validate=validate.OneOf(EXPORT_FORMATS),
        metadata={"description": "The file format: " + ", ".join(f"`{f}`" for f in EXPORT_FORMATS)},
    )
    status = ListArgs._declared_fields["status"]
    review_status = ListArgs._declared_fields["review_status"]
    document_type = ListArgs._declared_fields["document_type"]
    vendor = ListArgs._declared_fields["vendor"]
    currency = ListArgs._declared_fields["currency"]
    date_from = ListArgs._declared_fields["date_from"]
    date_to = ListArgs._declared_fields["date_to"]
    created_after = ListArgs._declared_fields["created_after"]
    created_before = ListArgs._declared_fields["created_before"]
    include_files = fields.Boolean(
        load_default=False,
        metadata={
            "description": "`true`: a ZIP that also holds each invoice's original file, "
            "as `files/<invoice id>.<ext>`."
        },
    )
    bom = fields.Boolean(
        load_default=False,
        metadata={"description": "`true`: CSV files start with a UTF-8 byte order mark (Excel)."},
    )
    datev = fields.Nested(
        DatevOptionsSchema,
        load_default=None,
        metadata={"description": "`datev` only: the DATEV client's numbers and accounts."},
    )


class ExportErrorSchema(Schema):
    code = fields.String(metadata={"description": "Stable error code."})
    message = fields.String(metadata={"description": "For humans."})


class ExportSchema(Schema):
    id = fields.String(metadata={"description": "The object's ID, prefixed with its type."})
    object = fields.String(metadata={"description": "Always `export`."})
    livemode = fields.Boolean(
        metadata={"description": "`true` for live data, `false` for test data (the key's mode)."}
    )
    status = fields.String(
        metadata={"description": "Where the export is.", "enum": list(EXPORT_STATUSES)}
    )
    format = fields.String(
        metadata={"description": "The file format.", "enum": list(EXPORT_FORMATS)}
    )
    filters = fields.Dict(metadata={"description": "The invoice list's filters it was asked with."})
    include_files = fields.Boolean(metadata={"description": "Whether originals are in the ZIP."})
    bom = fields.Boolean(metadata={"description": "Whether CSV files start with a BOM."})
    datev = fields.Nested(
        DatevOptionsSchema,
        allow_none=True,
        metadata={"description": "The DATEV settings of a `datev` export, else null."},
    )
    invoice_count = fields.Integer(
        allow_none=True, metadata={"description": "Invoices in the file, once succeeded."}
    )
    size = fields.Integer(allow_none=True, metadata={"description": "The file's size in bytes."})
    sha256 = fields.String(
        allow_none=True, metadata={"description": "SHA-256 of the file (also its `ETag`)."}
    )
    file_name = fields.String(
        allow_none=True, metadata={"description": "The download's file name."}
    )
    created = fields.Integer(metadata={"description": "When it was asked for, Unix seconds."})
    completed = fields.Integer(
        allow_none=True, metadata={"description": "When it succeeded or failed, Unix seconds."}
    )
    expires_at = fields.Integer(
        allow_none=True,
        metadata={"description": "When its file is deleted (INVEX_EXPORT_RETENTION_DAYS)."},
    )
    expired = fields.Boolean(metadata={"description": "`true` once the file was deleted."})
    error = fields.Nested(
        ExportErrorSchema, allow_none=True, metadata={"description": "Why it failed, if it did."}
    )


ExportListSchema = list_schema(ExportSchema, "ExportList")
