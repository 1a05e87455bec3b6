"""Request and response schemas of /v1/mailboxes (IMAP mailboxes polled for invoices)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas import StrictSchema

AFTER_PROCESSING = ("seen", "flagged", "move")

_HOST = validate.Regexp(r"^[A-Za-z0-9.\-\[\]:]{1,253}$", error="host is a DNS name or an IP.")
# IMAP names folders in ASCII (modified UTF-7 for the rest), and so must the API.
_FOLDER = validate.Regexp(
    r"^[\x20-\x7e]{1,200}$",
    error="ASCII only: give a folder with other letters by its IMAP name (modified UTF-7, "
    "e.g. `Entw&APw-rfe`).",
)
_SENDER = validate.Regexp(
    r"^[^\s@]*@?[^\s@]+\.[^\s@]+$", error="an address or a domain (`@example.com`)."
)


class _MailboxFields(StrictSchema):
    name = fields.String(
        validate=validate.Length(max=200), metadata={"description": "Your name for it."}
    )
    host = fields.String(validate=_HOST, metadata={"description": "The IMAP server."})
    port = fields.Integer(
        validate=validate.Range(min=1, max=65535),
        metadata={"description": "Its IMAPS port (TLS from the first byte); 993 by default."},
    )
    username = fields.String(
        validate=validate.Length(min=1, max=320), metadata={"description": "The IMAP login."}
    )
    password = fields.String(
        validate=validate.Length(min=1, max=1000),
        load_only=True,
        metadata={"description": "Stored encrypted; never returned."},
    )
    folder = fields.String(
        validate=_FOLDER,
        metadata={"description": "The folder polled (its IMAP name); `INBOX` by default."},
    )
    allowed_senders = fields.List(
        fields.String(validate=[validate.Length(max=320), _SENDER]),
        validate=validate.Length(max=100),
        metadata={
            "description": "Addresses or domains (`@example.com`) whose mail is taken; "
            "empty: every sender."
        },
    )
    after_processing = fields.String(
        validate=validate.OneOf(AFTER_PROCESSING),
        metadata={
            "description": "What a taken mail gets: `seen` (the default; unread mail is "
            "polled), `flagged` (unflagged mail is polled), or `move` to `processed_folder`.",
            "enum": list(AFTER_PROCESSING),
        },
    )
    processed_folder = fields.String(
        allow_none=True,
        validate=_FOLDER,
        metadata={"description": "Where `move` puts a taken mail (its IMAP name)."},
    )
    ca_certificate = fields.String(
        allow_none=True,
        validate=validate.Length(max=20000),
        metadata={
            "description": "PEM of a CA to trust besides the system's, for a server with a "
            "private certificate. The name is verified all the same."
        },
    )
    enabled = fields.Boolean(metadata={"description": "Whether it is polled."})


class MailboxCreateArgs(_MailboxFields):
    host = fields.String(
        required=True, validate=_HOST, metadata={"description": "The IMAP server."}
    )
    username = fields.String(
        required=True,
        validate=validate.Length(min=1, max=320),
        metadata={"description": "The IMAP login."},
    )
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "Stored encrypted; never returned."},
    )


class MailboxUpdateArgs(_MailboxFields):
    pass


class MailboxSchema(Schema):
    class Meta:
        ordered = True

    id = fields.String(metadata={"description": "`mbx_...`"})
    object = fields.String(metadata={"description": "Always `mailbox`."})
    livemode = fields.Boolean(metadata={"description": "The mode of the invoices it makes."})
    name = fields.String(metadata={"description": "Your name for it."})
    host = fields.String(metadata={"description": "The IMAP server."})
    port = fields.Integer(metadata={"description": "Its IMAPS port."})
    username = fields.String(metadata={"description": "The IMAP login."})
    password_set = fields.Boolean(metadata={"description": "A password is stored (never shown)."})
    folder = fields.String(metadata={"description": "The folder polled."})
    allowed_senders = fields.List(
        fields.String(),
        metadata={"description": "Addresses or domains whose mail is taken; empty: all."},
    )
    after_processing = fields.String(
        metadata={
            "description": "What a taken mail gets: `seen`, `flagged`, or `move`.",
            "enum": list(AFTER_PROCESSING),
        }
    )
    processed_folder = fields.String(
        allow_none=True, metadata={"description": "Where `move` puts a taken mail."}
    )
    ca_certificate = fields.String(
        allow_none=True, metadata={"description": "The extra CA trusted (PEM), if any."}
    )
    enabled = fields.Boolean(metadata={"description": "Whether it is polled."})
    last_polled = fields.Integer(
        allow_none=True, metadata={"description": "When it was last polled, Unix seconds."}
    )
    last_error = fields.String(
        allow_none=True, metadata={"description": "Why the last poll failed; null when it worked."}
    )
    failures = fields.Integer(
        metadata={"description": "Polls failed in a row; each doubles the wait to the next."}
    )
    next_poll = fields.Integer(metadata={"description": "When it is polled next, Unix seconds."})
    created = fields.Integer(metadata={"description": "When it was added, Unix seconds."})
    updated = fields.Integer(metadata={"description": "When it last changed, Unix seconds."})


class MailboxListSchema(Schema):
    object = fields.String(metadata={"description": "Always `list`."})
    data = fields.List(fields.Nested(MailboxSchema), metadata={"description": "The mailboxes."})
    has_more = fields.Boolean(metadata={"description": "Whether another page follows."})
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass as `cursor` for the next page."}
    )
