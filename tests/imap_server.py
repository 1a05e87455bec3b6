"""A real IMAP server for the mail tests: Debian's dovecot, started unprivileged with its own
configuration in a temporary directory, one passwd-file user, a self-signed certificate
made here, IMAPS on a free port. Installed with apt-get when missing and running as root
(as common/embedded.ensure_binaries_installed installs PostgreSQL and Redis)."""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import ipaddress
import os
import pwd
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from common.embedded import apt_install
from tests.support import free_port, wait_until

DOVECOT = "/usr/sbin/dovecot"
# Unprivileged: root starts it as this user (dovecot supports a rootless run in which every
# service, and the mail user, is one uid).
RUN_AS = "nobody"


class MissingDovecot(Exception):
    pass


def ensure_dovecot_installed() -> None:
    if not Path(DOVECOT).exists():
        apt_install("dovecot-imapd")


def self_signed_certificate() -> tuple[str, str]:
    """(certificate PEM, key PEM) for localhost and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "invex test imap")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    )


class PrivateDovecot:
    def __init__(self, user: str = "invoices", password: str = "s3cret-pass") -> None:
        # its own directory under /tmp: the unprivileged server must reach it
        self.root = Path(tempfile.mkdtemp(prefix="invex-imap-"))
        self.user = user
        self.password = password
        # a second account, whose password is not ASCII
        self.second_user, self.second_password = "umlauts", "pässwört-ß"
        self.port = free_port()
        self.host = "127.0.0.1"
        self.certificate, self._key = self_signed_certificate()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        ensure_dovecot_installed()
        account = pwd.getpwnam(RUN_AS) if os.geteuid() == 0 else pwd.getpwuid(os.getuid())
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "cert.pem").write_text(self.certificate)
        (self.root / "key.pem").write_text(self._key)
        (self.root / "users").write_text(
            f"{self.user}:{{PLAIN}}{self.password}\n"
            f"{self.second_user}:{{PLAIN}}{self.second_password}\n",
            encoding="utf-8",
        )
        for name in ("run", "state", "home"):
            (self.root / name).mkdir(exist_ok=True)
        config = self.root / "dovecot.conf"
        config.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{self.root}/cert.pem
ssl_key = <{self.root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
# dovecot holds each refused login against guessing (2 s, then more per address from anvil's
# penalty socket, which no process may open here): the tests refuse logins on purpose
auth_failure_delay = 0
default_internal_user = {account.pw_name}
default_internal_group = {_group_name(account.pw_gid)}
default_login_user = {account.pw_name}
mail_location = maildir:{self.root}/home/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid={account.pw_uid} gid={account.pw_gid} home={self.root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Processed {{
    auto = create
  }}
}}
"""
        )
        for path in [self.root, *self.root.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid)
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            user=account.pw_uid if os.geteuid() == 0 else None,
            group=account.pw_gid if os.geteuid() == 0 else None,
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "stderr.log").open("w"),
            start_new_session=True,
        )
        wait_until(self._answers, 20, message=f"dovecot did not start: {self.log()}")

    def log(self) -> str:
        parts = []
        for name in ("stderr.log", "dovecot.log"):
            with contextlib.suppress(OSError):
                parts.append((self.root / name).read_text()[-3000:])
        return "\n".join(parts)

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise MissingDovecot(f"dovecot exited: {self.log()}")
        try:
            with self.connect():
                return True
        except (OSError, imaplib.IMAP4.error):
            return False

    def connect(self, folder: str = "INBOX") -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cadata=self.certificate)
        imap = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=10)
        imap.login(self.user, self.password)
        imap.select(folder)
        return imap

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a mail as a client would: IMAP APPEND."""
        with self.connect() as imap:
            status, data = imap.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
            assert status == "OK", data

    def flags(self, folder: str = "INBOX") -> dict[int, str]:
        """Each message's UID and flags."""
        with self.connect(folder) as imap:
            status, data = imap.uid("FETCH", "1:*", "(FLAGS)")
        found: dict[int, str] = {}
        for line in data if status == "OK" else []:
            if not isinstance(line, bytes) or b"UID" not in line:
                continue
            text = line.decode()
            uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
            found[uid] = text.split("FLAGS (")[1].split(")")[0]
        return found

    def count(self, folder: str = "INBOX") -> int:
        with self.connect() as imap:
            _status, data = imap.status(folder, "(MESSAGES)")
        return int(data[0].decode().split("MESSAGES ")[1].rstrip(")"))

    def clear(self, folder: str = "INBOX") -> None:
        if self.count(folder) == 0:
            return  # "1:*" names no message in an empty folder: an error
        with self.connect(folder) as imap:
            imap.store("1:*", "+FLAGS", "(\\Deleted)")
            imap.expunge()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


def make_mail(
    *,
    subject: str = "Invoice INV-2026-0042",
    sender: str = "billing@acme.example",
    attachments: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    message_id: str | None = None,
    body: str = "Please find our invoice attached.",
) -> bytes:
    """A mail as a supplier sends one: a text body and the given attachments."""
    from email import policy
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    message = EmailMessage()
    message["From"] = f"ACME Billing <{sender}>"
    message["To"] = "invoices@example.com"
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain="acme.example")
    message.set_content(body)
    for name, data in attachments:
        maintype, subtype = _guess_type(name)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes(policy=policy.SMTP)  # CRLF line ends, as mail travels


def _guess_type(name: str) -> tuple[str, str]:
    import mimetypes

    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    maintype, _, subtype = guessed.partition("/")
    return maintype, subtype


MAIL_ENV = {
    "INVEX_SECRET_KEY": "mail-tests-" + "k" * 40,
    "INVEX_MAIL_ALLOW_PRIVATE": "1",  # the test server listens on loopback
    "INVEX_MAIL_POLL_INTERVAL": "2",
}


@contextlib.contextmanager
def mail_environment(**extra: str):
    """The settings the mail tests need, for this process and the service processes it
    starts meanwhile; the previous values come back after."""
    from common.config import get_settings

    wanted = {**MAIL_ENV, **extra}
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
