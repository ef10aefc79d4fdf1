"""The Redis connection used by queues, the live cache and the rate limiter."""
from __future__ import annotations

from functools import lru_cache

from redis import Redis


@lru_cache(maxsize=8)
def redis_connection(url: str) -> Redis:
    """One client (and connection pool) per URL per process.

    Caching a *connection* is fine; caching *data* here is not (convention 5).
    """
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)
