"""Sign in and sign out."""

from __future__ import annotations

from flask import g, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from common.errors import RateLimited, ResourceNotFound, ValidationFailed
from common.sessions import service as sessions
from common.sessions.service import SignInFailed
from web import auth
from web.blueprint import blp

SIGN_IN_CSRF_SECONDS = 3600


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("web.inbox")


def _sign_in_page(status: int = 200, error: str | None = None, email: str = "") -> WerkzeugResponse:
    token = auth.new_sign_in_csrf()
    page = render_template(
        "signin.html",
        signin_csrf=token,
        error=error,
        email=email,
        expired=request.args.get("expired") == "1",
        next=_safe_next(request.args.get("next")),
    )
    response = make_response(page, status)
    auth.set_cookie(response, auth.SIGN_IN_CSRF_COOKIE, token, SIGN_IN_CSRF_SECONDS)
    return response


@blp.get("/signin")
def sign_in() -> WerkzeugResponse:
    if g.web_session is not None:
        return redirect(_safe_next(request.args.get("next")))
    return _sign_in_page()


@blp.post("/signin")
def sign_in_submit() -> WerkzeugResponse:
    auth.check_sign_in_csrf()
    email = request.form.get("email", "")[:320]
    password = request.form.get("password", "")
    limiter = auth.limiter()
    ip = auth.request_ip()
    try:
        if limiter is not None:
            limiter.check_sign_in(ip, email)
        created = sessions.sign_in(
            email, password, ip=ip, user_agent=request.headers.get("User-Agent")
        )
    except SignInFailed:
        try:
            if limiter is not None:
                limiter.count_sign_in_failure(ip, email)
        except RateLimited:
            pass  # this failure used the budget up: the next attempt is refused
        return _sign_in_page(401, "The email or the password is not right.", email)
    except RateLimited as exc:
        response = _sign_in_page(429, "Too many failed sign-ins. Wait a minute and try again.")
        response.headers.update({k: v for k, v in exc.headers.items() if k == "Retry-After"})
        return response
    response = redirect(_safe_next(request.form.get("next")))
    auth.set_cookie(
        response,
        auth.SESSION_COOKIE,
        created.secret,
        max_age=sessions.get_settings().session_max_hours * 3600,
    )
    response.delete_cookie(auth.SIGN_IN_CSRF_COOKIE, path="/")
    return response


@blp.post("/signout")
@auth.signed_in
def sign_out() -> WerkzeugResponse:
    sessions.sign_out(request.cookies.get(auth.SESSION_COOKIE))
    response = redirect(url_for("web.sign_in"))
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


def _invitation_form(token: str, status: int = 200, error: str | None = None) -> WerkzeugResponse:
    invitation = sessions.invitation_for(token)
    if invitation is None:
        page = render_template(
            "error.html",
            status=404,
            title="Invitation not found",
            message="This invitation link is unknown, used or expired. Ask for a new one.",
        )
        return make_response(page, 404)
    csrf = auth.new_sign_in_csrf()
    page = render_template(
        "invitation.html", invitation=invitation, signin_csrf=csrf, error=error, token=token
    )
    response = make_response(page, status)
    auth.set_cookie(response, auth.SIGN_IN_CSRF_COOKIE, csrf, SIGN_IN_CSRF_SECONDS)
    return response


@blp.get("/invitations/<token>")
def invitation(token: str) -> WerkzeugResponse:
    return _invitation_form(token)


@blp.post("/invitations/<token>")
def invitation_accept(token: str) -> WerkzeugResponse:
    auth.check_sign_in_csrf()
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return _invitation_form(token, 400, "The two passwords differ.")
    try:
        email = sessions.accept_invitation(token, password)
    except ValidationFailed as exc:
        return _invitation_form(token, 400, exc.message)
    except ResourceNotFound:
        return _invitation_form(token)
    created = sessions.sign_in(
        email, password, ip=auth.request_ip(), user_agent=request.headers.get("User-Agent")
    )
    response = redirect(url_for("web.inbox"))
    auth.set_cookie(
        response,
        auth.SESSION_COOKIE,
        created.secret,
        max_age=sessions.get_settings().session_max_hours * 3600,
    )
    response.delete_cookie(auth.SIGN_IN_CSRF_COOKIE, path="/")
    return response
