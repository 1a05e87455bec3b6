"""Connections to accounting providers: the OAuth 2.0 authorization-code flow with PKCE,
tokens kept encrypted and refreshed before they expire, disconnection, status and the
per-organisation mapping of tax rates to the provider's tax codes.

Tokens never leave this module decrypted except to the publishing code that sends them,
and never reach a log line: errors carry the provider's words, not the request.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from common import db, secretbox
from common.accounts.service import Principal
from common.config import get_settings
from common.errors import (
    IntegrationNotConfigured,
    IntegrationNotConnected,
    InvalidOAuthState,
    InvalidRequest,
    ProviderFailed,
    ResourceNotFound,
    ValidationFailed,
)
from common.integrations import repository
from common.integrations.providers import (
    PROVIDERS,
    TIMEOUT,
    USER_AGENT,
    GrantRefused,
    Provider,
    ProviderError,
    pkce_pair,
    provider,
    retry_after_seconds,
)
from common.integrations.repository import Integration
from common.pagination import list_body

log = logging.getLogger(__name__)

# How long a user has to finish the provider's consent screen.
AUTHORIZATION_TTL = 600
# Refresh this long before the access token expires (Xero's last 30 min, Intuit's 60).
REFRESH_MARGIN = timedelta(seconds=120)
MAX_TAX_CODES = 100


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def known_provider(name: str) -> Provider:
    if name not in PROVIDERS:
        raise ResourceNotFound(f"No provider {name!r}; use xero or quickbooks.", param="provider")
    return provider(name)


def configured_provider(name: str) -> Provider:
    chosen = known_provider(name)
    if not chosen.configured:
        env = "INVEX_XERO" if name == "xero" else "INVEX_QUICKBOOKS"
        raise IntegrationNotConfigured(
            f"{chosen.label} is not configured: set {env}_CLIENT_ID and {env}_CLIENT_SECRET.",
            param="provider",
        )
    return chosen


def _state_hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()


def start_connection(principal: Principal, provider_name: str) -> dict[str, Any]:
    """A fresh `state` and PKCE verifier, stored (the verifier encrypted, the state only
    as its hash) for AUTHORIZATION_TTL seconds; the URL to send the user to."""
    chosen = configured_provider(provider_name)
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    with db.transaction() as conn:
        repository.insert_authorization(
            conn,
            state_hash=_state_hash(state),
            org_id=principal.org_id,
            livemode=principal.livemode,
            provider=chosen.name,
            code_verifier=secretbox.encrypt(verifier),
            ttl_seconds=AUTHORIZATION_TTL,
        )
    redirect_uri = chosen.redirect_uri(get_settings())
    return {
        "object": "integration_authorization",
        "provider": chosen.name,
        "authorization_url": chosen.authorization_url(
            state=state, code_challenge=challenge, redirect_uri=redirect_uri
        ),
        "redirect_uri": redirect_uri,
        "expires_at": int(datetime.now(UTC).timestamp()) + AUTHORIZATION_TTL,
    }


def complete_connection(
    provider_name: str, *, state: str, code: str | None, realm_id: str | None, error: str | None
) -> dict[str, Any]:
    """The callback: the state must be one we issued, unused and unexpired (it names the
    organisation: the callback carries no API key); the code is exchanged with the stored
    verifier; the tenant and company name are looked up; the tokens stored encrypted."""
    chosen = configured_provider(provider_name)
    with db.transaction() as conn:
        pending = repository.take_authorization(conn, _state_hash(state), chosen.name)
    if pending is None or not pending["fresh"]:
        raise InvalidOAuthState(param="state")
    if error or not code:  # the user declined on the consent screen, or no code came
        raise InvalidRequest(
            f"{chosen.label} did not authorize the connection: {error or 'no code'}.",
            param="error" if error else "code",
        )
    verifier = secretbox.decrypt(pending["code_verifier"])
    try:
        tokens = chosen.exchange_code(code, verifier, chosen.redirect_uri(get_settings()))
        tenant_id, company = _look_up_company(chosen, tokens["access_token"], realm_id)
    except ProviderError as exc:
        raise ProviderFailed(exc.message, param="code") from None
    with db.transaction() as conn:
        repository.upsert_connection(
            conn,
            org_id=pending["org_id"],
            livemode=pending["livemode"],
            provider=chosen.name,
            access_token=secretbox.encrypt(tokens["access_token"]),
            refresh_token=secretbox.encrypt(tokens["refresh_token"]),
            expires_in=int(tokens.get("expires_in") or 1800),
            tenant_id=tenant_id,
            company_name=company,
        )
        integration = repository.get_integration(
            conn, pending["org_id"], pending["livemode"], chosen.name
        )
    assert integration is not None
    log.info("%s connected for %s (%s)", chosen.name, pending["org_id"], tenant_id)
    return integration_status(chosen, integration)


def _look_up_company(chosen: Provider, access_token: str, realm_id: str | None) -> tuple[str, str]:
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }
    if chosen.name == "xero":
        # the organisations this token may use; the consent screen picked one
        response = _get(chosen, f"{chosen.api_url}/connections", headers)
        tenants = [t for t in response if t.get("tenantType") == "ORGANISATION"] or response
        if not tenants:
            raise ProviderError("Xero granted no organisation.")
        return str(tenants[0]["tenantId"]), str(tenants[0].get("tenantName") or "")
    if not realm_id:
        raise ProviderError("QuickBooks did not name the company (realmId).")
    info = _get(
        chosen,
        f"{chosen.api_url}/v3/company/{realm_id}/companyinfo/{realm_id}?minorversion=75",
        headers,
    )
    return realm_id, str(info.get("CompanyInfo", {}).get("CompanyName") or "")


def _get(chosen: Provider, url: str, headers: dict[str, str]) -> Any:
    try:
        response = httpx.get(url, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise ProviderError(f"{chosen.label} unreachable: {exc}") from None
    if response.status_code != 200:
        raise ProviderError(
            f"{chosen.label} answered {response.status_code}",
            status=response.status_code,
            retry_after=retry_after_seconds(response),
        )
    return response.json()


def disconnect(principal: Principal, provider_name: str) -> dict[str, Any]:
    """Revoke the refresh token at the provider (best effort: a provider that cannot be
    told is logged and noted in last_error) and forget the tokens."""
    chosen = known_provider(provider_name)
    with db.transaction() as conn:
        integration = repository.get_integration(
            conn, principal.org_id, principal.livemode, chosen.name, for_update=True
        )
        if integration is None or integration.status == "disconnected":
            raise ResourceNotFound(f"{chosen.label} is not connected.", param="provider")
        note = None
        if integration.refresh_token and chosen.configured:
            try:
                chosen.revoke(secretbox.decrypt(integration.refresh_token))
            except ProviderError as exc:
                log.warning("%s: revocation failed: %s", chosen.name, exc.message)
                note = f"Disconnected; the provider could not be told: {exc.message}"
        repository.set_status(
            conn,
            principal.org_id,
            principal.livemode,
            chosen.name,
            status="disconnected",
            last_error=note,
            forget_tokens=True,
        )
        after = repository.get_integration(conn, principal.org_id, principal.livemode, chosen.name)
    assert after is not None
    return integration_status(chosen, after)


def integration_status(chosen: Provider, integration: Integration | None) -> dict[str, Any]:
    if integration is None or integration.status == "disconnected":
        status = "not_configured" if not chosen.configured else "not_connected"
    else:
        status = integration.status
    live = integration is not None and integration.status != "disconnected"
    return {
        "object": "integration",
        "provider": chosen.name,
        "configured": chosen.configured,
        "status": status,
        "connected": status == "connected",
        "tenant_id": integration.tenant_id if live and integration else None,
        "company_name": integration.company_name if live and integration else None,
        "last_sync": _unix(integration.last_sync) if integration else None,
        "last_error": integration.last_error if integration else None,
    }


def status(principal: Principal) -> dict[str, Any]:
    with db.transaction() as conn:
        found = {
            i.provider: i
            for i in repository.list_integrations(conn, principal.org_id, principal.livemode)
        }
    return list_body(
        [integration_status(provider(name), found.get(name)) for name in PROVIDERS], False, None
    )


# --- tokens for the publishing worker --------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    provider: Provider
    access_token: str
    tenant_id: str


def credentials(
    org_id: str, livemode: bool, provider_name: str, *, idle_since: datetime | None = None
) -> Credentials:
    """A usable access token, refreshed when it expires within REFRESH_MARGIN.

    Refreshing rotates the refresh token (the old one stops working), so two workers
    refreshing at once would lose the connection if both used the same old token: the
    refresh runs under the integration row's lock (SELECT ... FOR UPDATE), and the row is
    read again once the lock is held, so the second worker finds the first one's fresh
    token and uses it instead of refreshing again.

    `idle_since`: refresh also when the tokens were last saved before it (keeping an unused
    connection's refresh token alive: refresh_idle_connections).
    """
    chosen = provider(provider_name)
    with db.transaction() as conn:
        integration = repository.get_integration(conn, org_id, livemode, provider_name)
    if integration is None or integration.status != "connected":
        raise IntegrationNotConnected(f"{chosen.label} is not connected.", param="target")
    if not _needs_refresh(integration, idle_since):
        return _credentials(chosen, integration)
    refused: GrantRefused | None = None
    with db.transaction() as conn:
        locked = repository.get_integration(conn, org_id, livemode, provider_name, for_update=True)
        if locked is None or locked.status != "connected" or locked.refresh_token is None:
            raise IntegrationNotConnected(f"{chosen.label} is not connected.", param="target")
        if not _needs_refresh(locked, idle_since):
            return _credentials(chosen, locked)  # another worker refreshed meanwhile
        try:
            tokens = chosen.refresh(secretbox.decrypt(locked.refresh_token))
        except GrantRefused as exc:
            refused = exc
        else:
            # Both providers rotate; one that answered no new refresh token keeps the old.
            rotated = tokens.get("refresh_token")
            repository.save_tokens(
                conn,
                locked,
                access_token=secretbox.encrypt(tokens["access_token"]),
                refresh_token=secretbox.encrypt(rotated) if rotated else locked.refresh_token,
                expires_in=int(tokens.get("expires_in") or 1800),
            )
            return Credentials(chosen, tokens["access_token"], locked.tenant_id or "")
    # Revoked at the provider or expired: say so in the status, and stop using it.
    with db.transaction() as conn:
        repository.set_status(
            conn, org_id, livemode, provider_name, status="revoked", last_error=refused.message
        )
    raise IntegrationNotConnected(
        f"{chosen.label} refused the stored connection ({refused.message}); connect again.",
        param="target",
    )


def _needs_refresh(integration: Integration, idle_since: datetime | None = None) -> bool:
    if idle_since is not None and integration.updated_at < idle_since:
        return True
    expires = integration.expires_at
    return expires is None or expires - datetime.now(UTC) < REFRESH_MARGIN


# Refresh tokens die unused: Xero's after 60 days, Intuit's after 100. A connection whose
# tokens were last saved this long ago is refreshed by the daily keep-alive.
IDLE_REFRESH_AFTER = timedelta(days=30)


def refresh_idle_connections(batch: int = 50) -> dict[str, int]:
    """Refresh the connections nobody used for IDLE_REFRESH_AFTER, so that a company that
    publishes rarely stays connected. A refusal turns the connection `revoked` (as any
    refresh does); an unreachable provider is tried again the next day."""
    idle_since = datetime.now(UTC) - IDLE_REFRESH_AFTER
    with db.transaction() as conn:
        idle = repository.idle_connections(conn, idle_since, batch)
    outcome = {"connections_refreshed": 0, "connections_lost": 0}
    for integration in idle:
        try:
            credentials(
                integration.org_id,
                integration.livemode,
                integration.provider,
                idle_since=idle_since,
            )
        except IntegrationNotConnected:
            outcome["connections_lost"] += 1
        except ProviderError as exc:
            log.warning("%s: keep-alive refresh failed: %s", integration.provider, exc.message)
        else:
            outcome["connections_refreshed"] += 1
    return outcome


def _credentials(chosen: Provider, integration: Integration) -> Credentials:
    assert integration.access_token is not None
    return Credentials(
        chosen, secretbox.decrypt(integration.access_token), integration.tenant_id or ""
    )


def record_sync(org_id: str, livemode: bool, provider_name: str, error: str | None) -> None:
    with db.transaction() as conn:
        repository.set_status(
            conn, org_id, livemode, provider_name, last_error=error, synced=error is None
        )


# --- mappings --------------------------------------------------------------------------------


def mapping_resource(provider_name: str, mapping: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "integration_mapping",
        "provider": provider_name,
        "tax_codes": mapping["tax_codes"],
        "expense_account": mapping["expense_account"],
        "updated": _unix(mapping["updated_at"]),
    }


def get_mapping(principal: Principal, provider_name: str) -> dict[str, Any]:
    chosen = known_provider(provider_name)
    with db.transaction() as conn:
        mapping = repository.get_mapping(conn, principal.org_id, principal.livemode, chosen.name)
    return mapping_resource(chosen.name, mapping)


def normalise_rate(rate: Any) -> str | None:
    """A tax rate as the mapping's keys read: "19.00" for 19, "19", "19.0"."""
    if rate is None or rate == "":
        return None
    try:
        return f"{Decimal(str(rate)):.2f}"
    except InvalidOperation:
        return None


def put_mapping(
    principal: Principal,
    provider_name: str,
    *,
    tax_codes: dict[str, str],
    expense_account: str | None,
) -> dict[str, Any]:
    chosen = known_provider(provider_name)
    if len(tax_codes) > MAX_TAX_CODES:
        raise ValidationFailed(f"At most {MAX_TAX_CODES} tax rates.", param="tax_codes")
    normalised: dict[str, str] = {}
    for rate, code in tax_codes.items():
        key = normalise_rate(rate)
        if key is None or not 0 <= Decimal(key) <= 100:
            raise ValidationFailed(
                f"tax_codes: {rate!r} is not a rate between 0 and 100.", param="tax_codes"
            )
        normalised[key] = code
    with db.transaction() as conn:
        mapping = repository.put_mapping(
            conn,
            principal.org_id,
            principal.livemode,
            chosen.name,
            tax_codes=normalised,
            expense_account=expense_account,
        )
    return mapping_resource(chosen.name, mapping)
