"""A small circuit breaker for calls to one exchange.

States:

* ``closed`` – calls go through; consecutive failures are counted.
* ``open`` – after ``failure_threshold`` consecutive failures every call fails
  fast with :class:`CircuitOpenError` until ``reset_timeout_s`` has passed.
* ``half_open`` – after the cool-down ONE trial call is let through; success
  closes the breaker (count reset), failure opens it again for another cool-down.

The clock is injected (a monotonic ``() -> float`` in seconds) so tests run
instantly. The breaker is thread-safe.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from app.market.sources.errors import CircuitOpenError

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerSnapshot:
    name: str
    state: str
    failures: int
    opened_at: float | None
    retry_in_s: float


class CircuitBreaker:
    def __init__(self, name: str = "exchange", *, failure_threshold: int = 5,
                 reset_timeout_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if reset_timeout_s <= 0:
            raise ValueError(f"reset_timeout_s must be > 0, got {reset_timeout_s}")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = float(reset_timeout_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    # -- reading -----------------------------------------------------------
    def _state_locked(self) -> str:
        if self._opened_at is None:
            return CLOSED
        if self._clock() - self._opened_at >= self.reset_timeout_s:
            return HALF_OPEN
        return OPEN

    @property
    def state(self) -> str:
        with self._lock:
            return self._state_locked()

    @property
    def failures(self) -> int:
        with self._lock:
            return self._failures

    @property
    def opened_at(self) -> float | None:
        with self._lock:
            return self._opened_at

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            state = self._state_locked()
            retry_in = 0.0
            if state == OPEN and self._opened_at is not None:
                retry_in = max(0.0, self.reset_timeout_s - (self._clock() - self._opened_at))
            return BreakerSnapshot(self.name, state, self._failures, self._opened_at, retry_in)

    # -- protocol ----------------------------------------------------------
    def before_call(self) -> None:
        """Raise :class:`CircuitOpenError` unless a call may go through now."""
        with self._lock:
            state = self._state_locked()
            if state == CLOSED:
                return
            if state == HALF_OPEN and not self._trial_in_flight:
                self._trial_in_flight = True
                return
            assert self._opened_at is not None
            retry_in = max(0.0, self.reset_timeout_s - (self._clock() - self._opened_at))
        if state == HALF_OPEN:
            msg = f"{self.name}: circuit half-open, a trial request is already in flight"
        else:
            msg = (f"{self.name}: circuit open after {self._failures} consecutive failures; "
                   f"not calling the exchange for another {retry_in:.1f}s")
        raise CircuitOpenError(msg, exchange=self.name, retry_in_s=retry_in)

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            was_trial = self._trial_in_flight
            self._trial_in_flight = False
            self._failures += 1
            if was_trial or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
