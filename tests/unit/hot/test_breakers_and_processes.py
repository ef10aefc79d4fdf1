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
