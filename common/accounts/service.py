"""Organisations, API keys and the authentication of requests."""

from __future__ import annotations

from dataclasses import dataclass

from common import db, keys
from common.accounts import repository
from common.accounts.principal_cache import PrincipalCache
from common.config import get_settings
from common.errors import InsufficientScope, InvalidApiKey, ResourceNotFound, ValidationFailed
from common.ids import new_id
from common.members import repository as members_repository
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
        "publish:xero",
        "publish:qb",
    }
)

# What each member role may do. A key tied to a member acts with the scopes it holds AND its
# member's role allows (an empty key scope list meaning all): effective scopes are the
# intersection, part of the principal (authenticate), so a role change or a deactivation
# applies on the next request (principal_cache: every API process forgets it at the commit).
# Owners and admins differ only in that owners alone manage owners.
ROLES = ("owner", "admin", "member", "viewer")
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "owner": SCOPES,
    "admin": SCOPES,
    "member": SCOPES - {"webhooks:write", "settings:write", "team:write"},
    "viewer": frozenset(s for s in SCOPES if s.endswith(":read")),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: one key of one organisation, in one mode."""

    org_id: str
    key_id: str
    livemode: bool
    scopes: frozenset[str]
    api_version: str = LATEST
    # the organisation's plan (common/plans.py): its rate limits and monthly allotment
    plan: str = "free"
    # the member this key acts for, and that member's role (None: an organisation key)
    member_id: str | None = None
    member_role: str | None = None

    def require(self, scope: str) -> None:
        # A key with no scopes has full access (the contract), within its member's role.
        if self.scopes and scope not in self.scopes:
            raise InsufficientScope(f"This API key lacks the `{scope}` scope.")
        if self.member_role is not None and scope not in ROLE_SCOPES[self.member_role]:
            raise InsufficientScope(
                f"This API key acts for a member with role `{self.member_role}`,"
                f" which does not allow `{scope}`."
            )

    @property
    def manages_owners(self) -> bool:
        """Organisation keys and owners' keys may grant, remove and suspend the owner role."""
        return self.member_role in (None, "owner")


# Principals read in this process, see principal_cache and authenticate().
principals: PrincipalCache[Principal] = PrincipalCache(
    database_url=db.database_url, ttl=lambda: get_settings().key_cache_seconds
)


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


def principal_for_org(org_id: str, *, livemode: bool, acting_as: str) -> Principal:
    """A principal that uploads for an organisation without an API key (a mailbox, a
    watched folder): its plan applies; `acting_as` names the channel (a key ID's place)."""
    with db.connection() as conn:
        org = repository.get_org(conn, org_id)
    if org is None:
        raise ResourceNotFound(f"No organisation {org_id!r}.", param="org")
    return Principal(
        org_id=org.id,
        key_id=acting_as,
        livemode=livemode,
        scopes=frozenset({"upload:write"}),
        plan=org.plan,
    )


def create_api_key(
    org_id: str,
    *,
    livemode: bool = True,
    scopes: list[str] | None = None,
    name: str = "",
    member_id: str | None = None,
) -> CreatedKey:
    """A new key; tied to `member_id` it works only while that member is active."""
    scopes = sorted(set(scopes or []))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValidationFailed(f"Unknown scope {unknown[0]!r}.", param="scopes")
    secret = keys.generate_secret(livemode)
    with db.transaction() as conn:
        if repository.get_org(conn, org_id) is None:
            raise ValidationFailed(f"No organisation {org_id!r}.", param="org")
        if member_id is not None:
            member = members_repository.get_member(conn, org_id, member_id)
            if member is None:
                raise ResourceNotFound(f"No member {member_id!r}.", param="member_id")
            if member.status == "inactive":
                raise ValidationFailed(
                    f"Member {member_id!r} is deactivated; activate it first.",
                    param="member_id",
                )
        key = repository.insert_api_key(
            conn,
            key_id=new_id("key"),
            org_id=org_id,
            livemode=livemode,
            name=name,
            prefix=secret[: keys.DISPLAY_PREFIX_LENGTH],
            secret_sha256=keys.secret_hash(secret),
            scopes=scopes,
            member_id=member_id,
        )
    return CreatedKey(key, secret)


def authenticate(secret: str) -> Principal:
    """The principal for a bearer secret: the key, its organisation and the member it acts
    for. Read from the database, or from this process's cache of recent reads, which every
    change to them empties on every API process (see principal_cache): a revoked key, or a
    key whose member is deactivated (or still pending), fails its next request here and,
    within a millisecond or two of the commit, everywhere."""
    if not keys.secret_looks_valid(secret):
        raise InvalidApiKey
    secret_sha256 = keys.secret_hash(secret)
    known = principals.get(secret_sha256)
    if known is not None:
        return known
    generation = principals.generation()
    with db.connection() as conn:
        active = repository.find_active_key_by_hash(conn, secret_sha256)
    if active is None:
        raise InvalidApiKey
    key = active.key
    if key.member_id is not None and active.member_status != "active":
        raise InvalidApiKey(f"The member this API key acts for is {active.member_status}.")
    principal = Principal(
        org_id=key.org_id,
        key_id=key.id,
        livemode=key.livemode,
        scopes=frozenset(key.scopes),
        api_version=active.org_api_version,
        plan=active.org_plan,
        member_id=key.member_id,
        member_role=active.member_role,
    )
    principals.put(secret_sha256, principal, generation)
    return principal


def list_api_keys(principal: Principal) -> list[repository.ApiKey]:
    """Keys of the caller's organisation, both modes (a key manages its organisation)."""
    with db.connection() as conn:
        return repository.list_api_keys(conn, principal.org_id)


def revoke_api_key(principal: Principal, key_id: str) -> repository.ApiKey:
    """Revoked at once here, and on every other API process as its cache hears of it."""
    with db.connection() as conn:
        key = repository.revoke_api_key(conn, principal.org_id, key_id)
    principals.forget_all()
    if key is None:
        raise ResourceNotFound(f"No API key {key_id!r}.", param="id")
    return key


# --- operator commands (`invex orgs list`, `invex keys list|revoke`): no principal, the
# operator may see and revoke any organisation's keys, never their secrets.

MAX_LISTED_ORGS = 1000


def list_orgs(limit: int = 100) -> list[repository.Org]:
    """The first `limit` organisations by ID (oldest first: IDs sort by creation)."""
    if not 1 <= limit <= MAX_LISTED_ORGS:
        raise ValidationFailed(f"limit must be 1 to {MAX_LISTED_ORGS}.", param="limit")
    with db.connection() as conn:
        return repository.list_orgs(conn, limit)


def list_org_api_keys(org_id: str) -> list[repository.ApiKey]:
    """An organisation's keys, revoked ones included, newest first."""
    with db.connection() as conn:
        if repository.get_org(conn, org_id) is None:
            raise ResourceNotFound(f"No organisation {org_id!r}.", param="org")
        return repository.list_api_keys(conn, org_id)


def revoke_any_api_key(key_id: str) -> repository.ApiKey:
    """Revoke a key of whichever organisation holds it; as revoke_api_key, at once."""
    with db.transaction() as conn:
        key = repository.get_api_key(conn, key_id)
        revoked = repository.revoke_api_key(conn, key.org_id, key_id) if key else None
    principals.forget_all()
    if revoked is None:
        raise ResourceNotFound(f"No API key {key_id!r}.", param="id")
    return revoked


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
        "member_id": key.member_id,
    }
    if secret is not None:
        resource["secret"] = secret
    return resource


def create_api_key_as(
    principal: Principal,
    *,
    livemode: bool,
    scopes: list[str],
    name: str,
    member_id: str | None = None,
) -> CreatedKey:
    """A key made through the API never holds more than the key that made it: a scoped
    key can only hand out a subset of its own scopes (an empty list would mean all), and a
    key acting for a member makes keys for that same member only (so they share its role
    and lose access with it)."""
    if principal.scopes:
        if not scopes:
            raise InsufficientScope("A scoped key can only create keys with explicit scopes.")
        beyond = sorted(set(scopes) - principal.scopes)
        if beyond:
            raise InsufficientScope(f"This key cannot grant {beyond[0]!r}, which it lacks.")
    if principal.member_id is not None:
        if member_id not in (None, principal.member_id):
            raise InsufficientScope(
                "A key acting for a member can only create keys for that member."
            )
        member_id = principal.member_id
    return create_api_key(
        principal.org_id, livemode=livemode, scopes=scopes, name=name, member_id=member_id
    )
