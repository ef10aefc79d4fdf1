"""The shared HTTP layer: retries, Retry-After, weight pacing, truncated JSON, timeouts."""
from __future__ import annotations

import socket

import pytest

from app.market.sources.breaker import CircuitBreaker
from app.market.sources.errors import (
    BadPayloadError,
    ExchangeUnavailableError,
    RateLimitedError,
    RequestRejectedError,
)
from app.market.sources.http import HttpClient, RetryPolicy, parse_retry_after

PATH = "/api/v3/exchangeInfo"


def client(url, clock, **kw):
    kw.setdefault("retry", RetryPolicy(max_retries=3, backoff_base_s=0.5))
    return HttpClient(url, name="test", sleep=clock.sleep, clock=clock, rng=lambda: 1.0,
                      wall_clock=lambda: 1_700_000_000.0, **kw)


def test_429_waits_retry_after_seconds_then_succeeds(fake, clock):
    fake.fail_next(2, 429, retry_after=7)
    body = client(fake.base_url, clock).get_json(PATH)
    assert "symbols" in body
    assert clock.sleeps == [7.0, 7.0]
    assert len(fake.requests_to(PATH)) == 3


def test_429_without_header_uses_exponential_backoff(fake, clock):
    fake.fail_next(3, 429)
    client(fake.base_url, clock).get_json(PATH)
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_418_with_long_ban_gives_up_at_once_with_retry_after(fake, clock):
    fake.fail_next(1, 418, retry_after=600)
    with pytest.raises(RateLimitedError) as ei:
        client(fake.base_url, clock).get_json(PATH)
    assert ei.value.retry_after_s == 600
    assert ei.value.status == 418
    assert "retry after 600s" in str(ei.value)
    assert clock.sleeps == [] and len(fake.requests) == 1


def test_rate_limited_on_every_attempt_raises_rate_limited(fake, clock):
    fake.fail_next(10, 429, retry_after=1)
    with pytest.raises(RateLimitedError):
        client(fake.base_url, clock).get_json(PATH)
    assert len(fake.requests) == 4  # 1 + max_retries


def test_5xx_is_retried_with_exponential_backoff(fake, clock):
    fake.fail_next(3, 503)
    assert "symbols" in client(fake.base_url, clock).get_json(PATH)
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert len(fake.requests) == 4


def test_backoff_has_jitter_between_half_and_full_delay():
    policy = RetryPolicy(backoff_base_s=1.0, backoff_max_s=8.0)
    assert policy.backoff(2, lambda: 0.0) == 2.0
    assert policy.backoff(2, lambda: 1.0) == 4.0
    assert policy.backoff(10, lambda: 1.0) == 8.0  # capped


def test_persistent_5xx_raises_unavailable_after_all_attempts(fake, clock):
    fake.fail_next(10, 500)
    with pytest.raises(ExchangeUnavailableError, match="after 4 attempts; last problem: HTTP 500"):
        client(fake.base_url, clock).get_json(PATH)
    assert len(fake.requests) == 4


def test_truncated_json_is_retried(fake, clock):
    fake.truncate_next(2)
    assert "symbols" in client(fake.base_url, clock).get_json(PATH)
    assert len(fake.requests) == 3
    assert clock.sleeps == [0.5, 1.0]


def test_persistent_truncated_json_is_a_bad_payload(fake, clock):
    fake.truncate_next(10)
    with pytest.raises(BadPayloadError, match="truncated JSON"):
        client(fake.base_url, clock).get_json(PATH)


def test_other_4xx_is_not_retried(fake, clock):
    fake.fail_next(1, 400, body={"code": -1100, "msg": "Illegal characters"})
    with pytest.raises(RequestRejectedError, match="HTTP 400"):
        client(fake.base_url, clock).get_json(PATH)
    assert len(fake.requests) == 1 and clock.sleeps == []


def test_connection_refused_is_retried_then_unavailable(clock):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(ExchangeUnavailableError, match="ConnectionError"):
        client(f"http://127.0.0.1:{port}", clock, timeout_s=1.0).get_json(PATH)
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_used_weight_near_limit_sleeps_until_next_minute(fake, clock):
    fake.used_weight = 5000  # > 80% of 6000
    c = client(fake.base_url, clock, weight_header="X-MBX-USED-WEIGHT-1M", weight_limit=6000)
    c.get_json(PATH)
    # wall clock 1_700_000_000 is 20 s into its minute: wait the remaining 40 s (+50 ms margin)
    assert clock.sleeps == [pytest.approx(40.05)]
    assert c.last_used_weight == 5000
    fake.used_weight = 100
    c.get_json(PATH)
    assert len(clock.sleeps) == 1  # low weight: no slowdown


def test_min_interval_spaces_requests(fake, clock):
    c = client(fake.base_url, clock, min_interval_s=1.0)
    c.get_json(PATH)
    c.get_json(PATH)
    assert clock.sleeps == [1.0]


def test_parse_retry_after_seconds_and_http_date():
    assert parse_retry_after("12", 0) == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.0) == 10.0
    assert parse_retry_after("soon", 0) is None
    assert parse_retry_after(None, 0) is None


def test_failed_calls_feed_the_breaker(fake, clock):
    breaker = CircuitBreaker("test", failure_threshold=2, reset_timeout_s=60)
    c = client(fake.base_url, clock, breaker=breaker, retry=RetryPolicy(max_retries=0))
    fake.fail_next(2, 502)
    for _ in range(2):
        with pytest.raises(ExchangeUnavailableError):
            c.get_json(PATH)
    assert breaker.state == "open"


def test_bad_base_url_is_refused(clock):
    with pytest.raises(ValueError, match="http:// or https://"):
        client("ftp://127.0.0.1", clock)


def test_slow_answer_times_out_and_is_retried(fake, clock):
    fake.delay_next(1, 1.0)
    c = client(fake.base_url, clock, timeout_s=0.2)
    assert "symbols" in c.get_json(PATH)
    assert len(fake.requests) == 2 and clock.sleeps == [0.5]
