"""Mailboxes: an organisation's IMAP folders that Invex polls for invoices.

The API creates, reads, changes and deletes them (the password encrypted with
common/secretbox.py, never returned). Beat's dispatcher claims the mailboxes whose poll is
due and sends one poll task each on queue `mail`. A poll takes each new message once: the
message's row (mailbox, UIDVALIDITY, UID, Message-ID; unique) is written in the same
transaction as the invoices its attachments make, so a restart or a second poller finds it
taken; only then is the message marked or moved on the server. A message taken but not yet
marked (the process died in between) is marked by the next poll, and makes nothing twice.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
import time
from dataclasses import dataclass
from typing import Any

from common import db, secretbox
from common.accounts.service import Principal, principal_for_org
from common.config import get_settings
from common.errors import (
    InvexError,
    ResourceNotFound,
    ServiceUnavailable,
    TooManyPages,
    UnreadableFile,
    ValidationFailed,
)
from common.ids import new_id
from common.invoices import service as invoices
from common.mail import imap, repository
from common.mail.messages import HostileMail, ReadMail, read_mail, sender_allowed
from common.mail.repository import Mailbox
from common.pagination import org_page
from common.webhooks.ssrf import UnsafeWebhookUrl

log = logging.getLogger(__name__)

# A failing mailbox waits the poll interval doubled per failure, up to this.
MAX_BACKOFF_SECONDS = 900
# A poll handles at most this many messages; the rest wait for the next poll.
MESSAGES_PER_POLL = 50
# The dispatcher's claim: a poll whose task was lost is sent again after this.
POLL_LEASE_SECONDS = 120
# A poll starts no new message after this long (the session is cut off at 90 s).
POLL_SECONDS = 60
IMAPS_PORT = 993
# A whole message may be this many times an upload's limit (base64 grows data by 4/3).
MESSAGE_SIZE_FACTOR = 3


def _unix(moment: Any) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def mailbox_resource(mailbox: Mailbox) -> dict[str, Any]:
    """The mailbox as the API shows it: never the password, only whether one is set."""
    return {
        "id": mailbox.id,
        "object": "mailbox",
        "livemode": mailbox.livemode,
        "name": mailbox.name,
        "host": mailbox.host,
        "port": mailbox.port,
        "username": mailbox.username,
        "password_set": bool(mailbox.password_encrypted),
        "folder": mailbox.folder,
        "allowed_senders": mailbox.allowed_senders,
        "after_processing": mailbox.after_processing,
        "processed_folder": mailbox.processed_folder,
        "ca_certificate": mailbox.ca_certificate,
        "enabled": mailbox.enabled,
        "last_polled": _unix(mailbox.last_polled_at),
        "last_error": mailbox.last_error,
        "failures": mailbox.failures,
        "next_poll": _unix(mailbox.next_poll_at),
        "created": _unix(mailbox.created_at),
        "updated": _unix(mailbox.updated_at),
    }


def _check_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Encrypt the password, check what the schema cannot see alone."""
    values = dict(values)
    if "password" in values:
        try:
            values["password_encrypted"] = secretbox.encrypt(values.pop("password"))
        except secretbox.SecretKeyMissing:
            log.error("a mailbox password cannot be stored: INVEX_SECRET_KEY is not set")
            raise ServiceUnavailable(
                "This server has no key to store secrets with (INVEX_SECRET_KEY); "
                "its operator must set one."
            ) from None
    ca = values.get("ca_certificate")
    if ca:
        try:
            imap.tls_context(ca)
        except (ssl.SSLError, ValueError, TypeError):  # TypeError: not ASCII
            raise ValidationFailed(
                "ca_certificate is no PEM certificate.", param="ca_certificate"
            ) from None
    return values


def _check_move(after_processing: str | None, processed_folder: str | None) -> None:
    if after_processing == "move" and not processed_folder:
        raise ValidationFailed(
            "after_processing `move` needs a processed_folder.", param="processed_folder"
        )


def create_mailbox(principal: Principal, values: dict[str, Any]) -> Mailbox:
    values = _check_settings({"port": IMAPS_PORT, **values})
    _check_move(values.get("after_processing"), values.get("processed_folder"))
    with db.transaction() as conn:
        return repository.insert_mailbox(
            conn,
            id=new_id("mbx"),
            org_id=principal.org_id,
            livemode=principal.livemode,
            **values,
        )


def get_mailbox(principal: Principal, mailbox_id: str, conn: db.Conn | None = None) -> Mailbox:
    if conn is None:
        with db.transaction() as own:
            return get_mailbox(principal, mailbox_id, own)
    mailbox = repository.get_mailbox(conn, principal.org_id, principal.livemode, mailbox_id)
    if mailbox is None:
        raise ResourceNotFound(f"No mailbox {mailbox_id!r}.", param="id")
    return mailbox


def list_mailboxes(
    principal: Principal, *, limit: int = 25, cursor: str | None = None
) -> tuple[list[Mailbox], bool, str | None]:
    return org_page(
        repository.list_mailboxes,
        principal.org_id,
        principal.livemode,
        prefix="mbx",
        limit=limit,
        cursor=cursor,
    )


def update_mailbox(principal: Principal, mailbox_id: str, changes: dict[str, Any]) -> Mailbox:
    changes = _check_settings(changes)
    with db.transaction() as conn:
        current = get_mailbox(principal, mailbox_id, conn)
        if not changes:
            return current
        _check_move(
            changes.get("after_processing", current.after_processing),
            changes.get("processed_folder", current.processed_folder),
        )
        return repository.update_mailbox(conn, mailbox_id, changes)


def delete_mailbox(principal: Principal, mailbox_id: str) -> Mailbox:
    with db.transaction() as conn:
        mailbox = get_mailbox(principal, mailbox_id, conn)
        repository.delete_mailbox(conn, mailbox_id)
    return mailbox


# --- beat's dispatcher and the `mail` worker ----------------------------------------------


def claim_due_mailboxes(limit: int = 100) -> list[str]:
    with db.transaction() as conn:
        return repository.claim_due_mailboxes(conn, lease_seconds=POLL_LEASE_SECONDS, limit=limit)


# The server, the network or Invex (the database, the credits): the poll ends, the mail
# stays for the next one.
_STOPS_THE_POLL: tuple[type[BaseException], ...] = (*imap.SESSION_ERRORS, InvexError)
# ...and what else fails a whole poll: a refused address, a password no key decrypts.
_FAILS_THE_POLL: tuple[type[BaseException], ...] = (
    *_STOPS_THE_POLL,
    UnsafeWebhookUrl,
    secretbox.SecretUnreadable,
)


@dataclass
class PollResult:
    """What one poll did; `busy`: another poller held the mailbox, nothing was done."""

    taken: int = 0
    skipped: int = 0
    rejected: int = 0
    busy: bool = False
    error: str | None = None


def poll_mailbox(mailbox_id: str) -> PollResult:
    """Take the mailbox's new messages. Safe to run twice at once: the second finds the
    mailbox's advisory lock held and returns `busy`; safe after a crash: the message rows
    say what was taken. Errors of the server or the network end in `last_error` and a
    longer wait before the next poll, not in an exception (the database's own failures
    excepted: the task retries those)."""
    with db.connection() as lock_conn:
        # a session lock, released below, or by the server when this connection dies
        if not repository.try_poll_lock(lock_conn, mailbox_id):
            return PollResult(busy=True)
        try:
            return _poll_locked(mailbox_id)
        finally:
            repository.release_poll_lock(lock_conn, mailbox_id)


def _poll_locked(mailbox_id: str) -> PollResult:
    with db.connection() as conn:
        mailbox = repository.get_mailbox_by_id(conn, mailbox_id)
    if mailbox is None or not mailbox.enabled:
        return PollResult()
    settings = get_settings()
    result = PollResult()
    try:
        _take_new_messages(mailbox, result)
    except _FAILS_THE_POLL as exc:
        result.error = _describe(exc)
    except Exception as exc:  # a defect: still recorded, so the mailbox shows it and backs off
        log.exception("mailbox %s: the poll failed", mailbox.id)
        result.error = f"internal error: {type(exc).__name__}"
    if result.error is None:
        delay = float(settings.mail_poll_interval)
    else:
        # capped exponent: a mailbox broken for weeks must not overflow the float
        doublings = min(mailbox.failures + 1, 30)
        delay = min(settings.mail_poll_interval * 2.0**doublings, MAX_BACKOFF_SECONDS)
        log.warning(
            "mailbox %s: %s (next try in %.0f s)",
            mailbox.id,
            result.error,
            delay,
            extra={"mailbox_id": mailbox.id},
        )
    with db.connection() as conn:
        repository.record_poll(
            conn,
            mailbox.id,
            error=result.error,
            next_in_seconds=delay,
            failed=result.error is not None,
        )
    return result


def _describe(exc: BaseException) -> str:
    """A line for `last_error`: what failed, never a password (none reaches a message)."""
    if isinstance(exc, imap.MailboxError):
        return str(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: {exc.verify_message or 'certificate not trusted'}"
    if isinstance(exc, InvexError):
        return f"{exc.code}: {exc.message}"
    if isinstance(exc, UnsafeWebhookUrl):
        return f"refused: {exc}"
    if isinstance(exc, imaplib.IMAP4.error):
        return f"IMAP: {str(exc)[:300]}"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _take_new_messages(mailbox: Mailbox, result: PollResult) -> None:
    settings = get_settings()
    password = secretbox.decrypt(mailbox.password_encrypted)
    with imap.open_session(
        host=mailbox.host,
        port=mailbox.port,
        username=mailbox.username,
        password=password,
        folder=mailbox.folder,
        ca_certificate=mailbox.ca_certificate,
        allow_private=settings.mail_allow_private,
    ) as session:
        pending = session.pending_uids(mailbox.after_processing)[:MESSAGES_PER_POLL]
        if not pending:
            return
        with db.connection() as conn:
            taken = repository.taken_uids(conn, mailbox.id, session.uidvalidity, pending)
        principal = principal_for_org(
            mailbox.org_id, livemode=mailbox.livemode, acting_as=mailbox.id
        )
        started = time.monotonic()
        for uid in pending:
            if time.monotonic() - started > POLL_SECONDS:
                break  # the rest next time, before the session's deadline cuts it off
            if uid not in taken:
                outcome = _take_message_safely(mailbox, principal, session, uid)
                if outcome is None:
                    continue  # gone from the server meanwhile
                setattr(result, outcome, getattr(result, outcome) + 1)
            # taken now, or before by a poll that ended before marking it
            session.mark(uid, mailbox.after_processing, mailbox.processed_folder)


def _take_message_safely(
    mailbox: Mailbox, principal: Principal, session: imap.Session, uid: int
) -> str | None:
    """_take_message; a message that fails it for any other reason than the server, the
    network or Invex itself (a defect meeting a mail nobody foresaw) is recorded as
    rejected, so one poisonous mail cannot stop the mailbox for good."""
    try:
        return _take_message(mailbox, principal, session, uid)
    except _STOPS_THE_POLL:
        raise
    except Exception as exc:  # recorded, and logged with its traceback
        log.exception("mailbox %s: message %s could not be taken", mailbox.id, uid)
        reason = f"internal error: {type(exc).__name__}"
        return _record(mailbox, session, uid, None, "rejected", reason)


def _take_message(
    mailbox: Mailbox, principal: Principal, session: imap.Session, uid: int
) -> str | None:
    """Record the message with what it made; its outcome (None: it is gone). Invex errors
    (the credits ran out) propagate, with nothing recorded, so the message is tried again."""
    settings = get_settings()
    where = {"mailbox_id": mailbox.id, "uid": uid, "uidvalidity": session.uidvalidity}
    size = session.size(uid)
    if size is None:
        return None
    limit = settings.max_upload_bytes * MESSAGE_SIZE_FACTOR
    if size > limit:
        return _record(mailbox, session, uid, None, "rejected", f"larger than {limit} bytes")
    raw = session.fetch(uid)
    if raw is None:
        return None
    try:
        mail = read_mail(raw, max_attachment_bytes=settings.max_upload_bytes)
    except HostileMail as exc:
        return _record(mailbox, session, uid, None, "rejected", str(exc))
    if not sender_allowed(mail.sender, mailbox.allowed_senders):
        reason = f"the sender {mail.sender or '(none)'} is not in the allow-list"
        return _record(mailbox, session, uid, mail.message_id, "skipped", reason)
    if not mail.attachments:
        reason = "; ".join(["no PDF, image or e-invoice XML attachment", *mail.ignored])
        return _record(mailbox, session, uid, mail.message_id, "skipped", reason)
    with db.transaction() as conn:
        row = repository.insert_message(
            conn,
            mailbox,
            uidvalidity=session.uidvalidity,
            uid=uid,
            message_id=mail.message_id,
            outcome="taken",
            reason=None,
        )
        if row is None:
            log.info("mailbox %s: message %s was taken before", mailbox.id, uid, extra=where)
            return "skipped"
        invoice_ids, problems = create_mail_invoices(
            principal,
            mail,
            metadata=mail.metadata({"mailbox_id": mailbox.id}),
            # the message row already guards this; the key names the invoice's origin
            idempotency_prefix=f"mail:{mailbox.id}:{session.uidvalidity}:{uid}",
            conn=conn,
        )
        outcome = "taken" if invoice_ids else "rejected"
        problem = "; ".join(problems)[:2000] or None
        repository.set_message_result(conn, row, outcome, problem, invoice_ids)
    log.info(
        "mailbox %s: message %s %s, invoices %s%s",
        mailbox.id,
        uid,
        outcome,
        ", ".join(invoice_ids) or "none",
        f" ({problem})" if problem else "",
        extra=where,
    )
    return outcome


def create_mail_invoices(
    principal: Principal,
    mail: ReadMail,
    *,
    metadata: dict[str, str],
    idempotency_prefix: str,
    conn: db.Conn,
) -> tuple[list[str], list[str]]:
    """An invoice per attachment, in the caller's transaction (`conn`); the invoice IDs
    and what was left out, with why. Attachment N's idempotency key is the prefix and N."""
    invoice_ids: list[str] = []
    problems = list(mail.ignored)
    for index, attachment in enumerate(mail.attachments):
        try:
            invoice = invoices.create_invoice(
                principal,
                file_name=attachment.file_name,
                content_type=attachment.content_type,
                data=attachment.data,
                metadata=metadata,
                idempotency_key=f"{idempotency_prefix}:{index}",
                source_channel="email",
                conn=conn,
            )
        except (UnreadableFile, TooManyPages) as exc:
            problems.append(f"{attachment.file_name}: {exc.message}")
            continue
        invoice_ids.append(invoice.id)
    return invoice_ids, problems


def _record(  # noqa: PLR0917 - the message's coordinates, then what became of it
    mailbox: Mailbox,
    session: imap.Session,
    uid: int,
    message_id: str | None,
    outcome: str,
    reason: str,
) -> str:
    """A message that makes no invoice: logged with why, and recorded so it is not read
    again."""
    with db.transaction() as conn:
        repository.insert_message(
            conn,
            mailbox,
            uidvalidity=session.uidvalidity,
            uid=uid,
            message_id=message_id,
            outcome=outcome,
            reason=reason[:2000],
        )
    log_at = logging.WARNING if outcome == "rejected" else logging.INFO
    log.log(
        log_at,
        "mailbox %s: message %s %s: %s",
        mailbox.id,
        uid,
        outcome,
        reason,
        extra={"mailbox_id": mailbox.id, "uid": uid, "uidvalidity": session.uidvalidity},
    )
    return outcome
