"""app/api/v1/rate_limit.py: one sliding-window bucket per (resource, key), counted down in the headers,
and no refusals while the shared counters are unreachable."""
from __future__ import annotations

import time
import uuid

import pytest

from app.api.v1.rate_limit import ApiRateLimit


def _limits(limit="3 per minute", uri="memory://"):
    return ApiRateLimit(limit, uri, f"test-{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=["memory", "redis"])
def storage(request):
    """Embedded mode's in-process counter (``limits``) and production's Redis script
    (:mod:`app.hot.rate_window`): the same answers from both."""
    return "memory://" if request.param == "memory" else request.getfixturevalue("redis_url")


def test_a_bucket_allows_the_limit_then_refuses_counting_down(storage):
    limits = _limits(uri=storage)
    seen = [limits.take("candles", "api-token:a") for _ in range(4)]
    assert [w.allowed for w in seen] == [True, True, True, False]
    assert [w.remaining for w in seen] == [2, 1, 0, 0]
    assert all(w.limit == 3 for w in seen)
    now = time.time()
    assert now < seen[-1].reset_at <= now + 61  # refills within the minute


def test_each_resource_and_each_key_has_its_own_bucket(storage):
    limits = _limits("1 per minute", storage)
    assert limits.take("candles", "api-token:a").allowed
    assert not limits.take("candles", "api-token:a").allowed
    assert limits.take("signals", "api-token:a").allowed  # another resource
    assert limits.take("candles", "api-token:b").allowed  # another token


def test_unreachable_redis_limits_nothing_and_opens_the_breaker():
    limits = _limits(uri=f"redis://127.0.0.1:1/{uuid.uuid4().int % 16}")  # nothing listens on port 1
    assert limits.take("candles", "api-token:a") is None
    assert limits.outage.degraded and "Connection refused" in (limits.outage.last_error or "")
    assert limits.take("candles", "api-token:a") is None  # answered by the open breaker
