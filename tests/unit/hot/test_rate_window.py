"""app/hot/rate_window.py: the sliding-window counter of ``limits``, a hit and its window in one script,
checked against ``limits`` itself on the same Redis."""
from __future__ import annotations

import time
import uuid

import pytest
import redis
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from app.hot.rate_window import RateWindows, window_state


@pytest.fixture
def windows(redis_url):
    return RateWindows(redis.Redis.from_url(redis_url), f"test-{uuid.uuid4().hex[:8]}")


def test_a_burst_is_allowed_up_to_the_limit_then_refused(windows):
    seen = [windows.hit("candles", "tok", 3, 60) for _ in range(5)]
    assert [w.allowed for w in seen] == [True, True, True, False, False]
    assert [w.remaining for w in seen] == [2, 1, 0, 0, 0]
    assert all(w.limit == 3 for w in seen)
    now = time.time()
    assert now < seen[-1].reset_at <= now + 61


def test_refused_hits_are_not_counted(windows, redis_url):
    for _ in range(6):
        windows.hit("candles", "tok", 2, 60)
    assert int(redis.Redis.from_url(redis_url).get(f"{windows.prefix}:candles:tok:cur")) == 2


def test_buckets_are_per_scope_and_key(windows):
    assert windows.hit("candles", "a", 1, 60).allowed
    assert not windows.hit("candles", "a", 1, 60).allowed
    assert windows.hit("signals", "a", 1, 60).allowed
    assert windows.hit("candles", "b", 1, 60).allowed


def test_the_same_answers_as_limits_on_the_same_redis(windows, redis_url):
    item = parse("4 per minute")
    oracle = SlidingWindowCounterRateLimiter(storage_from_string(redis_url))
    scope = uuid.uuid4().hex[:8]
    for _ in range(6):
        ours = windows.hit(scope, "tok", item.amount, item.get_expiry())
        allowed = oracle.hit(item, "oracle", scope, "tok")
        stats = oracle.get_window_stats(item, "oracle", scope, "tok")
        assert (ours.allowed, ours.remaining) == (allowed, stats.remaining)
        # the reset is a TTL modulo the window: a millisecond between the two reads can put one answer at
        # the end of a window and the other at the start of the next
        apart = abs(ours.reset_at - stats.reset_time) % 60
        assert min(apart, 60 - apart) < 1.0


def test_an_ended_window_still_weighs_by_its_overlap(windows, redis_url):
    """The current window ended 30.5 s ago (TTL below the 60 s window): it becomes the previous one, and
    its 6 hits count as floor(6 * 30.5 / 60) = 3 of a limit of 4, so one more hit is allowed, not four."""
    client = redis.Redis.from_url(redis_url)
    client.set(f"{windows.prefix}:candles:tok:cur", 6, px=30_500)
    first, second = windows.hit("candles", "tok", 4, 60), windows.hit("candles", "tok", 4, 60)
    assert first.allowed and first.remaining == 0
    assert not second.allowed
    assert int(client.get(f"{windows.prefix}:candles:tok:prev")) == 6  # shifted, not lost


def test_window_state_of_an_empty_bucket_resets_now():
    state = window_state(True, 10, 60.0, 0, 0.0, 0, 0.0, now=1000.0)
    assert (state.remaining, state.reset_at) == (10, 1000.0)


def test_a_window_read_as_it_starts_resets_a_whole_window_later_not_now():
    # the first hit's key has a TTL of exactly two windows: the window shifts in 60 s (limits' modulo: 0 s)
    state = window_state(False, 3, 60.0, 0, 0.0, 3, 120.0, now=1000.0)
    assert (state.remaining, state.reset_at) == (0, 1060.0)


def test_window_state_weighs_the_previous_window():
    # 10 hits in a window that still overlaps by 30 s of 60 -> weigh 5, plus 2 current: 3 left of 10
    state = window_state(True, 10, 60.0, 10, 30.0, 2, 90.0, now=1000.0)
    assert state.remaining == 3
    assert state.reset_at == 1000.0 + min(30.0 % 6.0, 90.0 % 60.0)


@pytest.mark.parametrize("limit, expiry", [(0, 60), (-1, 60), (True, 60), (1.5, 60), (3, 0), (3, 1.5), ("3", 60)])
def test_bad_limits_are_refused_by_name(windows, limit, expiry):
    with pytest.raises(ValueError, match="limit|expiry_s"):
        windows.hit("candles", "tok", limit, expiry)
