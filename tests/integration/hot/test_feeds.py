"""Feed health: the breaker opens after repeated failures and the admin page's data shows it."""
import pytest

from tests.fakes.candles import make_candles
from tests.fakes.exchange import FakeExchange

pytestmark = pytest.mark.integration


def test_failing_exchange_opens_breaker_and_is_recorded(app, settings):
    import pandas as pd

    from app import hot
    from app.hot import feeds as feed_health
    from workers import ingest

    now = pd.Timestamp.now(tz="UTC").floor("min")
    candles = make_candles(300, start=(now - pd.Timedelta(minutes=300)).isoformat())
    with FakeExchange({"BTCUSDT": candles}) as ex:
        server = app
        server.config["CW_SETTINGS"] = settings.with_(binance_base_url=ex.base_url)
        ingest._sources.pop("binance", None)
        with server.app_context():
            from app.market.sources import make_source
            from app.market.sources.http import RetryPolicy

            ingest._sources["binance"] = make_source("binance", server.config["CW_SETTINGS"],
                                                     retry=RetryPolicy(max_retries=0), sleep=lambda s: None)
            ok = ingest.refresh("binance", "BTC/USDT", "1m")
            assert ok["written"] >= 290
            health = feed_health.read(hot.feed_store(settings), "cw", "binance")
            assert health.breaker_state == "closed" and health.last_ok and health.last_error is None
            # the bars it wrote started the pipeline (analysis, alerts, paper) on the in-process runner; let
            # it finish, so its SQLite writes cannot collide with the refreshes below ("database is locked")
            from workers import queues
            queues.runner().wait(timeout=120)

            ex.fail_next(10, 503)
            for _ in range(5):  # a new series (5m) always needs a request
                with pytest.raises(Exception, match="503|unavailable"):
                    ingest.refresh("binance", "BTC/USDT", "5m")
            health = feed_health.read(hot.feed_store(settings), "cw", "binance")
            assert health.breaker_state == "open"
            assert health.failures == 5
            assert "Unavailable" in health.last_error or "503" in health.last_error
            assert health.last_ok is not None  # the earlier success is kept
            requests_before = len(ex.requests)
            with pytest.raises(Exception, match="circuit"):
                ingest.refresh("binance", "BTC/USDT", "5m")
            assert len(ex.requests) == requests_before  # open breaker: no request sent
        ingest._sources.pop("binance", None)


def test_feed_health_in_redis_is_shared_and_expires(redis_url):
    import redis

    from app import hot
    from app.hot import feeds as feed_health
    from app.market.sources.breaker import BreakerSnapshot

    client = redis.Redis.from_url(redis_url)
    snap = BreakerSnapshot("kraken", "open", 5, 100.0, 12.3)
    feed_health.record(client, "cwtest", "kraken", snap, error="ExchangeUnavailableError: 502")
    feed_health.record(client, "cwtest", "binance", BreakerSnapshot("binance", "closed", 0, None, 0.0))
    feeds = feed_health.read_all(redis.Redis.from_url(redis_url), "cwtest")
    assert [(f.exchange, f.breaker_state) for f in feeds] == [("binance", "closed"), ("kraken", "open")]
    assert feeds[1].last_error.endswith("502") and feeds[1].last_ok is None and feeds[1].retry_in_s == 12.3
    assert 0 < client.ttl("cwtest:feeds:kraken") <= feed_health.TTL_S
