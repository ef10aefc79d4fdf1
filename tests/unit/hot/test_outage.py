"""app/hot/outage.py: the hot-state breaker degrades to a fallback instead of raising, and recovers."""
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from app.hot.memory import MemoryStore
from app.hot.outage import DegradingStore, Outage


class FlakyRedis:
    """A stand-in for a Redis client whose server can be switched off (unit test: no network)."""

    def __init__(self):
        self.up, self.data, self.calls = True, {}, 0

    def _check(self):
        self.calls += 1
        if not self.up:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    def get(self, key):
        self._check()
        return self.data.get(key)

    def set(self, key, value, ex=None, nx=False):
        self._check()
        self.data[key] = value
        return True

    def delete(self, *keys):
        self._check()
        return sum(self.data.pop(k, None) is not None for k in keys)


def test_a_redis_error_opens_the_breaker_and_later_calls_skip_redis_until_it_retries():
    redis, now = FlakyRedis(), [0.0]
    outage = Outage("test", retry_after=5.0)
    store = DegradingStore(redis, MemoryStore(), outage)
    store.set("k", b"1")
    assert store.get("k") == b"1" and not outage.degraded
    redis.up = False
    assert store.get("k") is None  # the memory fallback has no copy: a cache miss, not an exception
    assert outage.degraded and "Connection refused" in outage.last_error
    calls = redis.calls
    store.set("k2", b"2")
    assert store.get("k2") == b"2"  # served by this process's memory while open
    assert redis.calls == calls  # nobody waited on Redis while the breaker was open


def test_the_breaker_closes_after_one_success_once_redis_is_back(monkeypatch):
    redis = FlakyRedis()
    outage = Outage("test", retry_after=0.05)
    store = DegradingStore(redis, MemoryStore(), outage)
    redis.up = False
    store.get("k")
    assert outage.degraded
    redis.up = True
    redis.data["k"] = b"back"
    import time

    time.sleep(0.1)
    assert store.get("k") == b"back"
    assert not outage.degraded and outage.last_error is None


def test_switch_writes_are_refused_in_an_outage_and_reads_say_unknown():
    redis = FlakyRedis()
    outage = Outage("test", retry_after=5.0)
    store = DegradingStore(redis, None, outage, writes_degrade=False)
    redis.up = False
    assert store.get("cw:system:stop") is None
    with pytest.raises(RedisConnectionError.__mro__[1], match="nothing was changed"):
        store.set("cw:system:stop", "{}")
    assert redis.data == {}


def test_errors_that_are_not_outages_propagate_and_do_not_open_the_breaker():
    outage = Outage("test", retry_after=5.0)

    def bug():
        raise KeyError("a bug, not an outage")

    with pytest.raises(KeyError):
        outage.call(bug, lambda: None)
    assert not outage.degraded


def test_retry_after_must_be_positive():
    with pytest.raises(ValueError, match="retry_after"):
        Outage("x", retry_after=0)


def test_calls_while_closed_run_side_by_side_not_one_at_a_time():
    """pybreaker's own ``call`` holds its lock for the whole call: every thread of a web process then
    waited for the one Redis round trip in progress. Two calls must be inside ``func`` at once."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    outage = Outage("test", retry_after=5.0)
    both_inside = threading.Barrier(2, timeout=5)

    def func():
        both_inside.wait()  # broken (an error) when the other call cannot get in
        return "from redis"

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(outage.call, func, lambda: "fallback") for _ in range(2)]
        assert [f.result(timeout=10) for f in futures] == ["from redis", "from redis"]
    assert not outage.degraded


def test_an_outage_seen_by_a_concurrent_call_opens_the_breaker_for_the_next():
    redis = FlakyRedis()
    outage = Outage("test", retry_after=5.0)
    store = DegradingStore(redis, MemoryStore(), outage)
    redis.up = False
    assert store.get("k") is None and outage.degraded
    assert outage.breaker.current_state == "open"
    calls = redis.calls
    assert store.get("k") is None and redis.calls == calls  # the next call did not try Redis
