"""Bearer authentication and scopes, declared once per view.

`@requires("invoices:read")` both enforces the scope and records it for the discovery
endpoint and the OpenAPI document, where it also documents what it adds to every answer:
the rate limit headers and the 429 of a limit exceeded (and, for uploads, of the monthly
page credits used up).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from flask import current_app, g, request

from api.schemas import ErrorSchema
from common import logs
from common.accounts.service import Principal, authenticate
from common.errors import (
    AuthenticationRequired,
    InsufficientScope,
    InvalidApiKey,
    ValidationFailed,
)
from common.ratelimit import UPLOAD_SCOPE, RateLimiter, client_ip
from common.usage.service import count_api_call

SCOPE_ATTRIBUTE = "_invex_scope"
# app.extensions key of the app's RateLimiter (absent: INVEX_RATE_LIMITS=0)
RATE_LIMITER = "invex_rate_limiter"


def current_principal() -> Principal:
    return g.principal


def _principal_from_request() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationRequired
    return authenticate(secret.strip())


def _authenticate_limited() -> Principal:
    """The request's principal. The client address's budget of failed authentications is
    checked first (429 `rate_limited` when used up, whatever the key) and a 401 takes from
    it; `g.rate_limit` then feeds the 401's headers."""
    limiter: RateLimiter | None = current_app.extensions.get(RATE_LIMITER)
    if limiter is None:
        return _principal_from_request()
    ip = _client_ip(limiter)
    g.rate_limit = limiter.check_auth_failures(ip)
    try:
        return _principal_from_request()
    except (AuthenticationRequired, InvalidApiKey):
        g.rate_limit = limiter.count_auth_failure(ip)
        raise


def _count_against_rate_limits(principal: Principal, scope: str) -> None:
    """429 `rate_limited` over a limit; else `g.rate_limit` feeds the response headers."""
    limiter: RateLimiter | None = current_app.extensions.get(RATE_LIMITER)
    if limiter is None:
        return
    g.rate_limit = limiter.hit(principal, _client_ip(limiter), upload=scope == UPLOAD_SCOPE)


def _client_ip(limiter: RateLimiter) -> str:
    return client_ip(
        request.remote_addr, request.headers.get("X-Forwarded-For"), limiter.trusted_proxies
    )


# What common/ratelimit.py's Allowance.headers() sends; absent when rate limits are off
# (INVEX_RATE_LIMITS=0) or Redis cannot be reached, hence not `required`.
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {
        "description": "Requests allowed in the tightest window that applies to this one.",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in that window after this one.",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": "Unix time (seconds) when the oldest request leaves that window.",
        "schema": {"type": "integer"},
    },
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before a request can succeed.",
        "schema": {"type": "integer"},
    }
}
RATE_LIMITED = (
    "`rate_limited`: a limit of the organisation's plan is exceeded (requests per minute"
    " per key and per client address{uploads}), or the client address has used up its"
    " failed authentications (INVEX_AUTH_FAILURES_PER_MINUTE), whatever the key."
    " Retry-After says when to try again."
)
MONTHLY_LIMIT_REACHED = (
    " `monthly_limit_reached` (live uploads): the plan's monthly page allotment and the"
    " top-up credits are used up; Retry-After is the seconds until the next month (UTC)"
    " renews the allotment (or top up, or change plan)."
)


def _document_limits(wrapper: Callable, scope: str) -> None:
    """Add the rate limit headers to the view's documented answers and a 429, in the
    `_apidoc` flask-smorest's decorators below this one recorded (copied, not changed:
    functools.wraps shares the dict with the view)."""
    doc = deepcopy(getattr(wrapper, "_apidoc", {}))
    responses = doc.setdefault("response", {}).setdefault("responses", {})
    for entries in responses.values():
        for entry in entries:
            if isinstance(entry, dict):  # not a reference to a shared response
                entry["headers"] = {**RATE_LIMIT_HEADERS, **(entry.get("headers") or {})}
    upload = scope == UPLOAD_SCOPE
    description = RATE_LIMITED.format(uploads=", uploads per hour" if upload else "")
    responses.setdefault(429, []).append(
        {
            "schema": ErrorSchema,
            "description": description + (MONTHLY_LIMIT_REACHED if upload else ""),
            "headers": {**RATE_LIMIT_HEADERS, **RETRY_AFTER},
            "content_type": None,
        }
    )
    wrapper._apidoc = doc  # type: ignore[attr-defined]


def _reads_query(view: Callable) -> bool:
    """Whether flask-smorest's decorators below this one declared query arguments."""
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p["in"] in ("query", "querystring") for p in parameters)


def _refuse_query() -> None:
    """A view that declares no query arguments refuses any, as one that declares some
    refuses the unknown (StrictSchema): a parameter is never silently ignored."""
    for name in request.args:
        raise ValidationFailed(f"{name}: Unknown parameter `{name}`.", param=name)


# Between the scopes of an endpoint that needs one of several (which one, its body says).
SCOPE_ALTERNATIVES = " | "


def _require_one_of(principal: Principal, scopes: tuple[str, ...]) -> None:
    for candidate in scopes[:-1]:
        try:
            principal.require(candidate)
        except InsufficientScope:
            continue
        return
    principal.require(scopes[-1])  # the last one's refusal is the answer


def requires(scope: str, *alternatives: str) -> Callable:
    """The endpoint needs `scope`; with `alternatives`, any one of them (the view's service
    then requires the one the request's body names, as publishing does per target)."""
    accepted = (scope, *alternatives)

    def decorator(view: Callable) -> Callable:
        reads_query = _reads_query(view)

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            principal = _authenticate_limited()
            _count_against_rate_limits(principal, scope)
            _require_one_of(principal, accepted)
            if not reads_query:
                _refuse_query()
            g.principal = principal
            logs.bind(org_id=principal.org_id)
            count_api_call(principal)
            if g.get("api_version") is None:  # no header: the organisation's default
                g.api_version = principal.api_version
            return view(*args, **kwargs)

        setattr(wrapper, SCOPE_ATTRIBUTE, SCOPE_ALTERNATIVES.join(accepted))
        _document_limits(wrapper, scope)
        return wrapper

    return decorator
