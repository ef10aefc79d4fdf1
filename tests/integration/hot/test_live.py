"""LiveCache against a real Redis: round trips, TTLs, trimming, namespacing."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
import redis

from app.hot.live import LiveCache
from app.market.sources.base import Ticker
from app.market.sources.demo import DemoSource, generate_demo_candles
from app.marketdata import OHLCV

pytestmark = pytest.mark.integration
END = pd.Timestamp("2025-06-01 12:34:56", tz="UTC")


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return generate_demo_candles(["BTC/USDT"], end=END, days=1, seed=7)["BTC/USDT"]


@pytest.fixture
def cache(redis_client) -> LiveCache:
    return LiveCache(redis_client, prefix="cwtest", ttl_s=3600, ticker_ttl_s=120)


def ticker(symbol="BTC/USDT", price=81234.56789, change=-1.2345678901234567) -> Ticker:
    return Ticker(symbol=symbol, price=price, change_24h_pct=change, volume_24h=12345.678901234,
                  time=datetime(2025, 6, 1, 12, 34, 0, 123456, tzinfo=timezone.utc))


def test_candles_round_trip_exactly(cache, candles):
    assert cache.write_candles("demo", "BTC/USDT", "1m", candles, keep=2000) == len(candles)
    back = cache.read_candles("demo", "BTC/USDT", "1m")
    pd.testing.assert_frame_equal(back, candles, check_exact=True, check_freq=False)
    assert str(back.index.tz) == "UTC" and back.index.name == "time"
    assert list(back.columns) == OHLCV and all(back[c].dtype == np.float64 for c in OHLCV)


def test_awkward_floats_survive(cache):
    idx = pd.date_range("2025-01-01", periods=3, freq="h", tz="UTC", name="time")
    vals = np.array([[0.1 + 0.2, 1e308, 5e-324, 1 / 3, 0.0],
                     [np.nextafter(1.0, 2.0), 2.0, 0.5, 1.0, 123456789.123456789],
                     [-0.0, 7.0, -7.0, 3.0, 1e-9]])
    df = pd.DataFrame(vals, index=idx, columns=OHLCV)
    cache.write_candles("binance", "ETH/USDT", "1h", df)
    back = cache.read_candles("binance", "ETH/USDT", "1h")
    assert back.to_numpy().tobytes() == df.to_numpy().tobytes()  # bit for bit, -0.0 included
    assert back.index.equals(idx)


def test_limit_returns_the_newest_bars(cache, candles):
    cache.write_candles("demo", "BTC/USDT", "1m", candles, keep=500)
    last_ten = cache.read_candles("demo", "BTC/USDT", "1m", limit=10)
    pd.testing.assert_frame_equal(last_ten, candles.iloc[-10:], check_freq=False)
    everything = cache.read_candles("demo", "BTC/USDT", "1m", limit=10_000)
    assert len(everything) == 500


def test_keep_trims_to_the_newest_n(cache, candles):
    cache.write_candles("demo", "BTC/USDT", "1m", candles.iloc[:300], keep=100)
    back = cache.read_candles("demo", "BTC/USDT", "1m")
    pd.testing.assert_frame_equal(back, candles.iloc[200:300], check_freq=False)
    cache.write_candles("demo", "BTC/USDT", "1m", candles.iloc[300:350], keep=100)
    back = cache.read_candles("demo", "BTC/USDT", "1m")
    pd.testing.assert_frame_equal(back, candles.iloc[250:350], check_freq=False)


def test_incremental_writes_merge_and_replace_the_forming_bar(cache, candles):
    cache.write_candles("demo", "BTC/USDT", "1m", candles.iloc[:100])
    update = candles.iloc[99:102].copy()
    update.iloc[0, update.columns.get_loc("close")] = 1.5  # the last bar, revised
    cache.write_candles("demo", "BTC/USDT", "1m", update)
    back = cache.read_candles("demo", "BTC/USDT", "1m")
    assert len(back) == 102 and back.index.is_unique and back.index.is_monotonic_increasing
    assert back["close"].iloc[99] == 1.5
    pd.testing.assert_frame_equal(back.iloc[:99], candles.iloc[:99], check_freq=False)
    pd.testing.assert_frame_equal(back.iloc[100:], candles.iloc[100:102], check_freq=False)
    # an older span written later lands in time order
    cache.write_candles("demo", "BTC/USDT", "1m", candles.iloc[200:205])
    cache.write_candles("demo", "BTC/USDT", "1m", candles.iloc[150:152])
    back = cache.read_candles("demo", "BTC/USDT", "1m")
    assert back.index.is_monotonic_increasing and len(back) == 102 + 5 + 2


def test_cold_cache_reads_none(cache):
    assert cache.read_candles("demo", "BTC/USDT", "1m") is None
    assert cache.read_candles("demo", "BTC/USDT", "1m", limit=5) is None
    assert cache.read_ticker("demo", "BTC/USDT") is None
    assert cache.read_tickers("demo", ["BTC/USDT", "ETH/USDT"]) == {"BTC/USDT": None, "ETH/USDT": None}


def test_every_key_has_a_ttl(cache, redis_client, candles):
    cache.write_candles("demo", "BTC/USDT", "1m", candles)
    cache.write_candles("demo", "BTC/USDT", "1h", candles.iloc[::60])
    cache.write_ticker("demo", ticker())
    keys = redis_client.keys("*")
    # the writes also advance the candles change counter (app.hot.changes): one key per table, no TTL on
    # purpose (a counter that expired could repeat a value a reader still holds); nothing else lacks one
    counters = [k for k in keys if k.startswith(b"cwtest:changes:")]
    assert counters == [b"cwtest:changes:candles"] and redis_client.ttl(counters[0]) == -1
    keys = [k for k in keys if k not in counters]
    assert len(keys) == 3
    for key in keys:
        assert key.startswith(b"cwtest:live:")
        ttl = redis_client.ttl(key)
        limit = 120 if b":ticker:" in key else 3600
        assert 0 < ttl <= limit, key


def test_rewriting_refreshes_the_ttl(cache, redis_client, candles):
    cache.write_candles("demo", "BTC/USDT", "1m", candles.iloc[:10])
    key = cache.candles_key("demo", "BTC/USDT", "1m")
    redis_client.expire(key, 5)
    cache.write_candles("demo", "BTC/USDT", "1m", candles.iloc[10:11])
    assert redis_client.ttl(key) > 3000


def test_expired_series_go_cold(redis_client, candles):
    short = LiveCache(redis_client, prefix="cwtest", ttl_s=1, ticker_ttl_s=1)
    short.write_candles("demo", "BTC/USDT", "1m", candles.iloc[:5])
    short.write_ticker("demo", ticker())
    key = short.candles_key("demo", "BTC/USDT", "1m")
    redis_client.pexpire(key, 1)
    redis_client.pexpire(short.ticker_key("demo", "BTC/USDT"), 1)
    time.sleep(0.05)
    assert short.read_candles("demo", "BTC/USDT", "1m") is None
    assert short.read_ticker("demo", "BTC/USDT") is None


def test_ticker_round_trip_exactly(cache):
    t = ticker()
    cache.write_ticker("binance", t)
    back = cache.read_ticker("binance", "BTC/USDT")
    assert back == t
    assert back.time.tzinfo is not None and back.time.utcoffset() == timedelta(0)


def test_ticker_time_is_stored_in_utc(cache):
    tokyo = timezone(timedelta(hours=9))
    t = Ticker("BTC/USDT", 1.0, 0.0, 0.0, datetime(2025, 6, 1, 21, 0, tzinfo=tokyo))
    cache.write_ticker("demo", t)
    back = cache.read_ticker("demo", "BTC/USDT")
    assert back.time == datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
    assert back.time.utcoffset() == timedelta(0)


def test_read_tickers_in_one_round_trip(cache, redis_client, monkeypatch):
    cache.write_ticker("demo", ticker("BTC/USDT", 80000.0))
    cache.write_ticker("demo", ticker("ETH/USDT", 3000.0))
    calls = []
    original = redis_client.execute_command

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(redis_client, "execute_command", counting)
    got = cache.read_tickers("demo", ["BTC/USDT", "eth/usdt", "SOL/USDT"])
    assert calls == ["MGET"]
    assert list(got) == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    assert got["BTC/USDT"].price == 80000.0 and got["ETH/USDT"].price == 3000.0
    assert got["SOL/USDT"] is None


def test_prefixes_and_exchanges_do_not_collide(redis_client, candles):
    a = LiveCache(redis_client, prefix="cwa")
    b = LiveCache(redis_client, prefix="cwb")
    a.write_candles("demo", "BTC/USDT", "1m", candles.iloc[:10])
    b.write_candles("demo", "BTC/USDT", "1m", candles.iloc[10:15])
    a.write_ticker("demo", ticker(price=1.0))
    b.write_ticker("demo", ticker(price=2.0))
    pd.testing.assert_frame_equal(a.read_candles("demo", "BTC/USDT", "1m"), candles.iloc[:10], check_freq=False)
    pd.testing.assert_frame_equal(b.read_candles("demo", "BTC/USDT", "1m"), candles.iloc[10:15], check_freq=False)
    assert a.read_ticker("demo", "BTC/USDT").price == 1.0
    assert b.read_ticker("demo", "BTC/USDT").price == 2.0
    assert a.read_candles("binance", "BTC/USDT", "1m") is None  # exchanges are separate too
    assert a.read_candles("demo", "BTC/USDT", "5m") is None
    assert a.clear() == 2
    assert a.read_ticker("demo", "BTC/USDT") is None
    assert b.read_ticker("demo", "BTC/USDT").price == 2.0


def test_demo_source_feeds_the_cache(cache):
    now = datetime(2025, 6, 1, 12, 34, 56, tzinfo=timezone.utc)
    src = DemoSource(clock=lambda: now)
    for symbol in src.list_symbols():
        df = src.fetch_candles(symbol, "1h", now - timedelta(days=30), now)
        cache.write_candles(src.name, symbol, "1h", df)
        cache.write_ticker(src.name, src.fetch_ticker(symbol))
    got = cache.read_tickers("demo", src.list_symbols())
    assert all(t is not None and t.time == datetime(2025, 6, 1, 12, 34, tzinfo=timezone.utc) for t in got.values())
    assert 50_000 < got["BTC/USDT"].price < 120_000
    assert len(cache.read_candles("demo", "ETH/USDT", "1h")) == 500


def test_bad_input_is_refused(cache, redis_client, candles):
    with pytest.raises(ValueError, match="timeframe"):
        cache.write_candles("demo", "BTC/USDT", "3m", candles)
    with pytest.raises(ValueError, match="exchange"):
        cache.write_candles("Demo:x", "BTC/USDT", "1m", candles)
    with pytest.raises(ValueError, match="BASE/QUOTE"):
        cache.read_candles("demo", "BTCUSDT", "1m")
    with pytest.raises(ValueError, match="keep"):
        cache.write_candles("demo", "BTC/USDT", "1m", candles, keep=0)
    with pytest.raises(ValueError, match="limit"):
        cache.read_candles("demo", "BTC/USDT", "1m", limit=0)
    nan = candles.iloc[:3].copy()
    nan.iloc[1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cache.write_candles("demo", "BTC/USDT", "1m", nan)
    with pytest.raises(ValueError, match="increasing"):
        cache.write_candles("demo", "BTC/USDT", "1m", candles.iloc[::-1])
    with pytest.raises(ValueError, match="timezone-aware"):
        cache.write_ticker("demo", Ticker("BTC/USDT", 1.0, 0.0, 0.0, datetime(2025, 1, 1)))
    with pytest.raises(ValueError, match="cannot be stored"):
        cache.write_ticker("demo", Ticker("BTC/USDT", float("nan"), 0.0, 0.0, datetime.now(timezone.utc)))
    with pytest.raises(ValueError, match="prefix"):
        LiveCache(redis_client, prefix="cw:*")
    with pytest.raises(ValueError, match="ttl_s"):
        LiveCache(redis_client, ttl_s=0)
    with pytest.raises(ValueError, match="decode_responses"):
        LiveCache(redis.Redis(host="127.0.0.1", port=6379, db=14, decode_responses=True))
    assert redis_client.keys("*") == []  # nothing was written by refused calls
