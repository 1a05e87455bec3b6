"""An IMAP session over TLS (imaplib), as a poll uses it: select the folder, list the
messages not yet handled, fetch one, mark or move it.

TLS verifies the server's certificate and name with the system's CAs, plus a mailbox's own
CA when one is configured; there is no plain-text IMAP. The connection goes to the address
common/webhooks/ssrf.py checked (private addresses only with INVEX_MAIL_ALLOW_PRIVATE), so
a mailbox cannot be pointed at the service's own network.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from common.webhooks.ssrf import resolve_public_address

TIMEOUT_SECONDS = 30
# A whole session: a server trickling bytes within each read's timeout is cut off here.
SESSION_SECONDS = 90

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")

# What a message that is still to be handled lacks, by the after-processing action.
_NOT_YET = {"seen": "UNSEEN", "flagged": "UNFLAGGED", "move": "ALL"}


class MailboxError(Exception):
    """The server refused or failed (login, folder, a command); the message says which,
    never with the password."""


# What a session can raise for the server's or the network's sake (imaplib.IMAP4.error for
# a BAD answer or a broken response, its `abort` for a connection cut off).
SESSION_ERRORS: tuple[type[BaseException], ...] = (
    MailboxError,
    imaplib.IMAP4.error,
    OSError,
    EOFError,
)


class _PinnedIMAP(imaplib.IMAP4_SSL):
    """IMAP4_SSL connecting to one checked address while TLS verifies the host's name, and
    cut off SESSION_SECONDS after connecting, whatever it waits for then (the TLS
    handshake, the greeting, a literal trickled a byte at a time)."""

    def __init__(self, host: str, address: str, port: int, context: ssl.SSLContext) -> None:
        self._address = address
        self._watchdog: threading.Timer | None = None
        self._handle: socket.socket | None = None
        try:
            super().__init__(host, port, ssl_context=context, timeout=TIMEOUT_SECONDS)
        except BaseException:
            self.stop_watchdog()
            raise

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = socket.create_connection((self._address, self.port), timeout)
        # A second descriptor of the same connection: shutting it down ends the connection
        # under the TLS socket too (which takes the first one over).
        self._handle = socket.socket(fileno=os.dup(sock.fileno()))
        self._watchdog = threading.Timer(SESSION_SECONDS, self._cut_off)
        self._watchdog.daemon = True
        self._watchdog.start()
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)

    def _cut_off(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.shutdown(socket.SHUT_RDWR)

    def stop_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._handle is not None:
            self._handle.close()


def tls_context(ca_certificate: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_certificate:
        context.load_verify_locations(cadata=ca_certificate)
    return context


class Session:
    def __init__(self, imap: imaplib.IMAP4_SSL, uidvalidity: int) -> None:
        self._imap = imap
        self.uidvalidity = uidvalidity

    def _ok(self, what: str, answer: tuple[str, Any]) -> list[Any]:
        status, data = answer
        if status != "OK":
            raise MailboxError(f"{what}: {_text(data)}")
        return list(data)

    def pending_uids(self, after_processing: str) -> list[int]:
        """UIDs of the messages the action has not marked yet, oldest first."""
        data = self._ok("SEARCH", self._imap.uid("SEARCH", _NOT_YET[after_processing]))
        return sorted(int(uid) for uid in (data[0] or b"").split())

    def size(self, uid: int) -> int | None:
        data = self._ok("FETCH", self._imap.uid("FETCH", str(uid), "(RFC822.SIZE)"))
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            found = _SIZE.search(line or b"")
            if found:
                return int(found.group(2) or found.group(3))
        return None  # gone meanwhile (expunged by someone else)

    def fetch(self, uid: int) -> bytes | None:
        # BODY.PEEK: fetching does not set \\Seen; the action does, once the mail is taken
        data = self._ok("FETCH", self._imap.uid("FETCH", str(uid), "(BODY.PEEK[])"))
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    def mark(self, uid: int, after_processing: str, processed_folder: str | None) -> None:
        """Apply the action to a message taken (or skipped) for good."""
        if after_processing == "seen":
            self._ok("STORE", self._imap.uid("STORE", str(uid), "+FLAGS", "(\\Seen)"))
        elif after_processing == "flagged":
            self._ok("STORE", self._imap.uid("STORE", str(uid), "+FLAGS", "(\\Flagged)"))
        else:
            assert processed_folder is not None
            folder = _quoted(processed_folder)
            if b"MOVE" in self._capabilities():
                self._ok("MOVE", self._imap.uid("MOVE", str(uid), folder))
            else:
                self._ok("COPY", self._imap.uid("COPY", str(uid), folder))
                self._ok("STORE", self._imap.uid("STORE", str(uid), "+FLAGS", "(\\Deleted)"))
                self._ok("EXPUNGE", self._imap.expunge())

    def _capabilities(self) -> bytes:
        return b" ".join(c.encode() if isinstance(c, str) else c for c in self._imap.capabilities)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: Any) -> str:
    parts = data if isinstance(data, list) else [data]
    text = " ".join(p.decode(errors="replace") if isinstance(p, bytes) else str(p) for p in parts)
    return text[:300]


@contextmanager
def open_session(
    *,
    host: str,
    port: int,
    username: str,
    password: str,
    folder: str,
    ca_certificate: str | None,
    allow_private: bool,
) -> Iterator[Session]:
    """Log in and select `folder` (read-write). Raises MailboxError for what the server
    answered, OSError (ssl.SSLError among them) for the network and TLS, and
    UnsafeWebhookUrl for an address that is refused."""
    address = resolve_public_address(host, port, allow_private=allow_private)
    imap = _PinnedIMAP(host, address, port, tls_context(ca_certificate))
    try:
        try:
            if (username + password).isascii():
                imap.login(username, password)
            else:  # LOGIN's arguments are ASCII in imaplib; SASL PLAIN carries UTF-8
                credentials = f"\0{username}\0{password}".encode()
                imap.authenticate("PLAIN", lambda _: credentials)
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"login refused: {str(exc)[:200]}") from None
        try:
            status, data = imap.select(_quoted(folder))
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"cannot select {folder!r}: {str(exc)[:200]}") from None
        if status != "OK":
            raise MailboxError(f"cannot select {folder!r}: {_text(data)}")
        found = _UIDVALIDITY.search(b" ".join(_untagged(imap, "UIDVALIDITY")))
        if found is None:
            raise MailboxError(f"the server gave no UIDVALIDITY for {folder!r}")
        yield Session(imap, int(found.group(1)))
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):  # over either way
            imap.logout()
        imap.stop_watchdog()


def _untagged(imap: imaplib.IMAP4_SSL, name: str) -> list[bytes]:
    _, data = imap.response(name)
    return [f"{name} ".encode() + d for d in data if isinstance(d, bytes)]
