"""Webhook endpoints and delivering their events.

Delivery is at-least-once. A delivery row is written with its event, in the same
transaction (common/events.py: record_event and its fan_out);
after commit one coalesced nudge wakes a sender (task `send_due_deliveries`), which claims
due rows from PostgreSQL in batches with SKIP LOCKED and sends each batch on its threads.
There is no task per delivery: the schedule (next attempt, lease) lives in the rows, and
beat's `dispatch_due` takes back sends whose worker died and wakes a sender whenever
anything is due, so a crashed worker or a flushed broker loses nothing. Events of one
object reach one endpoint in order: a delivery goes only when no earlier delivery of its
chain (endpoint, object) is still pending.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from common import db, logs, metrics, taskqueue
from common.accounts.service import Principal
from common.config import get_settings
from common.db import Conn
from common.errors import DeliveryInProgress, ResourceNotFound, ValidationFailed
from common.events import EVENT_TYPES, record_event
from common.ids import new_id
from common.signing import generate_webhook_secret, sign_payload, standard_webhooks_headers
from common.webhooks import repository
from common.webhooks.nudges import NUDGE_KEY, nudge_sender
from common.webhooks.repository import Delivery, Endpoint
from common.webhooks.ssrf import UnsafeWebhookUrl, check_webhook_url, pinned_post

log = logging.getLogger(__name__)

# Seconds after the 1st, 2nd, ... failed attempt; after the last, the delivery is given up.
RETRY_DELAYS = (60, 300, 900, 3600, 6 * 3600, 24 * 3600)
DISABLE_AFTER = timedelta(days=3)
ROTATION_OVERLAP = timedelta(hours=24)
TIMEOUT_SECONDS = 15.0
LEASE_SECONDS = 60
RESPONSE_BODY_LIMIT = 1024
# Every type of the contract; `ping` reaches an endpoint only from POST .../test, whether
# it subscribed to it or not (events.fan_out), and `*` means every other type.
SUBSCRIBABLE = frozenset(EVENT_TYPES)


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: Endpoint
    secret: str


# --- endpoints ---------------------------------------------------------------------------


def _check_url(url: str) -> str:
    settings = get_settings()
    try:
        return check_webhook_url(
            url,
            allow_http=settings.webhook_allow_http,
            allow_private=settings.webhook_allow_private,
        )
    except UnsafeWebhookUrl as exc:
        raise ValidationFailed(str(exc), param="url") from None


def _check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in SUBSCRIBABLE and e != "*"]
    if unknown:
        raise ValidationFailed(f"Unknown event type {unknown[0]!r}.", param="events")
    return [] if "*" in events else sorted(set(events))


def create_endpoint(
    principal: Principal,
    *,
    url: str,
    events: list[str],
    description: str = "",
    enabled: bool = True,
) -> CreatedEndpoint:
    secret = generate_webhook_secret()
    with db.transaction() as conn:
        endpoint = repository.insert_endpoint(
            conn,
            id=new_id("whk"),
            org_id=principal.org_id,
            livemode=principal.livemode,
            url=_check_url(url),
            description=description,
            events=_check_events(events),
            enabled=enabled,
            secret=secret,
        )
    return CreatedEndpoint(endpoint, secret)


def get_endpoint(
    principal: Principal,
    endpoint_id: str,
    conn: Conn | None = None,
    *,
    for_update: bool = False,
) -> Endpoint:
    if conn is None:
        with db.transaction() as own:
            return get_endpoint(principal, endpoint_id, own)
    endpoint = repository.get_endpoint(
        conn, principal.org_id, principal.livemode, endpoint_id, for_update=for_update
    )
    if endpoint is None:
        raise ResourceNotFound(f"No webhook endpoint {endpoint_id!r}.", param="id")
    return endpoint


def list_endpoints(principal: Principal, *, limit: int, after_id: str | None) -> list[Endpoint]:
    with db.transaction() as conn:
        return repository.list_endpoints(
            conn, principal.org_id, principal.livemode, limit=limit, after_id=after_id
        )


def update_endpoint(principal: Principal, endpoint_id: str, changes: dict[str, Any]) -> Endpoint:
    checked: dict[str, Any] = {}
    if "url" in changes:
        checked["url"] = _check_url(changes["url"])
    if "events" in changes:
        checked["events"] = _check_events(changes["events"])
    if "description" in changes:
        checked["description"] = changes["description"]
    if "enabled" in changes:
        checked["enabled"] = bool(changes["enabled"])
        if checked["enabled"]:  # a person turned it back on: start counting failures afresh
            checked["disabled_reason"] = None
            checked["failing_since"] = None
    with db.transaction() as conn:
        endpoint = get_endpoint(principal, endpoint_id, conn, for_update=True)
        if not checked:
            return endpoint
        return repository.update_endpoint(conn, endpoint.id, checked)


def delete_endpoint(principal: Principal, endpoint_id: str) -> Endpoint:
    with db.transaction() as conn:
        endpoint = get_endpoint(principal, endpoint_id, conn, for_update=True)
        repository.delete_endpoint(conn, endpoint.id)
    return endpoint


def rotate_secret(principal: Principal, endpoint_id: str) -> CreatedEndpoint:
    """A new secret; the old one keeps signing beside it for 24 hours."""
    secret = generate_webhook_secret()
    with db.transaction() as conn:
        endpoint = get_endpoint(principal, endpoint_id, conn, for_update=True)
        endpoint = repository.update_endpoint(
            conn,
            endpoint.id,
            {
                "secret": secret,
                "previous_secret": endpoint.secret,
                "previous_secret_expires_at": datetime.now(UTC) + ROTATION_OVERLAP,
            },
        )
    return CreatedEndpoint(endpoint, secret)


def send_test_ping(principal: Principal, endpoint_id: str) -> str:
    """A `ping` event delivered to this one endpoint; returns the delivery ID."""
    with db.transaction() as conn:
        endpoint = get_endpoint(principal, endpoint_id, conn)
        event_id = record_event(
            conn,
            org_id=principal.org_id,
            livemode=principal.livemode,
            type="ping",
            object_id=endpoint.id,
            data={"id": endpoint.id, "object": "webhook_endpoint", "url": endpoint.url},
        )
        delivery_id = new_id("dlv")
        repository.insert_delivery(conn, delivery_id, endpoint.id, event_id, event_id)
        db.after_commit(conn, nudge_sender)
    return delivery_id


def list_deliveries(
    principal: Principal, endpoint_id: str, *, limit: int, after_id: str | None
) -> list[Delivery]:
    with db.transaction() as conn:
        endpoint = get_endpoint(principal, endpoint_id, conn)
        return repository.list_deliveries(conn, endpoint.id, limit=limit, after_id=after_id)


def retry_delivery(principal: Principal, endpoint_id: str, delivery_id: str) -> Delivery:
    """Send the delivery now: a finished one (succeeded or given up) makes a new attempt,
    a pending one waiting for its next attempt stops waiting (its place in its object's
    order of events holds). One a sender holds right now answers 409
    `delivery_in_progress`: the conditional update loses to the sender's claim."""
    with db.transaction() as conn:
        endpoint = get_endpoint(principal, endpoint_id, conn)
        delivery = repository.get_delivery(conn, endpoint.id, delivery_id)
        if delivery is None:
            raise ResourceNotFound(f"No delivery {delivery_id!r}.", param="id")
        if not repository.reset_delivery(conn, delivery.id):
            raise DeliveryInProgress(param="id")
        db.after_commit(conn, nudge_sender)
        return repository.get_delivery(conn, endpoint.id, delivery_id) or delivery


def dispatch_due(limit: int = 1000) -> int:
    """Beat: put back sends whose worker died (lease over), then wake a sender if anything
    is due. Safe to run twice."""
    with db.transaction() as conn:
        due = repository.due_delivery_ids(conn, limit)
    if due:
        taskqueue.clear_nudge(NUDGE_KEY)  # a stale coalescing window must not hide due work
        nudge_sender()
    return len(due)


SENDER_THREADS = 16
SENDER_BATCH = 64
SENDER_BUDGET_SECONDS = 30.0
_sender_pool: ThreadPoolExecutor | None = None
_sender_pool_lock = threading.Lock()


def _senders() -> ThreadPoolExecutor:
    global _sender_pool  # noqa: PLW0603 - one pool per worker process
    with _sender_pool_lock:
        if _sender_pool is None:
            _sender_pool = ThreadPoolExecutor(SENDER_THREADS, thread_name_prefix="webhook")
        return _sender_pool


def send_due_deliveries(task_id: str) -> int:
    """Send every due delivery, in batches taken with SKIP LOCKED, concurrently within a
    batch; stop when nothing is due or after a time budget (the next nudge continues).
    Deliveries of one chain never share a batch, so their order holds."""
    # Open the coalescing window first: a nudge from now on sends a new task, and a nudge
    # held back before now was for rows already committed, which the claims below see.
    taskqueue.clear_nudge(NUDGE_KEY)
    sent = 0
    deadline = time.monotonic() + SENDER_BUDGET_SECONDS
    while time.monotonic() < deadline:
        with db.connection() as conn:
            batch = repository.claim_due_batch(conn, task_id, LEASE_SECONDS, SENDER_BATCH)
        if not batch:
            break
        for _ in _senders().map(lambda claimed: _deliver_claimed(*claimed), batch):
            sent += 1
    else:
        nudge_sender()  # budget spent with work left: hand over to a fresh task
    return sent


# --- delivering --------------------------------------------------------------------------

_local = threading.local()
# Receiving hosts whose client (and its kept-alive connections) a sender thread keeps; the
# least recently used one beyond this is closed. Unbounded, an instance delivering to many
# receivers kept a client per host per thread for good, and their idle connections open
# (a file descriptor each) until the process ran out of them.
CLIENTS_PER_THREAD = 32


def _http_client(url: str) -> httpx.Client:
    """A pooled client per thread and per receiving host. Connections are pooled by the
    pinned IP, so one client per host keeps a TLS connection verified for host A from
    carrying a delivery for host B on the same IP. No proxies from the environment: a proxy
    would resolve the name itself, after our check."""
    clients: OrderedDict[str, httpx.Client] = _local.__dict__.setdefault("clients", OrderedDict())
    host = httpx.URL(url).host
    client = clients.get(host)
    if client is not None:
        clients.move_to_end(host)
        return client
    client = clients[host] = httpx.Client(
        follow_redirects=False,
        timeout=TIMEOUT_SECONDS,
        trust_env=False,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=5),
    )
    if len(clients) > CLIENTS_PER_THREAD:
        clients.popitem(last=False)[1].close()
    return client


def event_body(event: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": event["id"],
            "object": "event",
            "type": event["type"],
            "created": int(event["created_at"].timestamp()),
            "livemode": event["livemode"],
            "data": event["data"],
        },
        separators=(",", ":"),
    ).encode()


def signing_secrets(endpoint: Endpoint, now: datetime) -> list[str]:
    secrets = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > now
    ):
        secrets.append(endpoint.previous_secret)
    return secrets


def _retry_after(response: httpx.Response) -> int | None:
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int((when - datetime.now(UTC)).total_seconds()))


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None
    body: str | None = None
    duration_ms: int | None = None
    error: str | None = None
    retry_after: int | None = None
    gone: bool = False


def _send(endpoint: Endpoint, delivery: Delivery, event: dict[str, Any]) -> Outcome:
    body = event_body(event)
    now = datetime.now(UTC)
    timestamp = int(now.timestamp())
    secrets = signing_secrets(endpoint, now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "invex-webhooks/1",
        "Invex-Event": event["type"],
        "Invex-Delivery": delivery.id,
        "Invex-Signature": sign_payload(body, secrets, timestamp),
        **standard_webhooks_headers(event["id"], body, secrets, timestamp),
    }
    started = time.monotonic()
    try:
        response = pinned_post(
            _http_client(endpoint.url),
            endpoint.url,
            content=body,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            allow_private=get_settings().webhook_allow_private,
        )
    except UnsafeWebhookUrl as exc:
        return Outcome(
            False, error=f"refused: {exc}", duration_ms=int((time.monotonic() - started) * 1000)
        )
    except httpx.HTTPError as exc:
        return Outcome(
            False,
            error=f"{type(exc).__name__}: {exc}"[:500],
            duration_ms=int((time.monotonic() - started) * 1000),
        )
    duration_ms = int((time.monotonic() - started) * 1000)
    text = response.content[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace")
    return Outcome(
        200 <= response.status_code < 300,
        response.status_code,
        text,
        duration_ms,
        retry_after=_retry_after(response),
        gone=response.status_code == 410,
    )


def _deliver_claimed(delivery: Delivery, endpoint: Endpoint, event: dict[str, Any]) -> str:
    """Send one claimed delivery and record what follows. A delivery whose sender died is
    claimed again once its lease ends and sent again: at least once, the same `evt_` id."""
    logs.clear()  # a sender thread's previous delivery may have been another org's
    logs.bind(org_id=endpoint.org_id)
    if not endpoint.enabled:
        with db.transaction() as conn:
            repository.record_attempt(
                conn,
                delivery,
                status="failed",
                next_attempt_at=None,
                response_status=None,
                response_body=None,
                duration_ms=None,
                error="endpoint disabled",
            )
        return "failed"
    lag = (datetime.now(UTC) - delivery.next_attempt_at).total_seconds()
    metrics.WEBHOOK_LAG_SECONDS.observe(max(0.0, lag))
    outcome = _send(endpoint, delivery, event)
    status = _record_outcome(endpoint, delivery, outcome)
    metrics.WEBHOOK_DELIVERIES.labels(status).inc()
    return status


def _record_outcome(endpoint: Endpoint, delivery: Delivery, outcome: Outcome) -> str:
    if outcome.ok and endpoint.failing_since is None:
        # The common case, in one statement: no endpoint state to change.
        with db.connection() as conn:
            following = repository.record_success(
                conn,
                delivery,
                response_status=outcome.status or 200,
                response_body=outcome.body or "",
                duration_ms=outcome.duration_ms or 0,
            )
        if following:
            nudge_sender()
        return "succeeded"
    now = datetime.now(UTC)
    with db.transaction() as conn:
        if outcome.ok:
            status, next_at = "succeeded", None
            if endpoint.failing_since is not None:
                repository.update_endpoint(conn, endpoint.id, {"failing_since": None})
        elif delivery.attempts <= len(RETRY_DELAYS):
            delay = RETRY_DELAYS[delivery.attempts - 1]
            if outcome.retry_after is not None:
                delay = max(delay, outcome.retry_after)
            status, next_at = "pending", now + timedelta(seconds=delay)
        else:
            status, next_at = "failed", None
        repository.record_attempt(
            conn,
            delivery,
            status=status,
            next_attempt_at=next_at,
            response_status=outcome.status,
            response_body=outcome.body,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
        )
        if not outcome.ok:
            failing_since = endpoint.failing_since or now
            if endpoint.failing_since is None:
                repository.update_endpoint(conn, endpoint.id, {"failing_since": now})
            if outcome.gone:
                _disable(conn, endpoint, "The receiver answered 410 Gone.")
            elif now - failing_since >= DISABLE_AFTER:
                _disable(conn, endpoint, "Deliveries kept failing for 3 days.")
        # The chain moves on: its next delivery need not wait for beat.
        if status != "pending" and repository.next_in_chain(
            conn, delivery.endpoint_id, delivery.ordering_key
        ):
            db.after_commit(conn, nudge_sender)
    return status


def _disable(conn: Conn, endpoint: Endpoint, reason: str) -> None:
    disabled = repository.update_endpoint(
        conn, endpoint.id, {"enabled": False, "disabled_reason": reason}
    )
    repository.give_up_pending(conn, endpoint.id, f"endpoint disabled: {reason}")
    record_event(
        conn,
        org_id=endpoint.org_id,
        livemode=endpoint.livemode,
        type="webhook_endpoint.disabled",
        object_id=endpoint.id,
        data=endpoint_resource(disabled),
    )


def endpoint_resource(endpoint: Endpoint, secret: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "livemode": endpoint.livemode,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events or ["*"],
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created": int(endpoint.created_at.timestamp()),
        "updated": int(endpoint.updated_at.timestamp()),
    }
    if secret is not None:
        resource["secret"] = secret
    return resource


def delivery_resource(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "object": "webhook_delivery",
        "endpoint_id": delivery.endpoint_id,
        "event_id": delivery.event_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt": (
            int(delivery.next_attempt_at.timestamp()) if delivery.status == "pending" else None
        ),
        "last_attempt": (
            int(delivery.last_attempt_at.timestamp()) if delivery.last_attempt_at else None
        ),
        "response_status": delivery.response_status,
        "response_body": delivery.response_body,
        "duration_ms": delivery.duration_ms,
        "error": delivery.last_error,
        "created": int(delivery.created_at.timestamp()),
    }
