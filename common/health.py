"""Is the service able to work? Checked by `/v1/ping` on every call, so it recovers by
itself when the database or the broker returns."""

from __future__ import annotations

from functools import cache

import redis

from common import db
from common.config import get_settings


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=1, socket_connect_timeout=1
    )


def broker_is_up() -> bool:
    try:
        return bool(redis_client().ping())
    except (redis.RedisError, OSError):
        return False


def service_status() -> dict[str, bool]:
    return {"database": db.database_is_up(), "broker": broker_is_up()}
