"""app.hot.breaker_states on the real Redis: what a worker's breaker writes is what the Market page reads."""
import pytest

pytestmark = pytest.mark.integration


def test_breaker_states_read_what_a_worker_breaker_wrote(redis_url, tmp_path):
    import app.hot as hot
    from app.market.sources.breaker import CircuitBreaker
    from app.market.sources.errors import ExchangeUnavailableError
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, redis_url=redis_url)
    assert hot.breaker_states(["binance", "kraken"], settings) == {"binance": "closed", "kraken": "closed"}
    breaker = CircuitBreaker("binance", failure_threshold=2, reset_timeout_s=60,
                             storage=hot.breaker_storage("binance", settings))

    def down():
        raise ExchangeUnavailableError("binance: 503")

    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017 - the failure, then the trip
            breaker.call(down)
    assert hot.breaker_states(["binance", "kraken"], settings) == {"binance": "open", "kraken": "closed"}
