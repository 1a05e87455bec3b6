"""Members of the caller's organisation: list, invite, change role, activate, deactivate."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import current_principal, requires
from api.blueprint import Blueprint
from api.idempotency import idempotent
from api.schemas import (
    MemberInviteArgs,
    MemberListArgs,
    MemberListSchema,
    MemberSchema,
    MemberUpdateArgs,
)
from common.members import service
from common.members.service import member_resource
from common.pagination import decode_cursor, list_body, page_of

blp = Blueprint(
    "members",
    __name__,
    url_prefix="/v1/members",
    description="The people of the organisation, their roles and statuses.",
)


@blp.route("")
class Members(MethodView):
    @requires("team:read")
    @blp.arguments(MemberListArgs, location="query")
    @blp.response(200, MemberListSchema)
    def get(self, args):
        """Members, newest first; filter `status` (`active`, `inactive`, `pending`)."""
        rows = service.list_members(
            current_principal(),
            status=args["status"],
            limit=args["limit"] + 1,
            after_id=decode_cursor(args["cursor"], "mem"),
        )
        page, has_more, cursor = page_of(rows, args["limit"])
        return list_body([member_resource(m) for m in page], has_more, cursor)

    @requires("team:write")
    @idempotent
    @blp.arguments(MemberInviteArgs)
    @blp.response(201, MemberSchema)
    def post(self, args):
        """Invite a member (pending until activated); emails are unique, whatever their case."""
        return member_resource(service.invite_member(current_principal(), **args))


@blp.route("/<member_id>")
class MemberById(MethodView):
    @requires("team:read")
    @blp.response(200, MemberSchema)
    def get(self, member_id):
        """One member."""
        return member_resource(service.get_member(current_principal(), member_id))

    @requires("team:write")
    @idempotent
    @blp.arguments(MemberUpdateArgs)
    @blp.response(200, MemberSchema)
    def patch(self, args, member_id):
        """Change `role` or `name`; the last active owner cannot be demoted (409 `last_owner`)."""
        return member_resource(service.update_member(current_principal(), member_id, **args))


def _register_move(action: str) -> None:
    @blp.route(f"/<member_id>/{action}", endpoint=f"member_{action}")
    class MemberMove(MethodView):
        @requires("team:write")
        @idempotent
        @blp.response(200, MemberSchema)
        def post(self, member_id):
            return member_resource(service.move_member(current_principal(), member_id, action))

    move = service.MOVES[action]
    MemberMove.post.__doc__ = (
        f"{action.capitalize()} (from: {', '.join(move.from_statuses)}); 409 "
        "`invalid_state_transition` otherwise."
        + (
            " Its keys fail their next request with 401 `invalid_api_key`; the last active"
            " owner cannot be deactivated (409 `last_owner`)."
            if action == "deactivate"
            else ""
        )
    )


for _action in service.MOVES:
    _register_move(_action)
