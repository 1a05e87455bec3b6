"""Settings: plan and credits, members and roles, API keys, webhook endpoints."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from common.accounts import service as accounts
from common.credits import service as credits
from common.errors import InvexError, ValidationFailed
from common.members import service as members
from common.sessions import service as sessions
from common.webhooks import service as webhooks
from web import auth
from web.blueprint import blp

LIST_LIMIT = 100


@blp.get("/settings")
@auth.signed_in
def settings() -> str:
    principal = auth.current_principal()
    return render_template(
        "settings.html",
        credits=credits.credits(principal),
        members=(
            [
                members.member_resource(m)
                for m in members.list_members(
                    principal, status=None, limit=LIST_LIMIT, after_id=None
                )
            ]
            if auth.can("team:read")
            else []
        ),
        keys=(
            [accounts.api_key_resource(k) for k in accounts.list_api_keys(principal)]
            if auth.can("settings:write")
            else []
        ),
        endpoints=(
            [
                webhooks.endpoint_resource(e)
                for e in webhooks.list_endpoints(principal, limit=LIST_LIMIT, after_id=None)
            ]
            if auth.can("webhooks:read")
            else []
        ),
        new_secret=None,
        done=request.args.get("done"),
        error=request.args.get("error"),
    )


def _back(**message: Any) -> WerkzeugResponse:
    return redirect(url_for("web.settings", **message))


@blp.post("/settings/api-keys")
@auth.signed_in
def settings_create_key() -> str | WerkzeugResponse:
    principal = auth.current_principal()
    principal.require("settings:write")
    name = request.form.get("name", "").strip()[:100]
    livemode = request.form.get("mode", "live") != "test"
    try:
        # The key acts for the member who made it: its role caps the key (create_api_key_as).
        created = accounts.create_api_key_as(principal, livemode=livemode, scopes=[], name=name)
    except InvexError as exc:
        return _back(error=exc.message)
    return render_template(
        "key_created.html", key=accounts.api_key_resource(created.key), secret=created.secret
    )


@blp.post("/settings/api-keys/<id(key):key_id>/revoke")
@auth.signed_in
def settings_revoke_key(key_id: str) -> WerkzeugResponse:
    principal = auth.current_principal()
    principal.require("settings:write")
    accounts.revoke_api_key(principal, key_id)
    return _back(done=f"Key {key_id} revoked.")


@blp.post("/settings/members/<id(mem):member_id>/role")
@auth.signed_in
def settings_member_role(member_id: str) -> WerkzeugResponse:
    principal = auth.current_principal()
    principal.require("team:write")
    try:
        members.update_member(principal, member_id, role=request.form.get("role", ""))
    except InvexError as exc:
        return _back(error=exc.message)
    return _back(done="Role changed.")


@blp.get("/settings/webhooks/<id(whk):endpoint_id>")
@auth.signed_in
def settings_webhook(endpoint_id: str) -> str:
    principal = auth.current_principal()
    principal.require("webhooks:read")
    endpoint = webhooks.get_endpoint(principal, endpoint_id)
    deliveries = webhooks.list_deliveries(principal, endpoint_id, limit=LIST_LIMIT, after_id=None)
    return render_template(
        "webhook.html",
        endpoint=webhooks.endpoint_resource(endpoint),
        deliveries=[webhooks.delivery_resource(d) for d in deliveries],
        done=request.args.get("done"),
    )


@blp.post("/settings/webhooks/<id(whk):endpoint_id>/test")
@auth.signed_in
def settings_webhook_test(endpoint_id: str) -> WerkzeugResponse:
    principal = auth.current_principal()
    principal.require("webhooks:write")
    webhooks.send_test_ping(principal, endpoint_id)
    return redirect(
        url_for("web.settings_webhook", endpoint_id=endpoint_id, done="Test event sent.")
    )


@blp.post("/settings/webhooks/<id(whk):endpoint_id>/deliveries/<id(dlv):delivery_id>/retry")
@auth.signed_in
def settings_webhook_retry(endpoint_id: str, delivery_id: str) -> WerkzeugResponse:
    principal = auth.current_principal()
    principal.require("webhooks:write")
    webhooks.retry_delivery(principal, endpoint_id, delivery_id)
    return redirect(url_for("web.settings_webhook", endpoint_id=endpoint_id, done="Retry queued."))


@blp.post("/settings/webhooks")
@auth.signed_in
def settings_webhook_create() -> str | WerkzeugResponse:
    principal = auth.current_principal()
    principal.require("webhooks:write")
    events = [e.strip() for e in request.form.get("events", "").split(",") if e.strip()]
    try:
        created = webhooks.create_endpoint(
            principal,
            url=request.form.get("url", "").strip()[:2000],
            events=events,
            description=request.form.get("description", "").strip()[:500],
        )
    except InvexError as exc:
        return _back(error=exc.message)
    return render_template(
        "webhook_created.html",
        endpoint=webhooks.endpoint_resource(created.endpoint),
        secret=created.secret,
    )


def _invitation_page(email: str, secret: str) -> str:
    link = url_for("web.invitation", token=secret, _external=True)
    return render_template("invitation_created.html", email=email, link=link)


@blp.post("/settings/members")
@auth.signed_in
def settings_invite_member() -> str | WerkzeugResponse:
    principal = auth.current_principal()
    principal.require("team:write")
    try:
        member = members.invite_member(
            principal,
            email=request.form.get("email", "")[:320],
            name=request.form.get("name", "")[:200],
            role=request.form.get("role", "member"),
        )
        secret = sessions.create_invitation(principal, member.id)
    except InvexError as exc:
        return _back(error=exc.message)
    return _invitation_page(member.email, secret)


@blp.post("/settings/members/<id(mem):member_id>/invitation")
@auth.signed_in
def settings_new_invitation(member_id: str) -> str | WerkzeugResponse:
    principal = auth.current_principal()
    try:
        secret = sessions.create_invitation(principal, member_id)
    except ValidationFailed as exc:
        return _back(error=exc.message)
    return _invitation_page(members.get_member(principal, member_id).email, secret)


@blp.post("/settings/webhooks/<id(whk):endpoint_id>/<any(enable, disable):action>")
@auth.signed_in
def settings_webhook_switch(endpoint_id: str, action: str) -> WerkzeugResponse:
    principal = auth.current_principal()
    principal.require("webhooks:write")
    webhooks.update_endpoint(principal, endpoint_id, {"enabled": action == "enable"})
    done = "Endpoint enabled." if action == "enable" else "Endpoint disabled."
    return redirect(url_for("web.settings_webhook", endpoint_id=endpoint_id, done=done))


@blp.post("/settings/webhooks/<id(whk):endpoint_id>/rotate-secret")
@auth.signed_in
def settings_webhook_rotate(endpoint_id: str) -> str:
    principal = auth.current_principal()
    principal.require("webhooks:write")
    rotated = webhooks.rotate_secret(principal, endpoint_id)
    return render_template(
        "webhook_created.html",
        endpoint=webhooks.endpoint_resource(rotated.endpoint),
        secret=rotated.secret,
        rotated=True,
    )
