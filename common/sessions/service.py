"""Members' passwords and web app sessions.

A session is a row keyed by the SHA-256 of a random secret the browser holds in a cookie;
it ends on sign-out, after INVEX_SESSION_IDLE_MINUTES without a request, INVEX_SESSION_MAX_HOURS
after sign-in, or when its member stops being active. Each session has its own CSRF token.
The web app acts for the member through a `Principal` whose role caps what it may do, as
a key tied to that member would; API keys never open a session, sessions never reach the API.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from common import db
from common.accounts import repository as accounts_repository
from common.accounts.service import ROLES, Principal
from common.config import get_settings
from common.errors import ResourceNotFound, ValidationFailed
from common.ids import new_id
from common.members import repository as members_repository
from common.members import service as members
from common.sessions import repository

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes any length; this bounds the work per attempt
# The last-seen time is written at most this often: not one UPDATE per page.
TOUCH_EVERY = timedelta(seconds=60)


@cache
def _hasher_for(name: str) -> PasswordHasher:
    if name == "test-only-cheap":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    # argon2id with the library's defaults (RFC 9106's second recommended set)
    return PasswordHasher()


def _hasher() -> PasswordHasher:
    """Parameters from INVEX_PASSWORD_HASHING; hashes made with others still verify (a
    hash carries its parameters)."""
    return _hasher_for(get_settings().password_hashing)


@cache
def _dummy_hash(name: str) -> str:
    """Verified against when no member matches, so an unknown email costs as long as a
    known one; made when first needed, not by every process that imports this module."""
    return _hasher_for(name).hash(secrets.token_urlsafe(16))


class SignInFailed(Exception):
    """Wrong email or password (which one is never said)."""


@dataclass(frozen=True)
class WebSession:
    id_sha256: str
    member_id: str
    org_id: str
    org_name: str
    email: str
    name: str
    role: str
    plan: str
    csrf_token: str

    def principal(self) -> Principal:
        """The member as the services know a caller: its role caps every action. History
        and comments name the member's ID where an API call names its key."""
        return Principal(
            org_id=self.org_id,
            key_id=self.member_id,
            livemode=True,
            scopes=frozenset(),
            plan=self.plan,
            member_id=self.member_id,
            member_role=self.role,
        )

    def csrf_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf_token.encode())


@dataclass(frozen=True)
class NewSession:
    secret: str  # for the cookie; stored only as its hash
    session: WebSession


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", param="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"A password has at most {MAX_PASSWORD_LENGTH} characters.", param="password"
        )
    return password


def set_password(org_id: str, email: str, password: str, *, create_role: str | None = None) -> str:
    """Set the member's password (argon2id), activate it if pending, and end its sessions;
    returns the member's ID. With `create_role`, a missing member is created with that role
    (an operator's way to the first owner)."""
    password_hash = _hasher().hash(check_password(password))
    email = email.strip()
    with db.transaction() as conn:
        member_id = repository.set_password_hash(conn, org_id, email, password_hash)
        if member_id is None and create_role is not None:
            if create_role not in ROLES:
                raise ValidationFailed(f"A role is one of {', '.join(ROLES)}.", param="role")
            if accounts_repository.get_org(conn, org_id) is None:
                raise ResourceNotFound(f"No organisation {org_id!r}.")
            created = members_repository.insert_member(
                conn,
                member_id=new_id("mem"),
                org_id=org_id,
                email=email,
                name="",
                role=create_role,
                invited_by_key_id=None,
            )
            assert created is not None  # set_password_hash found no member with this email
            member_id = created.id
            repository.set_password_hash(conn, org_id, email, password_hash)
        if member_id is None:
            raise ResourceNotFound(f"No member with the email {email!r} in {org_id}.")
        repository.delete_member_sessions(conn, member_id)
    return member_id


INVITATION_DAYS = 7


def create_invitation(principal: Principal, member_id: str) -> str:
    """A one-time link secret with which the (pending) member sets its password; valid
    INVITATION_DAYS. Only for a member of the caller's organisation."""
    principal.require("team:write")
    member = members.get_member(principal, member_id)  # 404 for another organisation's
    if member.status == "inactive":
        raise ValidationFailed("The member is deactivated; activate it first.", param="id")
    secret = secrets.token_urlsafe(32)
    with db.transaction() as conn:
        repository.insert_invitation(conn, _hash_secret(secret), member.id, INVITATION_DAYS * 86400)
    return secret


def invitation_for(secret: str | None) -> repository.Invitation | None:
    if not secret or len(secret) > 100:
        return None
    with db.connection() as conn:
        return repository.open_invitation(conn, _hash_secret(secret))


def accept_invitation(secret: str, password: str) -> str:
    """Set the invited member's password and activate it; the link then stops working.
    Returns the member's email (to sign in with). ResourceNotFound when the link is
    unknown, used or expired."""
    password_hash = _hasher().hash(check_password(password))
    with db.transaction() as conn:
        invitation = repository.open_invitation(conn, _hash_secret(secret), lock=True)
        if invitation is None:
            raise ResourceNotFound("This invitation link is unknown, used or expired.")
        repository.use_invitation(conn, _hash_secret(secret), password_hash)
        repository.delete_member_sessions(conn, invitation.member_id)
    return invitation.email


def _verified(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sign_in(email: str, password: str, *, ip: str | None, user_agent: str | None) -> NewSession:
    """A new session for the active member with this email and password; SignInFailed
    otherwise. An email in several organisations signs in to the oldest membership whose
    password matches."""
    email = email.strip()
    if not email or not password or len(password) > MAX_PASSWORD_LENGTH:
        raise SignInFailed
    with db.connection() as conn:
        candidates = repository.sign_in_candidates(conn, email)
    if not candidates:
        _verified(_dummy_hash(get_settings().password_hashing), password)
        raise SignInFailed
    member = next((c for c in candidates if _verified(c.password_hash, password)), None)
    if member is None:
        raise SignInFailed
    secret = secrets.token_urlsafe(32)
    settings = get_settings()
    with db.transaction() as conn:
        repository.insert_session(
            conn,
            id_sha256=_hash_secret(secret),
            member_id=member.member_id,
            org_id=member.org_id,
            csrf_token=secrets.token_urlsafe(32),
            max_seconds=settings.session_max_hours * 3600,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
        session = _load(conn, _hash_secret(secret))
    assert session is not None  # inserted in this transaction
    return NewSession(secret, session)


def _load(conn: db.Conn, id_sha256: str) -> WebSession | None:
    row = repository.get_session(conn, id_sha256)
    if row is None:
        return None
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if (
        row.member_status != "active"
        or row.now >= row.expires_at
        or row.now - row.last_seen_at >= idle
    ):
        repository.delete_session(conn, id_sha256)
        return None
    if row.now - row.last_seen_at >= TOUCH_EVERY:
        repository.touch_session(conn, id_sha256)
    return WebSession(
        id_sha256=row.id_sha256,
        member_id=row.member_id,
        org_id=row.org_id,
        org_name=row.org_name,
        email=row.email,
        name=row.name,
        role=row.role,
        plan=row.plan,
        csrf_token=row.csrf_token,
    )


def session_for(secret: str | None) -> WebSession | None:
    """The live session this cookie secret opens, or None (unknown, ended or expired: an
    expired one is deleted here)."""
    if not secret or len(secret) > 100:
        return None
    with db.transaction() as conn:
        return _load(conn, _hash_secret(secret))


def sign_out(secret: str | None) -> None:
    if not secret or len(secret) > 100:
        return
    with db.transaction() as conn:
        repository.delete_session(conn, _hash_secret(secret))


def delete_expired_sessions() -> int:
    """Housekeeping: sessions past their idle or absolute limit (each is refused anyway)."""
    with db.transaction() as conn:
        return repository.delete_expired_sessions(conn, get_settings().session_idle_minutes * 60)
