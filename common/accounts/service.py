"""Organisations, API keys and the authentication of requests."""

from __future__ import annotations

from dataclasses import dataclass

from common import db, keys
from common.accounts import repository
from common.errors import InsufficientScope, InvalidApiKey, ValidationFailed
from common.ids import new_id

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
        key = repository.find_active_key_by_hash(conn, keys.secret_hash(secret))
    if key is None:
        raise InvalidApiKey()
    return Principal(
        org_id=key.org_id, key_id=key.id, livemode=key.livemode, scopes=frozenset(key.scopes)
    )
