"""Unauthenticated endpoints: discovery and ping."""

from __future__ import annotations

import re

from flask import current_app, jsonify
from flask.views import MethodView

from api.auth import SCOPE_ALTERNATIVES, SCOPE_ATTRIBUTE
from api.blueprint import Blueprint
from api.schemas import DiscoverySchema, PingSchema
from common.accounts.service import SCOPES
from common.events import EVENT_TYPES, NOT_YET_EMITTED
from common.health import service_status

blp = Blueprint("meta", __name__, url_prefix="/v1", description="Discovery and health.")

API_VERSION = "1"
# `<invoice_id>` or `<id(inv):invoice_id>`: shown as `{invoice_id}`
PATH_PARAMETER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def _endpoints() -> list[dict]:
    listed = []
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/v1"):
            continue
        view = current_app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            handler = getattr(view_class, method.lower(), view) if view_class else view
            listed.append(
                {
                    "method": method,
                    "path": PATH_PARAMETER.sub(r"{\1}", rule.rule),
                    "scope": getattr(handler, SCOPE_ATTRIBUTE, None),
                }
            )
    return sorted(listed, key=lambda e: (e["path"], e["method"]))


NOT_EMITTED_NOTE = (
    "Nothing sends this event yet (its feature is not built); endpoints may subscribe ahead."
)
NOT_CHECKED_NOTE = (
    "No endpoint requires this scope yet (its feature is not built); keys may hold it ahead."
)


def _event_types() -> list[dict]:
    return [
        {
            "type": name,
            "emitted": name not in NOT_YET_EMITTED,
            "note": NOT_EMITTED_NOTE if name in NOT_YET_EMITTED else None,
        }
        for name in sorted(EVENT_TYPES)
    ]


def _scopes(endpoints: list[dict]) -> list[dict]:
    checked = {scope for e in endpoints for scope in (e["scope"] or "").split(SCOPE_ALTERNATIVES)}
    return [
        {
            "scope": scope,
            "checked": scope in checked,
            "note": None if scope in checked else NOT_CHECKED_NOTE,
        }
        for scope in sorted(SCOPES)
    ]


# The document's default is a bearer key; these two need none.
UNAUTHENTICATED: dict = {"security": []}


@blp.route("")
class Discovery(MethodView):
    @blp.doc(**UNAUTHENTICATED)
    @blp.response(200, DiscoverySchema)
    def get(self):
        """What this server is, every endpoint with the scope it needs, every webhook event
        type and every key scope, each noted when nothing uses it yet."""
        endpoints = _endpoints()
        return jsonify(
            {
                "object": "discovery",
                "name": "Invex",
                "version": API_VERSION,
                "openapi": "/v1/openapi.json",
                "docs": "/docs",
                "endpoints": endpoints,
                "event_types": _event_types(),
                "scopes": _scopes(endpoints),
            }
        )


@blp.route("/ping")
class Ping(MethodView):
    @blp.doc(**UNAUTHENTICATED)
    @blp.response(200, PingSchema)
    @blp.alt_response(503, schema=PingSchema, description="The database or broker is down.")
    def get(self):
        """`operational`, or `degraded` with 503 while the database or the broker is down."""
        checks = service_status()
        healthy = all(checks.values())
        response = jsonify(
            {
                "pong": True,
                "version": API_VERSION,
                "status": "operational" if healthy else "degraded",
                "checks": checks,
            }
        )
        if not healthy:
            response.status_code = 503
            response.headers["Retry-After"] = "5"
        return response
