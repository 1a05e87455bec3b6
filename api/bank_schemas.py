"""Request and response schemas of /v1/bank (bank statements and reconciliation)."""

from __future__ import annotations

import json

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate

from api.schemas import PageArgs, StrictSchema
from common.bank.statements.csv_statement import OPTIONS, PRESETS, ROLES

STATEMENT_STATUSES = ("queued", "processing", "processed", "failed")
STATEMENT_FORMATS = ("camt.052", "camt.053", "camt.054", "mt940", "ofx", "csv")


class MappingField(fields.Field):
    """A CSV column mapping, sent as a JSON text in a form field."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValidationError("mapping must be a JSON object.") from None
        if not isinstance(value, dict):
            raise ValidationError("mapping must be a JSON object.")
        unknown = set(value) - set(ROLES) - set(OPTIONS)
        if unknown:
            raise ValidationError(f"Unknown mapping key {min(unknown)!r}.")
        if any(not isinstance(v, str) or len(v) > 200 for v in value.values()):
            raise ValidationError("mapping values must be strings of at most 200 characters.")
        preset = value.get("preset")
        if preset is not None and preset not in PRESETS:
            raise ValidationError(f"Unknown preset {preset!r}; known: {', '.join(PRESETS)}.")
        return value


class StatementUploadArgs(StrictSchema):
    file = Upload(
        required=True,
        metadata={
            "description": "camt.052/053/054 XML, MT940, OFX (SGML or XML) or CSV; the "
            "format is detected."
        },
    )
    mapping = MappingField(
        load_default=None,
        metadata={
            "description": "CSV only, a JSON object: column names by role ("
            + ", ".join(f"`{r}`" for r in ROLES)
            + ") and options ("
            + ", ".join(f"`{o}`" for o in OPTIONS)
            + "); `preset` is one of "
            + ", ".join(f"`{p}`" for p in PRESETS)
            + ". What it does not name is detected."
        },
    )


class StatementErrorSchema(Schema):
    code = fields.String(metadata={"description": "Stable: `unprocessable_statement`, ..."})
    message = fields.String(metadata={"description": "For humans; names the line or element."})


class StatementSchema(Schema):
    id = fields.String(metadata={"description": "`bst_...`"})
    object = fields.String(metadata={"description": "Always `bank_statement`."})
    livemode = fields.Boolean(metadata={"description": "`true` for live data."})
    status = fields.String(
        metadata={"description": "Where parsing is.", "enum": list(STATEMENT_STATUSES)}
    )
    format = fields.String(
        allow_none=True,
        metadata={
            "description": "The format (`camt` until parsed): " + ", ".join(STATEMENT_FORMATS)
        },
    )
    file_name = fields.String(metadata={"description": "The uploaded file's name."})
    size = fields.Integer(metadata={"description": "The file's size in bytes."})
    sha256 = fields.String(metadata={"description": "SHA-256 of the file."})
    account_iban = fields.String(allow_none=True, metadata={"description": "The account."})
    currency = fields.String(allow_none=True, metadata={"description": "ISO 4217."})
    statement_reference = fields.String(
        allow_none=True, metadata={"description": "The bank's statement ID (camt Id, MT940 :20:)."}
    )
    period_start = fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    period_end = fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    opening_balance = fields.Integer(allow_none=True, metadata={"description": "Minor units."})
    closing_balance = fields.Integer(allow_none=True, metadata={"description": "Minor units."})
    transaction_count = fields.Integer(
        allow_none=True, metadata={"description": "Transactions imported from it."}
    )
    duplicate_count = fields.Integer(
        allow_none=True,
        metadata={"description": "Its transactions already imported from another statement."},
    )
    duplicate_of = fields.String(
        allow_none=True,
        metadata={"description": "An earlier statement with the same account and reference."},
    )
    created = fields.Integer(metadata={"description": "Unix seconds."})
    processed = fields.Integer(allow_none=True, metadata={"description": "Unix seconds."})
    error = fields.Nested(
        StatementErrorSchema, allow_none=True, metadata={"description": "Why it failed."}
    )


class StatementListSchema(Schema):
    object = fields.String(metadata={"description": "Always `list`."})
    data = fields.List(fields.Nested(StatementSchema), metadata={"description": "The page."})
    has_more = fields.Boolean(metadata={"description": "Whether more follow."})
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "The next page's cursor."}
    )


class TransactionSchema(Schema):
    id = fields.String(metadata={"description": "`btx_...`"})
    object = fields.String(metadata={"description": "Always `bank_transaction`."})
    livemode = fields.Boolean(metadata={"description": "`true` for live data."})
    statement_id = fields.String(metadata={"description": "The statement it came in."})
    account_iban = fields.String(allow_none=True, metadata={"description": "The account."})
    booking_date = fields.String(metadata={"description": "YYYY-MM-DD"})
    value_date = fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    amount = fields.Integer(
        metadata={"description": "Minor units; negative: money left the account."}
    )
    currency = fields.String(metadata={"description": "ISO 4217."})
    direction = fields.String(
        metadata={"description": "`debit` (paid out) or `credit` (received)."}
    )
    counterparty_name = fields.String(allow_none=True, metadata={"description": "The other side."})
    counterparty_iban = fields.String(allow_none=True, metadata={"description": "Its account."})
    remittance_text = fields.String(allow_none=True, metadata={"description": "Free text."})
    structured_reference = fields.String(
        allow_none=True, metadata={"description": "Creditor reference (ISO 11649 `RF..`)."}
    )
    end_to_end_id = fields.String(allow_none=True, metadata={"description": "SEPA end-to-end ID."})
    bank_reference = fields.String(allow_none=True, metadata={"description": "The bank's ID."})
    reconciliation_status = fields.String(
        metadata={"description": "`unmatched`, `suggested` or `matched`."}
    )
    created = fields.Integer(metadata={"description": "Unix seconds."})


class TransactionListSchema(StatementListSchema):
    data = fields.List(fields.Nested(TransactionSchema), metadata={"description": "The page."})


class TransactionPageArgs(PageArgs):
    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Items per page, 1-100."},
    )


class ReconcileArgs(StrictSchema):
    statement_id = fields.String(
        load_default=None, metadata={"description": "Only this statement's transactions."}
    )
    date_from = fields.Date(
        load_default=None, metadata={"description": "Transactions booked on or after (YYYY-MM-DD)."}
    )
    date_to = fields.Date(
        load_default=None, metadata={"description": "Transactions booked on or before."}
    )
    threshold = fields.Float(
        load_default=None,
        validate=validate.Range(min=0.5, max=0.99),
        metadata={
            "description": "Matches scoring at least this are applied (0.50-0.99; default "
            "0.80); lower ones are suggestions."
        },
    )


class MatchSchema(Schema):
    id = fields.String(metadata={"description": "`bmt_...`"})
    object = fields.String(metadata={"description": "Always `bank_match`."})
    livemode = fields.Boolean(metadata={"description": "`true` for live data."})
    reconciliation_id = fields.String(
        allow_none=True, metadata={"description": "The run that proposed it (none: by hand)."}
    )
    transaction_id = fields.String(metadata={"description": "The payment (`btx_...`)."})
    invoice_id = fields.String(metadata={"description": "The invoice it pays (`inv_...`)."})
    amount = fields.Integer(
        metadata={"description": "The part of the payment for this invoice, minor units."}
    )
    score = fields.String(metadata={"description": "0.000-1.000, a decimal string."})
    reasons = fields.List(fields.String(), metadata={"description": "The evidence (docs/bank.md)."})
    status = fields.String(metadata={"description": "`applied`, `suggested` or `undone`."})
    source = fields.String(metadata={"description": "`automatic` or `manual`."})
    previous_review_status = fields.String(
        allow_none=True,
        metadata={"description": "The invoice's review status before this match paid it."},
    )
    created = fields.Integer(metadata={"description": "Unix seconds."})
    applied = fields.Integer(allow_none=True, metadata={"description": "Unix seconds."})
    undone = fields.Integer(allow_none=True, metadata={"description": "Unix seconds."})


class ReconciliationSchema(Schema):
    id = fields.String(metadata={"description": "`rec_...`"})
    object = fields.String(metadata={"description": "Always `bank_reconciliation`."})
    livemode = fields.Boolean(metadata={"description": "`true` for live data."})
    statement_id = fields.String(allow_none=True, metadata={"description": "As asked."})
    date_from = fields.String(allow_none=True, metadata={"description": "As asked."})
    date_to = fields.String(allow_none=True, metadata={"description": "As asked."})
    threshold = fields.String(metadata={"description": "The score applied matches reached."})
    transaction_count = fields.Integer(metadata={"description": "Transactions looked at."})
    matched_count = fields.Integer(metadata={"description": "Transactions matched (applied)."})
    suggested_count = fields.Integer(metadata={"description": "Transactions with suggestions."})
    unmatched_count = fields.Integer(metadata={"description": "Transactions with neither."})
    created = fields.Integer(metadata={"description": "Unix seconds."})
    matches = fields.List(
        fields.Nested(MatchSchema), metadata={"description": "Its matches (not in lists)."}
    )


class ReconciliationListSchema(StatementListSchema):
    data = fields.List(fields.Nested(ReconciliationSchema), metadata={"description": "The page."})


class MatchCreateArgs(StrictSchema):
    match_id = fields.String(
        load_default=None, metadata={"description": "A suggestion to confirm (`bmt_...`)."}
    )
    transaction_id = fields.String(
        load_default=None, metadata={"description": "Or: the payment (`btx_...`) ..."}
    )
    invoice_id = fields.String(
        load_default=None, metadata={"description": "... and the invoice it pays, by hand."}
    )
    amount = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "The part of the payment for it, minor units (default: all)."},
    )
