"""Degraded mode: what the web process does while Redis (hot state) is unreachable.

Hot state is a cache in front of PostgreSQL, so losing it must cost speed, not pages. Every page-side
read of hot state goes through one process-wide circuit breaker per Redis URL (pybreaker, kept in this
process's memory: the shared store is what is down). The first Redis error opens it; while it is open
no request waits on Redis:

- the live candle and signal caches are off (``app.hot.live_cache`` / ``signal_cache`` answer None, so
  pages read the database, exactly as in embedded mode or on a cold key);
- the small documents (catalogue, shared views, blobs, feed health) are read from and written to this
  process's :class:`~app.hot.memory.MemoryStore` instead (:class:`DegradingStore`);
- the emergency-stop switch reads as "unknown" (None); setting or clearing it raises, because a stop
  written to one process's memory would be a lie;
- the shell shows the degraded banner and ``/readyz`` reports ``"hot_state": "degraded"``.

After ``RETRY_AFTER`` seconds the next call tries Redis again (half-open); one success closes the
breaker. The RQ queues do not go through here: enqueueing while Redis is down raises, as it must.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

import pybreaker
from redis.exceptions import RedisError

RETRY_AFTER = 5.0  # s the breaker stays open before the next call tries Redis again
OUTAGE_ERRORS = (RedisError, OSError)
DEGRADED_MESSAGE = ("Live data service unavailable: pages show the data stored in the database and may lag; "
                    "live updates resume by themselves when it is back.")


def _not_outage(exc: BaseException) -> bool:
    """pybreaker's ``exclude``: only connection-level failures count against Redis."""
    return not isinstance(exc, OUTAGE_ERRORS)


class Outage:
    """One breaker for one Redis URL in this process."""

    def __init__(self, name: str, retry_after: float = RETRY_AFTER, clock: Callable[[], float] = time.monotonic):
        if retry_after <= 0:
            raise ValueError(f"retry_after must be positive, got {retry_after!r}")
        self.breaker = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=retry_after, exclude=[_not_outage],
                                                name=f"hot:{name}", throw_new_error_on_trip=False)
        self._clock = clock
        self.last_error: str | None = None
        self.since: float | None = None

    @property
    def degraded(self) -> bool:
        return self.breaker.current_state != pybreaker.STATE_CLOSED

    def call(self, func: Callable[[], Any], fallback: Callable[[], Any]) -> Any:
        """``func()`` through the breaker; ``fallback()`` when Redis fails or the breaker is open.

        While the breaker is closed ``func`` runs outside it: ``CircuitBreaker.call`` holds the breaker's
        lock for the whole call (danielfm/pybreaker#55), which queued every thread of the process behind
        one Redis round trip, and behind the GIL each of them waits for on its way back. Closed, there is
        nothing to decide before the call; a failure is then handed to the breaker (:meth:`tripped`),
        which opens it. Open or half-open, calls go through the breaker (one trial at a time)."""
        if self.breaker.current_state == pybreaker.STATE_CLOSED:
            try:
                return func()
            except OUTAGE_ERRORS as exc:
                self.tripped(exc)
                return fallback()
        try:
            result = self.breaker.call(func)
        except pybreaker.CircuitBreakerError as exc:
            if self.since is None:
                self.since = self._clock()
            if self.last_error is None:
                self.last_error = str(exc)
            return fallback()
        except OUTAGE_ERRORS as exc:
            self.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
            if self.since is None:
                self.since = self._clock()
            return fallback()
        if not self.degraded:
            self.last_error, self.since = None, None
        return result

    def tripped(self, exc: BaseException) -> None:
        """Record a Redis failure seen outside :meth:`call` (a store that talks to Redis directly)."""
        try:
            self.breaker.call(_raise, exc)
        except BaseException:  # noqa: BLE001 - the breaker re-raises or raises CircuitBreakerError
            pass
        self.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
        if self.since is None:
            self.since = self._clock()


def _raise(exc: BaseException):
    raise exc


_READS = ("get", "mget", "ttl", "scan_iter")
_WRITES = ("set", "incr", "delete")


class DegradingStore:
    """A key-value store (the ``MemoryStore`` API) on Redis that falls back to ``memory`` in an outage.

    With ``writes_degrade=False`` (the emergency stop) reads answer None / nothing and writes raise."""

    def __init__(self, redis, memory, outage: Outage, writes_degrade: bool = True):
        self._redis, self._memory, self._outage, self._writes_degrade = redis, memory, outage, writes_degrade

    def _through(self, name: str):
        def call(*args, **kwargs):
            def fallback():
                if name in _WRITES and not self._writes_degrade:
                    raise RedisError(f"hot state unavailable ({self._outage.last_error}); nothing was changed")
                if not self._writes_degrade:
                    return [None] * len(args[0]) if name == "mget" else iter(()) if name == "scan_iter" else None
                return getattr(self._memory, name)(*args, **kwargs)

            if name == "scan_iter":  # a generator: materialise it inside the breaker
                return iter(self._outage.call(lambda: list(self._redis.scan_iter(*args, **kwargs)),
                                              lambda: list(fallback())))
            return self._outage.call(lambda: getattr(self._redis, name)(*args, **kwargs), fallback)

        return call

    def __getattr__(self, name: str):
        if name in _READS or name in _WRITES:
            return self._through(name)
        raise AttributeError(f"DegradingStore has no {name!r} (only the MemoryStore API)")


_lock = threading.Lock()
_outages: dict[str, Outage] = {}


def outage_for(url: str) -> Outage:
    """This process's breaker for ``url`` (one per URL, like the connection pool)."""
    with _lock:
        found = _outages.get(url)
        if found is None:
            found = _outages[url] = Outage(url.rsplit("@", 1)[-1])  # no password in its name
        return found
