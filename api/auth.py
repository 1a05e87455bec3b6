"""Bearer authentication and scopes, declared once per view.

`@requires("invoices:read")` both enforces the scope and records it for the discovery
endpoint and the OpenAPI document.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, request

from common.accounts.service import Principal, authenticate
from common.errors import AuthenticationRequired
from common.usage.service import count_api_call

SCOPE_ATTRIBUTE = "_invex_scope"


def current_principal() -> Principal:
    return g.principal


def _principal_from_request() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationRequired()
    return authenticate(secret.strip())


def requires(scope: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            principal = _principal_from_request()
            principal.require(scope)
            g.principal = principal
            count_api_call(principal)
            if g.get("api_version") is None:  # no header: the organisation's default
                g.api_version = principal.api_version
            return view(*args, **kwargs)

        setattr(wrapper, SCOPE_ATTRIBUTE, scope)
        return wrapper

    return decorator
