"""Xero's limit of 60 API calls a minute per tenant (organisation), shared by every publish
worker through Redis: the `limits` library's moving window, as common/ratelimit.py keeps the
API's own limits. A call over the limit is not made: the caller waits (a short wait) or
retries the task later (a long one), instead of spending a 429 of Xero's."""

from __future__ import annotations

import time

from limits import RateLimitItemPerMinute
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from common.config import get_settings

XERO_CALLS_PER_MINUTE = 60
KEY_PREFIX = "invex:provider-limit"


class TenantLimiter:
    def __init__(self, redis_url: str, per_minute: int = XERO_CALLS_PER_MINUTE) -> None:
        self.item = RateLimitItemPerMinute(per_minute, namespace="xero")
        self.limiter = MovingWindowRateLimiter(RedisStorage(redis_url, key_prefix=KEY_PREFIX))

    def wait_for(self, tenant_id: str) -> float:
        """Take one call from the tenant's minute; 0 when taken, else the seconds until
        the oldest call leaves the window (nothing taken)."""
        if self.limiter.hit(self.item, tenant_id):
            return 0.0
        reset, _remaining = self.limiter.get_window_stats(self.item, tenant_id)
        return max(0.1, reset - time.time())


_limiter: TenantLimiter | None = None


def xero_limiter() -> TenantLimiter:
    global _limiter  # noqa: PLW0603 - one storage (and its connection pool) per process
    if _limiter is None:
        _limiter = TenantLimiter(get_settings().redis_url)
    return _limiter
