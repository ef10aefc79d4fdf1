"""The circuit breaker around one exchange: pybreaker's state machine, its state shared in Redis.

States (as the feed-health panel shows them):

* ``closed`` – calls go through; consecutive failures are counted.
* ``open`` – after ``failure_threshold`` consecutive failures every call fails fast with
  :class:`CircuitOpenError` until ``reset_timeout_s`` has passed.
* ``half_open`` – after the cool-down the next call is a trial: success closes the breaker
  (count reset), failure opens it again for another cool-down.

Only failures that say the exchange is unwell count (:data:`FAILURES`: unavailable, rate limited,
garbage payload); an answer such as "unknown symbol" proves it is healthy and resets the count.
With ``pybreaker.CircuitRedisStorage`` (what ``app.hot.breaker_storage`` gives in production)
every worker process sees and moves the same breaker, so the Admin page shows one truth. pybreaker
keeps the open time in whole seconds in Redis and runs one call at a time through a breaker per
process; across processes a half-open breaker may let one trial through per process.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pybreaker

from app.market.sources.errors import BadPayloadError, CircuitOpenError, ExchangeUnavailableError, RateLimitedError

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"
FAILURES = (ExchangeUnavailableError, RateLimitedError, BadPayloadError)


@dataclass(frozen=True)
class BreakerSnapshot:
    name: str
    state: str
    failures: int
    opened_at: float | None  # epoch seconds
    retry_in_s: float


class CircuitBreaker:
    def __init__(self, name: str = "exchange", *, failure_threshold: int = 5, reset_timeout_s: float = 30.0,
                 storage: pybreaker.CircuitBreakerStorage | None = None):
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if reset_timeout_s <= 0:
            raise ValueError(f"reset_timeout_s must be > 0, got {reset_timeout_s}")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = float(reset_timeout_s)
        self._storage = storage or pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=failure_threshold, reset_timeout=reset_timeout_s, name=name, state_storage=self._storage,
            exclude=[lambda exc: not isinstance(exc, FAILURES)], throw_new_error_on_trip=False)

    # -- reading -----------------------------------------------------------
    def _opened_epoch(self) -> float | None:
        opened = self._storage.opened_at
        return None if opened is None else opened.timestamp()

    def _retry_in(self) -> float:
        opened = self._opened_epoch()
        if opened is None:
            return 0.0
        return max(0.0, opened + self.reset_timeout_s - datetime.now(timezone.utc).timestamp())

    @property
    def state(self) -> str:
        stored = self._storage.state
        if stored == pybreaker.STATE_CLOSED:
            return CLOSED
        if stored == pybreaker.STATE_HALF_OPEN or self._retry_in() == 0.0:
            return HALF_OPEN  # open and cooled down: the next call is the trial
        return OPEN

    @property
    def failures(self) -> int:
        return self._storage.counter

    @property
    def opened_at(self) -> float | None:
        return self._opened_epoch() if self._storage.state != pybreaker.STATE_CLOSED else None

    def snapshot(self) -> BreakerSnapshot:
        state = self.state
        return BreakerSnapshot(self.name, state, self.failures, self.opened_at,
                               self._retry_in() if state == OPEN else 0.0)

    # -- protocol ----------------------------------------------------------
    def call(self, func, *args, **kwargs):
        """Run ``func`` through the breaker; :class:`CircuitOpenError` while it is open."""
        try:
            return self._breaker.call(func, *args, **kwargs)
        except pybreaker.CircuitBreakerError:
            retry_in = self._retry_in()
            raise CircuitOpenError(
                f"{self.name}: circuit open after {self.failures} consecutive failures; "
                f"not calling the exchange for another {retry_in:.1f}s",
                exchange=self.name, retry_in_s=retry_in) from None
