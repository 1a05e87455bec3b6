"""What a mail holds for Invex: its naming headers and the attachments that are invoices.

Pure: bytes in, a ReadMail out, no network and no database. Mail is untrusted input, so
the walk is bounded (nesting depth, part count, attachment count and size) and anything
the email package cannot read ends as HostileMail with a reason, never as an exception the
poller would stop on. Archives (ZIP, 7z, ...) are never unpacked: an invoice inside one
is not taken, which closes the door on decompression bombs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parseaddr

from common.documents import SNIFF_BYTES, sniff_content_type

# Deeper than any mail client nests (a forward of a forward of a signed mail is 4 or 5).
MAX_DEPTH = 10
MAX_PARTS = 200
MAX_ATTACHMENTS = 20
# Metadata values are at most 500 characters (api/schemas.py check_metadata).
MAX_HEADER_CHARS = 500


class HostileMail(Exception):
    """A mail that is malformed or breaks a limit; the message is the logged reason."""


@dataclass(frozen=True)
class Attachment:
    file_name: str
    content_type: str  # sniffed from the bytes, as an upload's is
    data: bytes


@dataclass(frozen=True)
class ReadMail:
    message_id: str | None
    sender: str  # the From address, lower-case ("" when there is none)
    from_header: str
    subject: str
    date: str
    attachments: list[Attachment]
    # attachments left out, with why (not an invoice format, too large)
    ignored: list[str] = field(default_factory=list)

    def metadata(self, origin: dict[str, str]) -> dict[str, str]:
        """The invoice's `metadata`: which mail it came from, and how (`origin`: the
        mailbox's ID, or the address an SMTP receiver took it for)."""
        named = {
            **origin,
            "email_message_id": self.message_id or "",
            "email_from": self.from_header,
            "email_subject": self.subject,
            "email_date": self.date,
        }
        return {key: value[:MAX_HEADER_CHARS] for key, value in named.items() if value}


def read_mail(raw: bytes, *, max_attachment_bytes: int) -> ReadMail:
    """The mail's headers and invoice attachments; HostileMail when it cannot be read
    within the limits."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        found = _Found(max_attachment_bytes)
        _walk(message, 0, found)
        message_id = _header(message, "Message-ID").strip() or None
        from_header = _header(message, "From")
    except HostileMail:
        raise
    except RecursionError:
        raise HostileMail("the MIME structure is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is a malformed mail, logged
        raise HostileMail(f"malformed MIME: {type(exc).__name__}: {str(exc)[:200]}") from None
    return ReadMail(
        message_id=message_id,
        sender=parseaddr(from_header)[1].lower(),
        from_header=from_header,
        subject=_header(message, "Subject"),
        date=_header(message, "Date"),
        attachments=found.attachments,
        ignored=found.ignored,
    )


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    return _printable(str(value) if value is not None else "")[:MAX_HEADER_CHARS]


# Control characters: an encoded word can carry NUL, which PostgreSQL text refuses; the
# others (tabs, line breaks) read as spaces.
_CONTROLS: dict[int, str | None] = dict.fromkeys(range(1, 32), " ") | {0: None, 0x7F: None}


def _printable(text: str) -> str:
    return " ".join(text.translate(_CONTROLS).split())


@dataclass
class _Found:
    max_bytes: int
    parts: int = 0
    attachments: list[Attachment] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _walk(part: Message, depth: int, found: _Found) -> None:
    if depth > MAX_DEPTH:
        raise HostileMail(f"the MIME structure is nested deeper than {MAX_DEPTH} levels")
    found.parts += 1
    if found.parts > MAX_PARTS:
        raise HostileMail(f"the mail has more than {MAX_PARTS} MIME parts")
    if part.is_multipart():
        payload = part.get_payload()
        for child in payload if isinstance(payload, list) else []:
            if isinstance(child, Message):
                _walk(child, depth + 1, found)
        return
    if part.get_content_maintype() == "text" and part.get_filename() is None:
        return  # a body, not an attachment
    name = _printable(part.get_filename() or "")[:255] or "attachment"
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes) or not data:
        return
    if len(data) > found.max_bytes:
        found.ignored.append(f"{name}: larger than {found.max_bytes} bytes")
        return
    content_type = sniff_content_type(data[:SNIFF_BYTES])
    if content_type is None:
        found.ignored.append(f"{name}: not a PDF, image or e-invoice XML")
        return
    if len(found.attachments) == MAX_ATTACHMENTS:
        raise HostileMail(f"the mail has more than {MAX_ATTACHMENTS} invoice attachments")
    found.attachments.append(Attachment(name, content_type, data))


def sender_allowed(sender: str, allowed: list[str]) -> bool:
    """An empty list allows everyone; else an entry is an address or a domain (`@example.com`
    or `example.com`, which also allows its subdomains)."""
    if not allowed:
        return True
    domain = sender.rpartition("@")[2]
    for allowed_entry in allowed:
        entry = allowed_entry.lower()
        if "@" in entry.lstrip("@"):
            if sender == entry:
                return True
            continue
        wanted = entry.lstrip("@")
        if domain == wanted or domain.endswith("." + wanted):
            return True
    return False
