"""Mailboxes: IMAP folders polled for invoices (each PDF, image or e-invoice XML attached to
a mail becomes an invoice with `source_channel: email`)."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import current_principal, requires
from api.blueprint import Blueprint
from api.idempotency import idempotent
from api.mailbox_schemas import (
    MailboxCreateArgs,
    MailboxListSchema,
    MailboxSchema,
    MailboxUpdateArgs,
)
from api.schemas import DeletedSchema, PageArgs
from common.mail import service
from common.mail.service import mailbox_resource
from common.pagination import list_body

blp = Blueprint(
    "mailboxes",
    __name__,
    url_prefix="/v1/mailboxes",
    description="IMAP mailboxes polled for invoices.",
)


@blp.route("")
class Mailboxes(MethodView):
    @requires("settings:read")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, MailboxListSchema)
    def get(self, args):
        """List mailboxes, newest first."""
        rows, has_more, cursor = service.list_mailboxes(
            current_principal(), limit=args["limit"], cursor=args["cursor"]
        )
        return list_body([mailbox_resource(m) for m in rows], has_more, cursor)

    @requires("settings:write")
    @idempotent
    @blp.arguments(MailboxCreateArgs)
    @blp.response(201, MailboxSchema)
    def post(self, args):
        """Add a mailbox; it is polled within INVEX_MAIL_POLL_INTERVAL. The password is
        stored encrypted and never returned."""
        return mailbox_resource(service.create_mailbox(current_principal(), args))


@blp.route("/<id(mbx):mailbox_id>")
class MailboxById(MethodView):
    @requires("settings:read")
    @blp.response(200, MailboxSchema)
    def get(self, mailbox_id):
        """One mailbox, with `last_polled` and `last_error`."""
        return mailbox_resource(service.get_mailbox(current_principal(), mailbox_id))

    @requires("settings:write")
    @idempotent
    @blp.arguments(MailboxUpdateArgs)
    @blp.response(200, MailboxSchema)
    def patch(self, args, mailbox_id):
        """Change any setting (a new password too); it is polled again at once."""
        return mailbox_resource(service.update_mailbox(current_principal(), mailbox_id, args))

    @requires("settings:write")
    @idempotent
    @blp.response(200, DeletedSchema)
    def delete(self, mailbox_id):
        """Stop polling and forget the mailbox (its invoices stay)."""
        mailbox = service.delete_mailbox(current_principal(), mailbox_id)
        return {"id": mailbox.id, "object": "mailbox", "deleted": True}
