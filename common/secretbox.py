"""Secrets Invex keeps for an organisation (mailbox passwords, accounting tokens), encrypted
at rest, and the keys other features derive from the same root (the review app's sessions).

INVEX_SECRET_KEY holds one or more comma-separated root keys: the first encrypts, every one
decrypts, so a key is rotated by putting the new one first. Each root key is stretched with
HKDF-SHA256 per purpose, so any long random string works and a key derived for one purpose
(sessions) cannot decrypt another's (stored secrets). Encryption is Fernet (AES-CBC with an
HMAC-SHA256 tag) from `cryptography`: authenticated, with a timestamp, and well reviewed.

`invex up` with no key keeps a generated one in INVEX_DATA_DIR/secret.key (mode 0600) and
hands it to its children (a CLI run beside it reads the same file); any other process
without a key refuses (SecretKeyMissing), so a deployment can never store a secret under a
key nobody wrote down.
"""

from __future__ import annotations

import base64
import os
import secrets as random_source
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from common.config import get_settings

KEY_FILE = "secret.key"
MIN_KEY_LENGTH = 32


class SecretKeyMissing(Exception):
    """INVEX_SECRET_KEY is not set (or too short) where a secret must be stored or read."""


class SecretUnreadable(Exception):
    """A stored secret was encrypted under a key that is no longer configured, or altered."""


def generate_key() -> str:
    return random_source.token_urlsafe(32)


def root_keys(value: str | None = None) -> list[str]:
    if value is None:
        settings = get_settings()
        raw = settings.secret_key
        stored = Path(settings.data_dir) / KEY_FILE
        if not raw and stored.exists():  # a CLI beside `invex up`'s embedded stack
            raw = stored.read_text().strip()
    else:
        raw = value
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise SecretKeyMissing(
            "INVEX_SECRET_KEY is not set: generate one with `invex secret-key` "
            "(`invex up` keeps one in its data directory)"
        )
    short = [k for k in keys if len(k) < MIN_KEY_LENGTH]
    if short:
        raise SecretKeyMissing(f"INVEX_SECRET_KEY: each key needs {MIN_KEY_LENGTH}+ characters")
    return keys


def derive_key(purpose: str, root: str) -> bytes:
    """32 bytes for one purpose (e.g. "stored-secrets", "sessions") from one root key."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"invex/{purpose}".encode()
    ).derive(root.encode())


def _box(purpose: str, value: str | None = None) -> MultiFernet:
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(derive_key(purpose, k))) for k in root_keys(value)]
    )


def encrypt(plaintext: str, *, purpose: str = "stored-secrets") -> str:
    return _box(purpose).encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str, *, purpose: str = "stored-secrets") -> str:
    try:
        return _box(purpose).decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "a stored secret cannot be decrypted with the configured INVEX_SECRET_KEY"
        ) from exc


def reencrypt(token: str, *, purpose: str = "stored-secrets") -> str:
    """The token under the first (newest) key, for a rotation sweep."""
    try:
        return _box(purpose).rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise SecretUnreadable("a stored secret cannot be decrypted for rotation") from exc


def embedded_key(data_dir: Path) -> str:
    """The key `invex up` uses when none is configured: created once, readable by us only."""
    path = data_dir / KEY_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(generate_key() + "\n")
    return path.read_text().strip()
