"""Per-token rate limits on ``/api/v1``, on the ``limits`` library (the engine under Flask-Limiter).

One limit (``API_RATE_LIMIT``, e.g. ``300 per minute``) per token and resource: each resource
blueprint keeps its own bucket per presented token (its hash), and requests without one share a bucket
per client address. A sliding-window counter, so no burst of twice the limit across a window boundary.
The check runs before the token is authenticated, so refused requests count too. Every answer of a
resource carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (epoch
seconds); a refusal is a ``429`` problem with ``Retry-After`` (seconds).

Why not Flask-Limiter here (it still guards the sign-in and password pages): it works out on every
request which of its limits apply (application, blueprint and view limits, exemptions, the limit
string parsed again). In process, a cached candles request (a 304) took 1.25-1.29 ms with it and
0.65-0.72 ms without any limit, of which its two Redis calls are 0.30 ms: it spent as long again on
the working out. Here the limit is parsed once per server and a request costs those two calls (take a
hit, then read the window for the headers); the same 304, old and new code alternating, 1.40-1.48 ms
then, 1.18-1.30 ms now.

While Redis is unreachable (this process's breaker for it, :mod:`app.hot.outage`) requests are not
limited and carry no rate-limit headers: an outage of the shared counters must not refuse every client.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from flask_smorest import abort
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from app.api.v1.problems import is_api_path
from app.extensions import limiter
from app.hot.outage import outage_for

EXTENSION = "cw_api_rate_limit"


@limiter.request_filter
def _limited_here() -> bool:
    """Flask-Limiter skips API paths altogether (their one limit is this module's), instead of working out
    on each API request that none of its limits apply."""
    return is_api_path(request.path)


@dataclass(frozen=True)
class Window:
    """A bucket after this request's hit: the limit, what is left of it, when it has fully refilled."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds


class ApiRateLimit:
    def __init__(self, limit: str, storage_uri: str, prefix: str):
        self.limit = limit
        self.item = parse(limit)
        self.prefix = prefix
        self.strategy = SlidingWindowCounterRateLimiter(storage_from_string(storage_uri))
        self.outage = None if storage_uri.startswith("memory://") else outage_for(storage_uri)

    def take(self, scope: str, key: str) -> Window | None:
        """One hit on ``key``'s bucket for ``scope``; None while the storage is unreachable."""

        def hit() -> Window:
            allowed = self.strategy.hit(self.item, self.prefix, scope, key)
            stats = self.strategy.get_window_stats(self.item, self.prefix, scope, key)
            return Window(allowed, self.item.amount, max(0, int(stats.remaining)), float(stats.reset_time))

        if self.outage is None:
            return hit()
        return self.outage.call(hit, lambda: None)


def init_app(server: Flask) -> ApiRateLimit:
    settings = server.config["CW_SETTINGS"]
    limits = server.extensions[EXTENSION] = ApiRateLimit(settings.api_rate_limit, settings.ratelimit_storage_uri,
                                                         f"{settings.redis_prefix}:ratelimit:api")
    return limits


def check(key: str) -> None:
    """The first ``before_request`` of a resource blueprint: take a hit on ``key``'s bucket, or 429."""
    limits: ApiRateLimit = current_app.extensions[EXTENSION]
    window = limits.take(request.blueprint or "", key)
    if window is None:
        return None
    g.cw_rate_window = window
    if not window.allowed:
        wait = max(1, math.ceil(window.reset_at - time.time()))
        abort(429, message=f"rate limit of {limits.limit} exceeded for this token; retry in {wait} s",
              headers={"Retry-After": str(wait)})
    return None


def add_headers(response):
    """``after_request`` of a resource blueprint (every answer, refusals and errors included)."""
    window: Window | None = g.pop("cw_rate_window", None)
    if window is not None:
        response.headers["X-RateLimit-Limit"] = str(window.limit)
        response.headers["X-RateLimit-Remaining"] = str(window.remaining)
        response.headers["X-RateLimit-Reset"] = str(int(window.reset_at) + 1)
    return response
