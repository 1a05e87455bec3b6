"""Members of an organisation: invite (pending), activate, deactivate, change role.

The status moves:

    action      from                 to
    activate    pending, inactive    active
    deactivate  pending, active      inactive

Rules: an email is unique per organisation whatever its case; the last active owner can be
neither deactivated nor demoted; only owners (and organisation keys, which act for no member)
grant, remove, activate or deactivate the owner role. Keys tied to a member stop working
while it is not active (see `common.accounts.service.authenticate`) and start again when it
is reactivated; its role caps their scopes (`ROLE_SCOPES`).
"""

from __future__ import annotations

from dataclasses import dataclass

from common import db
from common.accounts.service import ROLES, Principal, principals
from common.db import Conn
from common.errors import (
    InsufficientScope,
    InvalidStateTransition,
    LastOwner,
    ResourceAlreadyExists,
    ResourceNotFound,
    ValidationFailed,
)
from common.ids import new_id
from common.members import repository
from common.members.repository import Member

STATUSES = ("active", "inactive", "pending")


@dataclass(frozen=True)
class Move:
    to_status: str
    from_statuses: tuple[str, ...]


MOVES = {
    "activate": Move("active", ("pending", "inactive")),
    "deactivate": Move("inactive", ("pending", "active")),
}


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationFailed(f"A role is one of {', '.join(ROLES)}.", param="role")
    return role


def _check_may_manage_owner(principal: Principal) -> None:
    if not principal.manages_owners:
        raise InsufficientScope("Only an owner can grant, remove or change an owner's access.")


def _owned_member(conn: Conn, principal: Principal, member_id: str) -> Member:
    member = repository.get_member(conn, principal.org_id, member_id)
    if member is None:
        raise ResourceNotFound(f"No member {member_id!r}.", param="id")
    return member


def _check_not_last_owner(conn: Conn, member: Member) -> None:
    """Call with the team lock held, before an active owner stops being one."""
    if (
        member.status == "active"
        and member.role == "owner"
        and repository.count_active_owners(conn, member.org_id) <= 1
    ):
        raise LastOwner(f"{member.email} is the organisation's last active owner.")


def list_members(
    principal: Principal, *, status: str | None, limit: int, after_id: str | None
) -> list[Member]:
    with db.connection() as conn:
        return repository.list_members(
            conn, principal.org_id, status=status, limit=limit, after_id=after_id
        )


def get_member(principal: Principal, member_id: str) -> Member:
    with db.connection() as conn:
        return _owned_member(conn, principal, member_id)


def invite_member(principal: Principal, *, email: str, name: str, role: str) -> Member:
    """A pending member; it (and keys tied to it) can act once activated."""
    email = email.strip()
    if not email:
        raise ValidationFailed("An email is required.", param="email")
    if _check_role(role) == "owner":
        _check_may_manage_owner(principal)
    with db.transaction() as conn:
        member = repository.insert_member(
            conn,
            member_id=new_id("mem"),
            org_id=principal.org_id,
            email=email,
            name=name.strip(),
            role=role,
            # a member signed in to the web app invites with no key (its key_id is its own ID)
            invited_by_key_id=principal.key_id if principal.key_id.startswith("key_") else None,
        )
    if member is None:
        raise ResourceAlreadyExists(
            f"The organisation already has a member with the email {email!r}.", param="email"
        )
    return member


def update_member(
    principal: Principal, member_id: str, *, role: str | None = None, name: str | None = None
) -> Member:
    """Change a member's role or name; a new role applies to its keys on their next request."""
    changes: dict[str, str] = {}
    if name is not None:
        changes["name"] = name.strip()
    with db.transaction() as conn:
        repository.lock_team(conn, principal.org_id)
        member = _owned_member(conn, principal, member_id)
        if role is not None and role != member.role:
            if "owner" in (_check_role(role), member.role):
                _check_may_manage_owner(principal)
                _check_not_last_owner(conn, member)
            changes["role"] = role
        if not changes:
            return member
        if "role" in changes:
            db.after_commit(conn, principals.forget_all)  # the role is part of the principal
        return repository.update_member(conn, member.id, changes)


def move_member(principal: Principal, member_id: str, action: str) -> Member:
    """Activate or deactivate; a move from a status it does not start from answers 409
    `invalid_state_transition`. A deactivated member's keys fail their next request."""
    move = MOVES[action]
    with db.transaction() as conn:
        repository.lock_team(conn, principal.org_id)
        member = _owned_member(conn, principal, member_id)
        if member.status not in move.from_statuses:
            raise InvalidStateTransition(
                f"Cannot {action} a member that is {member.status}.", param="status"
            )
        if member.role == "owner":
            _check_may_manage_owner(principal)
        if move.to_status != "active":
            _check_not_last_owner(conn, member)
        db.after_commit(conn, principals.forget_all)  # its keys work only while it is active
        return repository.set_member_status(conn, member.id, move.to_status)


def _timestamp(value) -> int | None:
    return int(value.timestamp()) if value else None


def member_resource(member: Member) -> dict:
    return {
        "id": member.id,
        "object": "member",
        "email": member.email,
        "name": member.name,
        "role": member.role,
        "status": member.status,
        "invited_by": member.invited_by_key_id,
        "created": int(member.created_at.timestamp()),
        "updated": int(member.updated_at.timestamp()),
        "activated": _timestamp(member.activated_at),
        "deactivated": _timestamp(member.deactivated_at),
    }
