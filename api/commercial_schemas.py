"""Request and response schemas of /v1/quotes, /v1/purchase-orders and /v1/matching."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas import (
    LineItemArgs,
    LineItemSchema,
    PageArgs,
    StrictSchema,
    _amount,
    _text,
    check_currency,
)
from common.commercial.service import PO_STATUSES, QUOTE_STATUSES

MAX_LINES = 500


class QuoteListArgs(PageArgs):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(QUOTE_STATUSES),
        metadata={"description": "Only quotes in this state."},
    )


class PurchaseOrderListArgs(PageArgs):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(PO_STATUSES),
        metadata={"description": "Only purchase orders in this state."},
    )


class _DocumentSchema(Schema):
    class Meta:
        ordered = True

    id = fields.String(metadata={"description": "The object's ID, prefixed with its type."})
    object = fields.String(metadata={"description": "`quote` or `purchase_order`."})
    livemode = fields.Boolean(metadata={"description": "`true` for live data."})
    created = fields.Integer(metadata={"description": "Unix seconds."})
    updated = fields.Integer(metadata={"description": "Unix seconds."})
    status_reason = fields.String(allow_none=True, metadata={"description": "Why it moved."})
    source = fields.String(metadata={"description": "`upload` (extracted) or `api` (JSON)."})
    upload_id = fields.String(
        allow_none=True, metadata={"description": "The upload (`inv_...`) it was extracted from."}
    )
    number = fields.String(allow_none=True, metadata={"description": "Its number."})
    vendor_name = fields.String(allow_none=True, metadata={"description": "The supplier."})
    vendor_tax_id = fields.String(allow_none=True, metadata={"description": "Its VAT or tax ID."})
    customer_name = fields.String(allow_none=True, metadata={"description": "The buyer."})
    currency = fields.String(allow_none=True, metadata={"description": "ISO 4217."})
    date = fields.String(allow_none=True, metadata={"description": "Issue date, YYYY-MM-DD."})
    subtotal_amount = fields.Integer(allow_none=True, metadata={"description": "Minor units."})
    tax_amount = fields.Integer(allow_none=True, metadata={"description": "Minor units."})
    total_amount = fields.Integer(allow_none=True, metadata={"description": "Minor units."})
    line_items = fields.List(fields.Nested(LineItemSchema), metadata={"description": "Lines."})
    metadata = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "Your own."}
    )
    invoices = fields.List(
        fields.String(), metadata={"description": "Invoices matched against it (`inv_...`)."}
    )
    invoiced_amount = fields.Integer(
        metadata={"description": "What those invoices bill, minor units (net when it has a net)."}
    )


class QuoteSchema(_DocumentSchema):
    status = fields.String(metadata={"description": "State.", "enum": list(QUOTE_STATUSES)})
    valid_until = fields.String(
        allow_none=True, metadata={"description": "Last day it holds, YYYY-MM-DD."}
    )


class PurchaseOrderSchema(_DocumentSchema):
    status = fields.String(metadata={"description": "State.", "enum": list(PO_STATUSES)})


class QuoteListSchema(Schema):
    object = fields.String(metadata={"description": "Always `list`."})
    data = fields.List(fields.Nested(QuoteSchema), metadata={"description": "The page."})
    has_more = fields.Boolean(metadata={"description": "Whether more follow."})
    next_cursor = fields.String(allow_none=True, metadata={"description": "Next page's cursor."})


class PurchaseOrderListSchema(QuoteListSchema):
    data = fields.List(fields.Nested(PurchaseOrderSchema), metadata={"description": "The page."})


class PurchaseOrderCreateArgs(StrictSchema):
    number = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The order's number, as invoices will reference it."},
    )
    vendor_name = _text(description="The supplier.")
    vendor_tax_id = _text(100, description="Its VAT or tax ID.")
    customer_name = _text(description="The buyer.")
    currency = fields.String(
        required=True, validate=check_currency, metadata={"description": "ISO 4217."}
    )
    date = fields.Date(
        allow_none=True,
        data_key="date",
        attribute="document_date",
        metadata={"description": "Order date, YYYY-MM-DD."},
    )
    subtotal_amount = _amount()
    tax_amount = _amount()
    total_amount = _amount()
    line_items = fields.List(
        fields.Nested(LineItemArgs),
        load_default=list,
        validate=validate.Length(max=MAX_LINES),
        attribute="lines",
        metadata={"description": f"At most {MAX_LINES} lines."},
    )
    metadata = fields.Dict(
        keys=fields.String(validate=validate.Length(max=40)),
        values=fields.String(validate=validate.Length(max=500)),
        load_default=dict,
        validate=validate.Length(max=50),
        metadata={"description": "Your own keys and values (at most 50)."},
    )


class PurchaseOrderPatchArgs(StrictSchema):
    """The fields a PATCH may change; those left out keep their values."""

    number = fields.String(
        validate=validate.Length(min=1, max=200), metadata={"description": "The order's number."}
    )
    vendor_name = _text(description="The supplier.")
    vendor_tax_id = _text(100, description="Its VAT or tax ID.")
    customer_name = _text(description="The buyer.")
    currency = fields.String(validate=check_currency, metadata={"description": "ISO 4217."})
    date = fields.Date(
        allow_none=True,
        data_key="date",
        attribute="document_date",
        metadata={"description": "Order date, YYYY-MM-DD."},
    )
    subtotal_amount = _amount()
    tax_amount = _amount()
    total_amount = _amount()
    line_items = fields.List(
        fields.Nested(LineItemArgs),
        validate=validate.Length(max=MAX_LINES),
        attribute="lines",
        metadata={"description": f"At most {MAX_LINES} lines; replaces them all."},
    )
    metadata = fields.Dict(
        keys=fields.String(validate=validate.Length(max=40)),
        values=fields.String(validate=validate.Length(max=500)),
        validate=validate.Length(max=50),
        metadata={"description": "Your own keys and values (at most 50); replaces them."},
    )


class MatchingSettingsSchema(Schema):
    object = fields.String(metadata={"description": "Always `matching_settings`."})
    price_percent = fields.String(
        metadata={
            "description": "A unit price may exceed the agreed one by this percentage "
            '(exact decimal, e.g. "2.00").'
        }
    )
    quantity = fields.String(
        metadata={"description": "A line may bill this many units above the ordered quantity."}
    )
    amount = fields.Integer(
        metadata={"description": "Totals may exceed the order's by this much, minor units."}
    )
    auto_approve = fields.Boolean(
        metadata={"description": "Approve an invoice that matches without a deviation."}
    )


class MatchingSettingsArgs(StrictSchema):
    price_percent = fields.String(
        validate=validate.Regexp(r"^\d{1,4}(\.\d{1,2})?$", error='A percentage, e.g. "2.00".'),
        metadata={"description": 'Percent, 0-9999.99 (exact decimal, e.g. "2.00").'},
    )
    quantity = fields.String(
        validate=validate.Regexp(r"^\d{1,7}(\.\d{1,3})?$", error='A quantity, e.g. "2".'),
        metadata={"description": 'Units, 0-9999999.999 (exact decimal, e.g. "2").'},
    )
    amount = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=10**12),
        metadata={"description": "Minor units."},
    )
    auto_approve = fields.Boolean(metadata={"description": "Approve clean matches."})
