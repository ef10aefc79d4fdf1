"""Circuit breaker: opens after N failures, fails fast, half-opens after the cool-down, closes on success."""
from __future__ import annotations

import time

import pytest

from app.market.sources.breaker import CircuitBreaker
from app.market.sources.errors import CircuitOpenError, ExchangeUnavailableError, UnknownSymbolError
from app.market.sources.http import RetryPolicy


def _fail():
    raise ExchangeUnavailableError("down", exchange="x")


def _ok():
    return "ok"


def _failures(b, n):
    for _ in range(n):
        with pytest.raises(ExchangeUnavailableError):
            b.call(_fail)


def test_opens_after_threshold_consecutive_failures():
    b = CircuitBreaker("x", failure_threshold=3, reset_timeout_s=30)
    _failures(b, 2)
    assert b.state == "closed" and b.failures == 2
    before = time.time()
    _failures(b, 1)
    assert b.state == "open"
    assert before - 1 <= b.opened_at <= time.time()
    with pytest.raises(CircuitOpenError, match="circuit open after 3 consecutive failures") as ei:
        b.call(_ok)
    assert 29 <= ei.value.retry_in_s <= 30


def test_success_resets_the_count():
    b = CircuitBreaker("x", failure_threshold=2)
    _failures(b, 1)
    assert b.call(_ok) == "ok"
    _failures(b, 1)
    assert b.state == "closed" and b.failures == 1


def test_half_open_after_cool_down_then_closes_on_success():
    b = CircuitBreaker("x", failure_threshold=1, reset_timeout_s=0.3)
    _failures(b, 1)
    assert b.state == "open"
    time.sleep(0.35)
    assert b.state == "half_open"
    assert b.call(_ok) == "ok"  # the trial is let through and closes the breaker
    snap = b.snapshot()
    assert (snap.state, snap.failures, snap.opened_at) == ("closed", 0, None)


def test_failed_trial_reopens_for_another_cool_down():
    b = CircuitBreaker("x", failure_threshold=1, reset_timeout_s=0.3)
    _failures(b, 1)
    time.sleep(0.35)
    reopened = time.time()
    _failures(b, 1)  # the trial fails
    assert b.state == "open" and b.opened_at >= reopened - 0.01
    assert 0.2 <= b.snapshot().retry_in_s <= 0.3


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker(reset_timeout_s=0)


def test_source_fails_fast_while_open_and_recovers(fake, source_factory):
    src = source_factory("binance", retry=RetryPolicy(max_retries=1),
                         breaker=CircuitBreaker("binance", failure_threshold=3, reset_timeout_s=0.5))
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
    time.sleep(0.55)
    assert breaker.state == "half_open"
    with fake._lock:
        fake._faults.clear()
    assert "BTC/USDT" in src.list_symbols()
    assert breaker.state == "closed" and breaker.failures == 0


def test_unknown_symbol_does_not_count_as_a_failure(fake, source_factory):
    src = source_factory("binance")
    for _ in range(10):
        with pytest.raises(UnknownSymbolError):
            src.fetch_ticker("NOPE/USDT")
    assert src.http.breaker.state == "closed"
