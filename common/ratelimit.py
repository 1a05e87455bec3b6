"""Rate limits per API key, per client IP and for uploads per organisation, by plan; and
failed authentications per client IP, checked before the key is.

The algorithm and its atomicity are the `limits` library's: its moving window, kept in
Redis by `RedisStorage`, where one Lua script checks and takes an entry atomically and
another reads the window. A request's limits (two, three for an upload) are sent as one
pipeline of those scripts, so limiting costs one Redis round trip per request; each script
is atomic on its own, and a refused request takes no entry from the limit that refused it
(it may still take one from the others).

Failed authentications have a budget of their own per client address (no plan is known
before the key is): each 401 takes an entry, and a request from an address whose budget is
used up is refused before its key is looked at, so keys cannot be guessed at request speed.

Redis down: the request is served unlimited (fail open) and the outage logged at most once
a minute; for a short while after a failure Redis is not tried at all, so a hung server
does not slow every request by a timeout.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import cast

import redis
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import RedisStorage

from common import plans
from common.accounts.service import Principal
from common.errors import RateLimited

log = logging.getLogger(__name__)

# Every endpoint behind this scope stores a document: it counts against uploads per hour.
UPLOAD_SCOPE = "upload:write"
KEY_PREFIX = "invex:ratelimit"
NAMESPACE = "invex"
# After Redis failed, how long requests skip it; and how often the outage is logged.
RETRY_REDIS_AFTER = 2.0
LOG_EVERY = 60.0
# A limit check waits at most this long for Redis before the request goes unlimited.
REDIS_TIMEOUT = 0.25

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Allowance:
    """One limit after this request: what the `X-RateLimit-*` headers say."""

    limit: int
    remaining: int
    reset: float  # Unix time when the oldest entry in the window leaves it
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(math.ceil(self.reset)),
        }


def client_ip(
    remote_addr: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the
    right-most address in X-Forwarded-For that is not itself a trusted proxy (entries to its
    left could be written by anyone)."""
    peer = remote_addr or "unknown"
    if not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


class RateLimiter:
    """The limits of one API process; thread-safe (redis-py pools its connections)."""

    def __init__(
        self,
        redis_url: str,
        *,
        trusted_proxies: tuple[Network, ...] = (),
        plan_limits: plans.Overrides = (),
        auth_failures_per_minute: int = 20,
    ) -> None:
        self.trusted_proxies = trusted_proxies
        self.plan_limits = plan_limits
        self.auth_failures = RateLimitItemPerMinute(auth_failures_per_minute, namespace=NAMESPACE)
        self.storage = RedisStorage(
            redis_url,
            key_prefix=KEY_PREFIX,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
        )
        self._skip_until = 0.0
        self._logged_at = -LOG_EVERY
        self._lock = threading.Lock()

    def limits_for(
        self, principal: Principal, ip: str, upload: bool
    ) -> list[tuple[RateLimitItem, str]]:
        plan = plans.plan_named(principal.plan, self.plan_limits)
        limits: list[tuple[RateLimitItem, str]] = [
            (
                RateLimitItemPerMinute(plan.requests_per_minute, namespace=NAMESPACE),
                f"key/{principal.key_id}",
            ),
            (RateLimitItemPerMinute(plan.ip_requests_per_minute, namespace=NAMESPACE), f"ip/{ip}"),
        ]
        if upload:
            limits.append(
                (
                    RateLimitItemPerHour(plan.uploads_per_hour, namespace=NAMESPACE),
                    f"uploads/{principal.org_id}",
                )
            )
        return limits

    def check_auth_failures(self, ip: str) -> Allowance | None:
        """Before a key is checked: 429 `rate_limited` when `ip` has used up its failed
        authentications, else what is left of them (None when Redis cannot be reached)."""
        return self._limit([(self.auth_failures, f"auth-failures/{ip}")], take=False)

    def count_auth_failure(self, ip: str) -> Allowance | None:
        """A failed authentication from `ip`: take one entry of its budget and return what
        is left, for the 401's headers (None when Redis cannot be reached)."""
        return self._limit([(self.auth_failures, f"auth-failures/{ip}")], take=True)

    def _sign_in_limits(self, ip: str, email: str) -> list[tuple[RateLimitItem, str]]:
        # The address hashed: no email is written to Redis.
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return [
            (self.auth_failures, f"sign-in/ip/{ip}"),
            (self.auth_failures, f"sign-in/account/{account}"),
        ]

    def check_sign_in(self, ip: str, email: str) -> None:
        """Before a web sign-in is checked: 429 `rate_limited` when the client address or
        the account has used up its failed sign-ins (INVEX_AUTH_FAILURES_PER_MINUTE each)."""
        self._limit(self._sign_in_limits(ip, email), take=False)

    def count_sign_in_failure(self, ip: str, email: str) -> None:
        self._limit(self._sign_in_limits(ip, email), take=True)

    def hit(self, principal: Principal, ip: str, *, upload: bool = False) -> Allowance | None:
        """Count this request against its limits. Returns the tightest allowance (for the
        headers), raises 429 `rate_limited` with Retry-After when a limit is exceeded, and
        returns None when Redis cannot be reached (the request goes unlimited)."""
        return self._limit(self.limits_for(principal, ip, upload), take=True)

    def _limit(self, limits: list[tuple[RateLimitItem, str]], *, take: bool) -> Allowance | None:
        """Take an entry from each limit (or, `take=False`, only read them); raise 429 if
        one is exceeded (full, when only reading), else return the tightest allowance."""
        now = time.time()
        if time.monotonic() < self._skip_until:
            return None
        try:
            replies = self._run(limits, now, take=take)
        except (redis.RedisError, OSError) as exc:
            self._redis_failed(exc)
            return None
        if not take:  # only windows came back: "acquired" means there is room for one more
            replies = [
                entry
                for (item, _), window in zip(limits, replies, strict=True)
                for entry in (not window or int(window[1]) < item.amount, window)
            ]
        allowances = []
        for (item, _), acquired, window in zip(limits, replies[::2], replies[1::2], strict=True):
            expiry = item.get_expiry()
            oldest, count = (float(window[0]), int(window[1])) if window else (now, 0)
            allowances.append(
                Allowance(item.amount, item.amount - count, oldest + expiry, bool(acquired))
            )
        refused = [a for a in allowances if not a.allowed]
        if refused:
            worst = max(refused, key=lambda a: a.reset)
            retry_after = max(1, math.ceil(worst.reset - now))
            raise RateLimited(
                f"Rate limit of {worst.limit} exceeded. Retry in {retry_after} s.",
                headers={**worst.headers(), "Retry-After": str(retry_after)},
            )
        return min(allowances, key=lambda a: (a.remaining, -a.reset))

    def _run(self, limits: list[tuple[RateLimitItem, str]], now: float, *, take: bool) -> list:
        """Both scripts of every limit in one pipeline: take an entry, then read the window
        (`take=False`: only read it)."""
        client = cast(redis.Redis, self.storage.get_connection())
        acquire = self.storage.lua_acquire_moving_window
        window = self.storage.lua_moving_window
        for attempt in (1, 2):
            pipe = client.pipeline(transaction=False)
            for item, identifier in limits:
                key = self.storage.prefixed_key(item.key_for(identifier))
                expiry = item.get_expiry()
                if take:
                    pipe.evalsha(acquire.sha, 1, key, now, item.amount, expiry, 1)
                pipe.evalsha(window.sha, 1, key, now - expiry, item.amount)
            try:
                return pipe.execute()
            except redis.exceptions.NoScriptError:
                if attempt == 2:
                    raise
                # A restarted or flushed Redis forgot the scripts: load them, once.
                for script in (acquire, window):
                    script.sha = client.script_load(script.script)
        raise AssertionError("unreachable")

    def _redis_failed(self, exc: Exception) -> None:
        with self._lock:
            self._skip_until = time.monotonic() + RETRY_REDIS_AFTER
            if time.monotonic() - self._logged_at < LOG_EVERY:
                return
            self._logged_at = time.monotonic()
        log.warning("rate limits off: Redis unreachable (%s); serving without limits", exc)
