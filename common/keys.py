"""API key secrets: generation, an offline checksum, and the stored hash.

A secret reads `invx_<mode>_<30 random base62><6 checksum base62>`. The checksum (CRC32 of
everything before it) lets a leaked-secret scanner tell a real key from a look-alike without
calling us. The secrets carry 178 bits of randomness, so a plain SHA-256 is the right stored
form: a slow password hash would only slow every request down.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_LENGTH = 30
CHECKSUM_LENGTH = 6
SECRET_PATTERN = re.compile(r"^invx_(live|test)_[0-9A-Za-z]{36}$")
DISPLAY_PREFIX_LENGTH = 14  # "invx_live_" and four random characters


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def generate_secret(livemode: bool) -> str:
    body = f"invx_{'live' if livemode else 'test'}_" + "".join(
        secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH)
    )
    return body + _checksum(body)


def secret_looks_valid(secret: str) -> bool:
    """True when the format and checksum hold (no database needed)."""
    if not SECRET_PATTERN.match(secret):
        return False
    return secrets.compare_digest(_checksum(secret[:-CHECKSUM_LENGTH]), secret[-CHECKSUM_LENGTH:])


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def secret_mode_is_live(secret: str) -> bool:
    return secret.startswith("invx_live_")
