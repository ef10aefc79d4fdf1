"""The exchange circuit breaker's state lives in Redis: every worker process sees the same breaker."""
import pytest

from app.hot import breaker_storage
from app.market.sources.breaker import CircuitBreaker
from app.market.sources.errors import CircuitOpenError, ExchangeUnavailableError
from tests.conftest import make_settings

pytestmark = pytest.mark.integration


def _fail():
    raise ExchangeUnavailableError("down", exchange="binance")


def test_two_processes_breakers_share_one_state_through_redis(redis_url, tmp_path):
    settings = make_settings(tmp_path, redis_url=redis_url)
    worker_a = CircuitBreaker("binance", failure_threshold=3, storage=breaker_storage("binance", settings))
    worker_b = CircuitBreaker("binance", failure_threshold=3, storage=breaker_storage("binance", settings))
    for breaker in (worker_a, worker_b, worker_a):  # failures seen by different workers add up
        with pytest.raises(ExchangeUnavailableError):
            breaker.call(_fail)
    assert worker_b.state == "open" and worker_b.failures == 3
    with pytest.raises(CircuitOpenError):
        worker_b.call(lambda: "not called")
    import redis

    keys = {k.decode() for k in redis.Redis.from_url(redis_url).scan_iter("cw:breaker:binance:*")}
    assert "cw:breaker:binance:pybreaker:state" in keys


def test_embedded_mode_keeps_the_breaker_in_memory(tmp_path):
    import pybreaker

    assert isinstance(breaker_storage("binance", make_settings(tmp_path)), pybreaker.CircuitMemoryStorage)
