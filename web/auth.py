"""Who is signed in to the web app, and the checks every page and form passes.

The session cookie holds a random secret (common/sessions); the API's bearer keys are not
read here. Every POST carries the session's CSRF token (form field `csrf_token` or header
`X-CSRF-Token`); the sign-in form, before there is a session, carries the value of a
short-lived cookie instead (double submit).
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import abort, current_app, g, redirect, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from common.accounts.service import ROLE_SCOPES, Principal
from common.config import Settings
from common.ratelimit import RateLimiter, client_ip
from common.sessions import service as sessions

SESSION_COOKIE = "invex_session"
SIGN_IN_CSRF_COOKIE = "invex_signin_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# app.extensions key of the API's RateLimiter (api/auth.py): sign-ins share its Redis.
RATE_LIMITER = "invex_rate_limiter"
# app.extensions key of the settings the app was made with (web.register)
SETTINGS = "invex_web_settings"


def load_session() -> None:
    """Before every web request: g.web_session is the live session or None;
    g.session_expired says a cookie was sent whose session has ended."""
    secret = request.cookies.get(SESSION_COOKIE)
    g.web_session = sessions.session_for(secret)
    g.session_expired = secret is not None and g.web_session is None


def current_principal() -> Principal:
    return g.web_session.principal()


def can(scope: str) -> bool:
    """Whether the signed-in member's role allows `scope` (templates show actions by it)."""
    session = g.get("web_session")
    return session is not None and scope in ROLE_SCOPES[session.role]


def _sign_in_redirect() -> WerkzeugResponse:
    query = {"next": request.full_path.rstrip("?")}
    if g.get("session_expired"):
        query["expired"] = "1"
    return redirect(f"{url_for('web.sign_in')}?{urlencode(query)}")


def _csrf_given() -> str | None:
    return request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)


def signed_in(view: Callable) -> Callable:
    """A page for members only: without a session, to the sign-in page (and back after);
    an unsafe method without the session's CSRF token answers 403."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        session = g.get("web_session")
        if session is None:
            if (
                request.method in UNSAFE_METHODS
                and request.accept_mimetypes.best == "application/json"
            ):
                abort(401)
            return _sign_in_redirect()
        if request.method in UNSAFE_METHODS and not session.csrf_matches(_csrf_given()):
            abort(
                403, description="The form's security token is missing or stale; reload the page."
            )
        return view(*args, **kwargs)

    return wrapper


def new_sign_in_csrf() -> str:
    return secrets.token_urlsafe(32)


def check_sign_in_csrf() -> None:
    cookie = request.cookies.get(SIGN_IN_CSRF_COOKIE)
    given = _csrf_given()
    if not cookie or not given or not hmac.compare_digest(cookie.encode(), given.encode()):
        abort(403, description="The form's security token is missing or stale; reload the page.")


def request_is_https() -> bool:
    """Whether the browser reached us over https: directly, or through a trusted proxy
    (INVEX_TRUSTED_PROXIES) that says so in X-Forwarded-Proto."""
    if request.is_secure:
        return True
    settings: Settings = current_app.extensions[SETTINGS]
    peer = request.remote_addr or ""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in settings.trusted_proxies) and (
        request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower() == "https"
    )


def set_cookie(response: WerkzeugResponse, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=request_is_https(),
        httponly=True,
        samesite="Lax",
    )


def limiter() -> RateLimiter | None:
    return current_app.extensions.get(RATE_LIMITER)


def request_ip() -> str:
    found = limiter()
    return client_ip(
        request.remote_addr,
        request.headers.get("X-Forwarded-For"),
        found.trusted_proxies if found is not None else (),
    )
