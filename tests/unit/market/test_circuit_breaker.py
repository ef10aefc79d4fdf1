"""Circuit breaker: opens after N failures, fails fast, half-opens after the cool-down, closes on success."""
from __future__ import annotations

import pytest

from app.market.sources.breaker import CircuitBreaker
from app.market.sources.errors import CircuitOpenError, ExchangeUnavailableError, UnknownSymbolError
from app.market.sources.http import RetryPolicy


def test_opens_after_threshold_consecutive_failures(clock):
    b = CircuitBreaker("x", failure_threshold=3, reset_timeout_s=30, clock=clock)
    for _ in range(2):
        b.before_call()
        b.record_failure()
    assert b.state == "closed" and b.failures == 2
    b.before_call()
    b.record_failure()
    assert b.state == "open"
    assert b.opened_at == clock.t
    with pytest.raises(CircuitOpenError, match="circuit open after 3 consecutive failures") as ei:
        b.before_call()
    assert ei.value.retry_in_s == 30


def test_success_resets_the_count(clock):
    b = CircuitBreaker("x", failure_threshold=2, clock=clock)
    b.record_failure()
    b.record_success()
    b.record_failure()
    assert b.state == "closed" and b.failures == 1


def test_half_open_after_cool_down_then_closes_on_success(clock):
    b = CircuitBreaker("x", failure_threshold=1, reset_timeout_s=10, clock=clock)
    b.record_failure()
    assert b.state == "open"
    clock.t += 9.9
    assert b.state == "open"
    clock.t += 0.1
    assert b.state == "half_open"
    b.before_call()  # the trial is allowed ...
    with pytest.raises(CircuitOpenError, match="trial request is already in flight"):
        b.before_call()  # ... but only one at a time
    b.record_success()
    snap = b.snapshot()
    assert (snap.state, snap.failures, snap.opened_at) == ("closed", 0, None)


def test_failed_trial_reopens_for_another_cool_down(clock):
    b = CircuitBreaker("x", failure_threshold=1, reset_timeout_s=10, clock=clock)
    b.record_failure()
    clock.t += 10
    b.before_call()
    b.record_failure()
    assert b.state == "open" and b.opened_at == clock.t
    assert b.snapshot().retry_in_s == 10


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker(reset_timeout_s=0)


def test_source_fails_fast_while_open_and_recovers(fake, clock, source_factory):
    src = source_factory("binance", retry=RetryPolicy(max_retries=1))
    breaker = src.http.breaker
    fake.fail_next(10, 503)
    for _ in range(breaker.failure_threshold):
        with pytest.raises(ExchangeUnavailableError):
            src.list_symbols()
    assert breaker.state == "open"
    sent = len(fake.requests)
    with pytest.raises(CircuitOpenError):
        src.list_symbols()
    assert len(fake.requests) == sent  # failed fast: nothing was sent
    clock.t += breaker.reset_timeout_s
    assert breaker.state == "half_open"
    with fake._lock:
        fake._faults.clear()
    assert "BTC/USDT" in src.list_symbols()
    assert breaker.state == "closed" and breaker.failures == 0


def test_unknown_symbol_does_not_count_as_a_failure(fake, clock, source_factory):
    src = source_factory("binance")
    for _ in range(10):
        with pytest.raises(UnknownSymbolError):
            src.fetch_ticker("NOPE/USDT")
    assert src.http.breaker.state == "closed"
