"""Bearer authentication and scopes, declared once per view.

`@requires("invoices:read")` both enforces the scope and records it for the discovery
endpoint and the OpenAPI document.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, g, request

from common.accounts.service import Principal, authenticate
from common.errors import AuthenticationRequired
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
        raise AuthenticationRequired()
    return authenticate(secret.strip())


def _count_against_rate_limits(principal: Principal, scope: str) -> None:
    """429 `rate_limited` over a limit; else `g.rate_limit` feeds the response headers."""
    limiter: RateLimiter | None = current_app.extensions.get(RATE_LIMITER)
    if limiter is None:
        return
    ip = client_ip(
        request.remote_addr, request.headers.get("X-Forwarded-For"), limiter.trusted_proxies
    )
    g.rate_limit = limiter.hit(principal, ip, upload=scope == UPLOAD_SCOPE)


def requires(scope: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            principal = _principal_from_request()
            _count_against_rate_limits(principal, scope)
            principal.require(scope)
            g.principal = principal
            count_api_call(principal)
            if g.get("api_version") is None:  # no header: the organisation's default
                g.api_version = principal.api_version
            return view(*args, **kwargs)

        setattr(wrapper, SCOPE_ATTRIBUTE, scope)
        return wrapper

    return decorator
