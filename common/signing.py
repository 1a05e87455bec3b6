"""Webhook signatures: the `Invex-Signature` header and the Standard Webhooks headers.

Every delivery carries the same event signed two ways, so a receiver can use either a few
lines of its own code or any Standard Webhooks library (https://www.standardwebhooks.com/).

Secrets look like `whsec_<base64 of 32 random bytes>` (`generate_webhook_secret`). The one
string the operator copies to the receiver is used as follows:

- `Invex-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]` - v1 is HMAC-SHA256 keyed with the
  **whole secret string as UTF-8** (`"whsec_..."` included, as Stripe does), over
  `f"{t}.".encode() + body`, lowercase hex. A receiver needs nothing but
  `hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()`.
- `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> [v1,<base64>...]` - as
  the Standard Webhooks spec requires, the key is the **base64-decoded part after `whsec_`**,
  over `f"{id}.{timestamp}.".encode() + body`, so the standard libraries accept the same
  secret string unchanged.

During a rotation every active secret signs: one `v1=` (or one `v1,` entry) per secret, and a
receiver accepts the delivery when any of them matches its secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as random_source
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix every secret carries, not a secret
DEFAULT_TOLERANCE = 300  # seconds; the contract says receivers reject timestamps further away


class SignatureVerificationError(ValueError):
    """The signature is malformed, too old or too new, or made with another secret."""


def generate_webhook_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(random_source.token_bytes(32)).decode("ascii")


def sign_payload(body: bytes, secrets: list[str], timestamp: int) -> str:
    """The `Invex-Signature` header value, with one `v1=` per active secret."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign a payload")
    signatures = ",".join(f"v1={_invex_digest(body, secret, timestamp)}" for secret in secrets)
    return f"t={timestamp},{signatures}"


def standard_webhooks_headers(
    message_id: str, body: bytes, secrets: list[str], timestamp: int
) -> dict[str, str]:
    """The `webhook-id`, `webhook-timestamp` and `webhook-signature` headers."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign a payload")
    signatures = " ".join(
        f"v1,{_standard_digest(message_id, body, secret, timestamp)}" for secret in secrets
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


def verify_signature(
    body: bytes,
    header: str,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: int | None = None,
) -> None:
    """Check an `Invex-Signature` header as a receiver would; raise if it does not hold."""
    timestamp, candidates = _parse_invex_header(header)
    _check_timestamp(timestamp, tolerance, now)
    expected = _invex_digest(body, secret, timestamp)
    if not _any_matches(expected, candidates):
        raise SignatureVerificationError("no signature matches the secret")


def verify_standard_webhook(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: int | None = None,
) -> None:
    """Check the Standard Webhooks headers (looked up case-insensitively); raise if invalid."""
    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [
        name
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        if not lowered.get(name)
    ]
    if missing:
        raise SignatureVerificationError(f"missing header(s): {', '.join(missing)}")
    timestamp = _parse_timestamp(lowered["webhook-timestamp"])
    _check_timestamp(timestamp, tolerance, now)
    candidates = []
    for entry in lowered["webhook-signature"].split():
        version, _, signature = entry.partition(",")
        if not signature:
            raise SignatureVerificationError(f"malformed signature entry {entry!r}")
        if version == "v1":
            candidates.append(signature)
    if not candidates:
        raise SignatureVerificationError("no v1 signature in the webhook-signature header")
    expected = _standard_digest(lowered["webhook-id"], body, secret, timestamp)
    if not _any_matches(expected, candidates):
        raise SignatureVerificationError("no signature matches the secret")


def _invex_digest(body: bytes, secret: str, timestamp: int) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _standard_digest(message_id: str, body: bytes, secret: str, timestamp: int) -> str:
    message = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_standard_key(secret), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _standard_key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret must be 'whsec_' followed by base64") from exc


def _parse_invex_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, separator, value = item.strip().partition("=")
        if not separator or not value:
            raise SignatureVerificationError(f"malformed signature header item {item!r}")
        if key == "t":
            if timestamp is not None:
                raise SignatureVerificationError("more than one timestamp in the header")
            timestamp = _parse_timestamp(value)
        elif key == "v1":
            candidates.append(value)
        # Other schemes (a future v2) are ignored so that receivers keep working.
    if timestamp is None:
        raise SignatureVerificationError("no timestamp (t=) in the signature header")
    if not candidates:
        raise SignatureVerificationError("no v1 signature in the signature header")
    return timestamp, candidates


def _parse_timestamp(value: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise SignatureVerificationError(f"malformed timestamp {value!r}")
    return int(value)


def _check_timestamp(timestamp: int, tolerance: int, now: int | None) -> None:
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureVerificationError(
            f"timestamp {timestamp} is more than {tolerance} s away from now ({current})"
        )


def _any_matches(expected: str, candidates: list[str]) -> bool:
    # Compare against every candidate, in constant time each, so timing reveals nothing.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode("utf-8", "replace"))
    return matched
