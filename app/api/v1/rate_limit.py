"""Per-token rate limits on ``/api/v1``: a sliding-window counter per token and resource.

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
the working out. Here the limit is parsed once per server (``limits.parse``). With Redis, a request
costs one round trip (:class:`app.hot.rate_window.RateWindows`: the hit and the window's counts in one
script, where ``limits`` needs a second call to read the window for the headers); in embedded mode
(``memory://``) the ``limits`` library's own sliding-window counter serves, in this process.

While Redis is unreachable (this process's breaker for it, :mod:`app.hot.outage`) requests are not
limited and carry no rate-limit headers: an outage of the shared counters must not refuse every client.
"""
from __future__ import annotations

import math
import time

from flask import Flask, current_app, g, request
from flask_smorest import abort
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

import app.hot as hot
from app.api.v1.problems import is_api_path
from app.extensions import limiter
from app.hot.outage import outage_for
from app.hot.rate_window import RateWindows, WindowState, window_state

EXTENSION = "cw_api_rate_limit"


@limiter.request_filter
def _limited_here() -> bool:
    """Flask-Limiter skips API paths altogether (their one limit is this module's), instead of working out
    on each API request that none of its limits apply."""
    return is_api_path(request.path)


class ApiRateLimit:
    def __init__(self, limit: str, storage_uri: str, prefix: str):
        self.limit = limit
        self.item = parse(limit)
        self.prefix = prefix
        if storage_uri.startswith("memory://"):
            self.strategy = SlidingWindowCounterRateLimiter(storage_from_string(storage_uri))
            self.windows, self.outage = None, None
        else:
            self.strategy = None
            self.windows = RateWindows(hot.redis_connection(storage_uri), prefix)
            self.outage = outage_for(storage_uri)

    def take(self, scope: str, key: str) -> WindowState | None:
        """One hit on ``key``'s bucket for ``scope``; None while the storage is unreachable."""
        if self.windows is None:  # limits' counter in memory, its window read the way the Redis script returns it
            allowed = self.strategy.hit(self.item, self.prefix, scope, key)
            expiry = self.item.get_expiry()
            previous, previous_ttl, current, current_ttl = self.strategy.storage.get_sliding_window(
                self.item.key_for(self.prefix, scope, key), expiry)
            return window_state(allowed, self.item.amount, float(expiry), previous, previous_ttl, current,
                                current_ttl, time.time())
        return self.outage.call(
            lambda: self.windows.hit(scope, key, self.item.amount, self.item.get_expiry()), lambda: None)


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
    window: WindowState | None = g.pop("cw_rate_window", None)
    if window is not None:
        response.headers["X-RateLimit-Limit"] = str(window.limit)
        response.headers["X-RateLimit-Remaining"] = str(window.remaining)
        response.headers["X-RateLimit-Reset"] = str(int(window.reset_at) + 1)
    return response
