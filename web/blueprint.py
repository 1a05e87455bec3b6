"""The web app's blueprint: its templates, its static files under /assets, and what every
page shares (the session, security headers, error pages)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, g, render_template, request
from werkzeug.exceptions import HTTPException

from common.errors import InternalError, InvexError
from web import auth

log = logging.getLogger(__name__)

blp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

# Files and the API reference need no session: no database read for them.
SESSIONLESS_ENDPOINTS = frozenset({"web.static", "web.swagger_asset", "web.api_reference"})
# Scripts and styles from this server only; no frames; images may be inline (data:).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline';"
    " script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


@blp.before_request
def load_session() -> None:
    if request.endpoint not in SESSIONLESS_ENDPOINTS:
        auth.load_session()


@blp.after_request
def security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if g.get("web_session") is not None:
        response.headers["Cache-Control"] = "no-store"  # pages of one member, never shared
    return response


@blp.app_context_processor
def page_context() -> dict:
    session = g.get("web_session")
    return {
        "web_session": session,
        "csrf_token": session.csrf_token if session is not None else "",
        "can": auth.can,
    }


def _error_page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, message=message), status


@blp.errorhandler(InvexError)
def invex_error(error: InvexError):
    if request.headers.get(auth.CSRF_HEADER) or request.accept_mimetypes.best == "application/json":
        return {"error": {"code": error.code, "message": error.message}}, error.status
    return _error_page(error.status, error.code.replace("_", " ").capitalize(), error.message)


@blp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    status = error.code or 500
    if request.headers.get(auth.CSRF_HEADER) or request.accept_mimetypes.best == "application/json":
        return {"error": {"code": str(status), "message": error.description}}, status
    return _error_page(status, error.name, error.description or "")


@blp.errorhandler(Exception)
def unexpected_error(error: Exception):
    # Flask calls this inside its own except block, so the traceback is at hand.
    log.exception("unhandled error on page %s", g.get("request_id", "?"))  # noqa: LOG004
    internal = InternalError()
    return invex_error(internal)
