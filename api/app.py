"""The Flask application: contract-shaped errors, Request-Id, OpenAPI, blueprints."""

from __future__ import annotations

import ipaddress
import logging
import time

from flask import Flask, Response, abort, g, request
from flask_smorest import Api

from api.auth import RATE_LIMITER
from api.blueprint import IdConverter
from api.errors import http_exception_to_error, register_error_handlers, render_error
from api.json_provider import OrjsonProvider
from api.schemas import ErrorSchema, is_storable_text
from api.views import (
    api_keys,
    bank,
    commercial,
    credits,
    exports,
    integrations,
    invoices,
    mailboxes,
    members,
    meta,
    schemas,
    usage,
    webhooks,
)
from common import db, logs, metrics
from common.config import Settings, get_settings
from common.errors import ResourceNotFound
from common.ids import new_id
from common.ratelimit import RateLimiter
from common.versions import LATEST, check_version, render_for_version
from web import register as register_web_app

# Room for the multipart envelope around a file at the upload limit.
MULTIPART_OVERHEAD = 64 * 1024


class InvexApi(Api):
    ERROR_SCHEMA = ErrorSchema  # documents errors in the contract's shape

    def handle_http_exception(self, error):
        # flask-smorest's own handler would answer in its shape; ours is the contract's.
        return render_error(http_exception_to_error(error))

    def _register_pagination_header(self):
        # Lists page by cursor in the body; flask-smorest's page-number header and its
        # schema (whose `total` is a count, not money) are no part of this API.
        pass

    def _openapi_json(self):
        # flask-smorest's, ending with a newline as every JSON answer does (OrjsonProvider)
        response = super()._openapi_json()
        response.set_data(response.get_data() + b"\n")
        return response


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    settings.require_servers()
    db.configure(settings.database_url)
    logs.configure_logging(settings.log_level, settings.log_format)

    app = Flask("invex")
    app.json = OrjsonProvider(app)
    app.config.update(
        # Werkzeug refuses a larger body while it streams in, before it is all read.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + MULTIPART_OVERHEAD,
        API_TITLE="Invex",
        API_VERSION="1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="v1/openapi.json",
        JSON_SORT_KEYS=False,
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.converters["id"] = IdConverter
    api = InvexApi(app)
    api.register_converter(IdConverter, lambda c: {"type": "string", "pattern": f"^{c.regex}$"})
    api.register_blueprint(meta.blp)
    api.register_blueprint(invoices.blp)
    api.register_blueprint(schemas.blp)
    api.register_blueprint(api_keys.blp)
    api.register_blueprint(members.blp)
    api.register_blueprint(usage.blp)
    api.register_blueprint(credits.blp)
    api.register_blueprint(webhooks.blp)
    api.register_blueprint(webhooks.events_blp)
    api.register_blueprint(exports.blp)
    api.register_blueprint(bank.blp)
    api.register_blueprint(mailboxes.blp)
    api.register_blueprint(commercial.quotes_blp)
    api.register_blueprint(commercial.orders_blp)
    api.register_blueprint(commercial.matching_blp)
    api.register_blueprint(integrations.blp)
    api.register_blueprint(integrations.publish_blp)
    register_web_app(app, settings)  # the review app and /docs, beside the API
    register_error_handlers(app)
    if settings.rate_limits:
        app.extensions[RATE_LIMITER] = RateLimiter(
            settings.redis_url,
            trusted_proxies=settings.trusted_proxies,
            plan_limits=settings.plan_limits,
            auth_failures_per_minute=settings.auth_failures_per_minute,
        )

    @app.before_request
    def assign_request_id():
        g.started = time.monotonic()
        g.request_id = new_id("req")
        logs.clear()  # a thread serves many requests: nothing of the previous one stays
        logs.bind(request_id=g.request_id, invoice_id=_invoice_id_in_path())
        requested = request.headers.get("Invex-Version")
        g.api_version = check_version(requested) if requested is not None else None

    @app.before_request
    def refuse_impossible_ids():
        # No object has an ID PostgreSQL cannot even compare (a NUL, say): 404 before a query.
        if not all(is_storable_text(str(v)) for v in (request.view_args or {}).values()):
            raise ResourceNotFound

    @app.after_request
    def add_request_id_and_version(response):
        response.headers["Request-Id"] = getattr(g, "request_id", "")
        version = g.get("api_version") or LATEST
        response.headers["Invex-Version"] = version
        allowance = g.get("rate_limit")
        if allowance is not None:
            for name, value in allowance.headers().items():
                response.headers.setdefault(name, value)
        if version != LATEST and response.mimetype == "application/json":
            payload = response.get_json(silent=True)
            if payload is not None:
                response.set_data(app.json.dumps(render_for_version(payload, version)) + "\n")
        return response

    @app.after_request
    def count_request(response):
        # The route's template, not the path: one series per route, whatever the IDs.
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        elapsed = time.monotonic() - g.get("started", time.monotonic())
        metrics.REQUEST_SECONDS.labels(route, request.method, str(response.status_code)).observe(
            elapsed
        )
        if settings.log_format == "json":
            # gunicorn's access log cannot carry the IDs; this line does (text mode keeps
            # gunicorn's own).
            request_log.info(
                "%s %s %d %.1f ms",
                request.method,
                # a path carrying a secret (the web app's invitation links) logs its route
                route if "token" in (request.view_args or {}) else request.path,
                response.status_code,
                elapsed * 1000,
            )
        return response

    metrics_allowed = settings.metrics_allow
    backlog = metrics.BacklogCollector()

    @app.get("/metrics")
    def prometheus_metrics():
        """Prometheus text format; for the addresses in INVEX_METRICS_ALLOW only. A request
        a proxy relayed (X-Forwarded-For) is from outside whatever the proxy's address."""
        if "X-Forwarded-For" in request.headers or not _address_in(
            request.remote_addr, metrics_allowed
        ):
            abort(404)
        body = metrics.render(metrics.scrape_registry(backlog))
        return Response(body, content_type="text/plain; version=0.0.4; charset=utf-8")

    return app


request_log = logging.getLogger("api.requests")


def _invoice_id_in_path() -> str | None:
    value = (request.view_args or {}).get("invoice_id")
    return value if isinstance(value, str) else None


def _address_in(address: str | None, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)
