"""Organisations, API keys and the authentication of requests."""

from __future__ import annotations

from dataclasses import dataclass

from common import db, keys
from common.accounts import repository
from common.errors import InsufficientScope, InvalidApiKey, ResourceNotFound, ValidationFailed
from common.ids import new_id
from common.versions import LATEST

SCOPES = frozenset(
    {
        "invoices:read",
        "invoices:write",
        "invoices:delete",
        "upload:write",
        "export:read",
        "export:write",
        "webhooks:read",
        "webhooks:write",
        "bank:read",
        "bank:write",
        "settings:read",
        "settings:write",
        "team:read",
        "team:write",
    }
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: one key of one organisation, in one mode."""

    org_id: str
    key_id: str
    livemode: bool
    scopes: frozenset[str]
    api_version: str = LATEST

    def require(self, scope: str) -> None:
        # A key with no scopes has full access (the contract).
        if self.scopes and scope not in self.scopes:
            raise InsufficientScope(f"This API key lacks the `{scope}` scope.")


@dataclass(frozen=True)
class CreatedKey:
    key: repository.ApiKey
    secret: str


def create_org(name: str) -> repository.Org:
    name = name.strip()
    if not name:
        raise ValidationFailed("An organisation needs a name.", param="name")
    with db.transaction() as conn:
        return repository.insert_org(conn, new_id("org"), name)


def create_api_key(
    org_id: str, *, livemode: bool = True, scopes: list[str] | None = None, name: str = ""
) -> CreatedKey:
    scopes = sorted(set(scopes or []))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValidationFailed(f"Unknown scope {unknown[0]!r}.", param="scopes")
    secret = keys.generate_secret(livemode)
    with db.transaction() as conn:
        if repository.get_org(conn, org_id) is None:
            raise ValidationFailed(f"No organisation {org_id!r}.", param="org")
        key = repository.insert_api_key(
            conn,
            key_id=new_id("key"),
            org_id=org_id,
            livemode=livemode,
            name=name,
            prefix=secret[: keys.DISPLAY_PREFIX_LENGTH],
            secret_sha256=keys.secret_hash(secret),
            scopes=scopes,
        )
    return CreatedKey(key, secret)


def authenticate(secret: str) -> Principal:
    """The principal for a bearer secret; revoked keys fail on the very next request."""
    if not keys.secret_looks_valid(secret):
        raise InvalidApiKey()
    with db.connection() as conn:
        active = repository.find_active_key_by_hash(conn, keys.secret_hash(secret))
    if active is None:
        raise InvalidApiKey()
    key = active.key
    return Principal(
        org_id=key.org_id,
        key_id=key.id,
        livemode=key.livemode,
        scopes=frozenset(key.scopes),
        api_version=active.org_api_version,
    )


def list_api_keys(principal: Principal) -> list[repository.ApiKey]:
    """Keys of the caller's organisation, both modes (a key manages its organisation)."""
    with db.connection() as conn:
        return repository.list_api_keys(conn, principal.org_id)


def revoke_api_key(principal: Principal, key_id: str) -> repository.ApiKey:
    """Revoked at once: every API process checks the key in the database on each request."""
    with db.connection() as conn:
        key = repository.revoke_api_key(conn, principal.org_id, key_id)
    if key is None:
        raise ResourceNotFound(f"No API key {key_id!r}.", param="id")
    return key


def api_key_resource(key: repository.ApiKey, secret: str | None = None) -> dict:
    resource = {
        "id": key.id,
        "object": "api_key",
        "name": key.name,
        "mode": "live" if key.livemode else "test",
        "prefix": key.prefix,
        "scopes": key.scopes,
        "created": int(key.created_at.timestamp()),
        "last_used": int(key.last_used_at.timestamp()) if key.last_used_at else None,
        "revoked": int(key.revoked_at.timestamp()) if key.revoked_at else None,
    }
    if secret is not None:
        resource["secret"] = secret
    return resource


def create_api_key_as(
    principal: Principal, *, livemode: bool, scopes: list[str], name: str
) -> CreatedKey:
    """A key made through the API never holds more than the key that made it: a scoped
    key can only hand out a subset of its own scopes (an empty list would mean all)."""
    if principal.scopes:
        if not scopes:
            raise InsufficientScope("A scoped key can only create keys with explicit scopes.")
        beyond = sorted(set(scopes) - principal.scopes)
        if beyond:
            raise InsufficientScope(f"This key cannot grant {beyond[0]!r}, which it lacks.")
    return create_api_key(principal.org_id, livemode=livemode, scopes=scopes, name=name)
