"""Reading the breakers' shared state (pybreaker's keys); the process-report store's checks."""
import pybreaker
import pytest

from app.hot.breakers import BreakerState, read_states
from app.hot.memory import MemoryStore
from app.hot.processes import ProcessStats


class _Redis(MemoryStore):
    """pybreaker's Redis storage needs a few more calls than the in-memory store offers."""

    def setnx(self, key, value):
        return self.set(key, value, nx=True)

    def transaction(self, func, *keys):
        class Pipe:
            def __init__(pipe):
                pipe.store = self

            def get(pipe, key):
                return self.get(key)

            def multi(pipe):
                pass

            def set(pipe, key, value):
                self.set(key, value)

        func(Pipe())


def test_read_states_reads_what_pybreaker_writes_and_defaults_to_closed():
    redis = _Redis()
    storage = pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, redis, namespace="cw:breaker:kraken")
    storage.increment_counter()
    storage.increment_counter()
    storage.state = pybreaker.STATE_OPEN
    from datetime import datetime, timezone

    storage.opened_at = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)
    states = read_states(redis, "cw", ["binance", "kraken"])
    assert states == [BreakerState("binance", "closed", 0, None),
                      BreakerState("kraken", "open", 2, datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc).timestamp())]


def test_a_process_report_needs_a_name_and_a_positive_ttl():
    with pytest.raises(ValueError, match="ttl_s"):
        ProcessStats(None, ttl_s=0)
    with pytest.raises(ValueError, match="name"):
        ProcessStats(None).write("", {})


def test_feed_states_map_each_exchange_to_its_state():
    from app.hot.breakers import feed_states

    redis = _Redis()
    storage = pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, redis, namespace="cw:breaker:binance")
    storage.state = pybreaker.STATE_OPEN
    assert feed_states(redis, "cw", ["binance", "kraken"]) == {"binance": "open", "kraken": "closed"}
    assert feed_states(redis, "cw", []) == {}


def test_breaker_states_are_unknown_in_embedded_mode_and_while_redis_is_unreachable(tmp_path):
    import time

    import app.hot as hot
    from tests.conftest import make_settings

    assert hot.breaker_states(["binance"], make_settings(tmp_path)) is None  # embedded: no Redis to ask
    down = make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    started = time.monotonic()
    assert hot.breaker_states(["binance"], down) is None
    assert hot.breaker_states(["binance"], down) is None  # the outage breaker answers at once now
    assert time.monotonic() - started < 5
