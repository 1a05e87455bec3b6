"""The two accounting providers as Invex talks to them: their OAuth 2.0 endpoints, API base
URLs and app credentials, all from settings (so tests point them at a local double), and the
token calls, made with httpx.

Why httpx rather than the SDKs for the token calls: xero-python has no authorization-code
exchange (it leaves that to an OAuth library) and keeps its token URLs as class constants;
intuit-oauth sends no PKCE challenge or verifier, and fetches its discovery document over
the network each time a client is built.
The calls are three form posts, the same for both providers (RFC 6749 and RFC 7009).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from common.config import Settings, get_settings

PROVIDERS = ("xero", "quickbooks")
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
USER_AGENT = "invex-publish/1"


class ProviderError(Exception):
    """The provider answered with an error. `status` is its HTTP status (0: unreachable),
    `retry_after` its Retry-After in seconds where it gave one, `message` its own words."""

    def __init__(
        self, message: str, *, status: int = 0, retry_after: float | None = None, code: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.code = code

    @property
    def temporary(self) -> bool:
        """Worth retrying: unreachable, rate limited, or the provider's own failure."""
        return self.status in {0, 429} or self.status >= 500


class GrantRefused(ProviderError):
    """The token endpoint refused the grant (`invalid_grant`): the connection was revoked
    at the provider or the refresh token expired; only a new connect mends it."""


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    revoke_url: str
    api_url: str
    scopes: str

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def redirect_uri(self, settings: Settings) -> str:
        return f"{settings.public_url}/v1/integrations/{self.name}/callback"

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.scopes,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.authorize_url}?{urlencode(query)}"

    def _basic(self) -> str:
        pair = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def token_request(self, form: dict[str, str]) -> dict[str, Any]:
        """POST to the token endpoint; the token response (RFC 6749 5.1)."""
        try:
            response = httpx.post(
                self.token_url,
                data=form,
                headers={
                    "Authorization": self._basic(),
                    "Accept": "application/json",
                    "User-Agent": USER_AGENT,
                },
                timeout=TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise ProviderError(f"{self.label} token endpoint unreachable: {exc}") from None
        body = _json_or_empty(response)
        if response.status_code == 400 and body.get("error") == "invalid_grant":
            reason = body.get("error_description") or "invalid_grant"
            raise GrantRefused(
                f"{self.label} refused the grant: {reason}",
                status=400,
                code="invalid_grant",
            )
        if response.status_code != 200 or "access_token" not in body:
            raise ProviderError(
                f"{self.label} token endpoint answered {response.status_code}: "
                f"{body.get('error') or response.text[:200]}",
                status=response.status_code,
                retry_after=retry_after_seconds(response),
                code=str(body.get("error") or ""),
            )
        return body

    def exchange_code(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        return self.token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        return self.token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, refresh_token: str) -> None:
        """Revoke the refresh token (RFC 7009; with it, the provider ends the connection).
        Raises ProviderError when the provider cannot be told."""
        headers = {"Authorization": self._basic(), "User-Agent": USER_AGENT}
        try:
            if self.name == "quickbooks":  # Intuit takes JSON here
                response = httpx.post(
                    self.revoke_url,
                    json={"token": refresh_token},
                    headers={**headers, "Accept": "application/json"},
                    timeout=TIMEOUT,
                )
            else:
                response = httpx.post(
                    self.revoke_url,
                    data={"token": refresh_token, "token_type_hint": "refresh_token"},
                    headers=headers,
                    timeout=TIMEOUT,
                )
        except httpx.HTTPError as exc:
            raise ProviderError(f"{self.label} revocation endpoint unreachable: {exc}") from None
        if response.status_code != 200:
            raise ProviderError(
                f"{self.label} revocation answered {response.status_code}",
                status=response.status_code,
            )


def provider(name: str, settings: Settings | None = None) -> Provider:
    s = settings or get_settings()
    if name == "xero":
        return Provider(
            name="xero",
            label="Xero",
            client_id=s.xero_client_id,
            client_secret=s.xero_client_secret,
            authorize_url=f"{s.xero_login_url}/identity/connect/authorize",
            token_url=f"{s.xero_identity_url}/connect/token",
            revoke_url=f"{s.xero_identity_url}/connect/revocation",
            api_url=s.xero_api_url,
            scopes=(
                "openid offline_access accounting.transactions accounting.contacts "
                "accounting.attachments accounting.settings.read"
            ),
        )
    if name == "quickbooks":
        return Provider(
            name="quickbooks",
            label="QuickBooks Online",
            client_id=s.quickbooks_client_id,
            client_secret=s.quickbooks_client_secret,
            authorize_url=s.quickbooks_authorize_url,
            token_url=s.quickbooks_token_url,
            revoke_url=s.quickbooks_revoke_url,
            api_url=s.quickbooks_api_url,
            scopes="com.intuit.quickbooks.accounting",
        )
    raise ValueError(f"unknown provider {name!r}")


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier (RFC 7636: 43-128 unreserved characters) and its S256
    challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    return verifier, challenge


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After in seconds (the providers send a number of seconds); None if absent or
    not a number."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
