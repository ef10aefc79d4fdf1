"""DemoSource: the Source interface over the demo generator (closed bars, [since, until))."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from app.market.ticker import ticker_from_candles
from app.market.resample import resample_candles
from app.market.sources.base import Source, Ticker
from app.market.sources.demo import DEMO_EXCHANGE, EPOCH, DemoSource, generate_demo_candles
from app.marketdata import OHLCV, TIMEFRAMES

NOW = datetime(2025, 6, 1, 12, 34, 56, tzinfo=timezone.utc)


@pytest.fixture
def source() -> DemoSource:
    return DemoSource(("BTC/USDT", "ETH/USDT"), seed=7, clock=lambda: NOW)


def test_is_a_source_named_demo(source):
    assert isinstance(source, Source)
    assert source.name == DEMO_EXCHANGE == "demo"
    assert set(source.supported_timeframes) == set(TIMEFRAMES)
    assert source.list_symbols() == ["BTC/USDT", "ETH/USDT"]
    with source as s:  # context manager works without an HTTP client
        assert s is source


def test_one_minute_bars_match_the_generator(source):
    df = source.fetch_candles("btc/usdt", "1m", NOW - timedelta(days=2), NOW)
    ref = generate_demo_candles(["BTC/USDT"], end=NOW, days=2, seed=7)["BTC/USDT"]
    # bars opening in [12:34:56 two days ago, 12:34:56 now) -> 12:35 .. 12:33
    assert df.index[0] == pd.Timestamp("2025-05-30 12:35", tz="UTC")
    assert df.index[-1] == pd.Timestamp("2025-06-01 12:33", tz="UTC")
    pd.testing.assert_frame_equal(df, ref.iloc[1:], check_freq=False)


@pytest.mark.parametrize("timeframe", ["5m", "15m", "1h", "4h", "1d"])
def test_higher_timeframes_are_epoch_aligned_closed_resamples(source, timeframe):
    step = pd.Timedelta(TIMEFRAMES[timeframe])
    since = NOW - timedelta(days=20)
    df = source.fetch_candles("ETH/USDT", timeframe, since, NOW)
    assert list(df.columns) == OHLCV and str(df.index.tz) == "UTC"
    assert ((df.index - pd.Timestamp(0, tz="UTC")) % step == pd.Timedelta(0)).all()  # aligned to the UTC epoch
    assert df.index[0] >= since and df.index[-1] + step <= NOW  # closed bars only
    assert df.index[-1] + 2 * step > NOW  # ... and the newest closed one is there
    one_min = generate_demo_candles(["ETH/USDT"], end=NOW, days=22, seed=7)["ETH/USDT"]
    expected = resample_candles(one_min, "1m", timeframe).loc[df.index]
    pd.testing.assert_frame_equal(df, expected, check_freq=False)
    first = one_min.loc[df.index[0]: df.index[0] + step - pd.Timedelta(minutes=1)]
    assert df["open"].iloc[0] == first["open"].iloc[0]
    assert df["high"].iloc[0] == first["high"].max() and df["low"].iloc[0] == first["low"].min()
    assert df["close"].iloc[0] == first["close"].iloc[-1]
    assert df["volume"].iloc[0] == pytest.approx(first["volume"].sum(), rel=1e-12)


def test_range_is_half_open(source):
    since = datetime(2025, 5, 1, tzinfo=timezone.utc)
    df = source.fetch_candles("BTC/USDT", "1h", since, since + timedelta(hours=5))
    assert list(df.index) == list(pd.date_range(since, periods=5, freq="h", tz="UTC"))
    df = source.fetch_candles("BTC/USDT", "1h", since + timedelta(minutes=1), since + timedelta(hours=5))
    assert df.index[0] == pd.Timestamp(since) + pd.Timedelta(hours=1)


def test_long_windows_are_consistent_across_generation_chunks(source):
    since = datetime(2025, 3, 15, 7, tzinfo=timezone.utc)
    df = source.fetch_candles("BTC/USDT", "1m", since, NOW)
    assert len(df) > 31 * 1440  # spans more than one 30-day chunk
    assert df.index.is_unique and (df.index.to_series().diff().iloc[1:] == pd.Timedelta(minutes=1)).all()
    ref = generate_demo_candles(["BTC/USDT"], end=NOW, days=80, seed=7)["BTC/USDT"].loc[df.index]
    pd.testing.assert_frame_equal(df, ref, check_freq=False)


def test_history_starts_at_the_demo_epoch(source):
    df = source.fetch_candles("BTC/USDT", "1d", datetime(2019, 12, 1, tzinfo=timezone.utc),
                              datetime(2020, 1, 10, tzinfo=timezone.utc))
    assert df.index[0] == EPOCH and len(df) == 9


def test_future_or_empty_windows_return_empty_frames(source):
    df = source.fetch_candles("BTC/USDT", "1h", NOW, NOW + timedelta(days=1))
    assert df.empty and list(df.columns) == OHLCV


def test_bad_ranges_are_refused(source):
    with pytest.raises(ValueError, match="after since"):
        source.fetch_candles("BTC/USDT", "1h", NOW, NOW - timedelta(hours=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        source.fetch_candles("BTC/USDT", "1h", datetime(2025, 5, 1), NOW)
    with pytest.raises(ValueError, match="unknown timeframe"):
        source.fetch_candles("BTC/USDT", "2h", NOW - timedelta(days=1), NOW)
    with pytest.raises(ValueError, match="seed"):
        DemoSource(seed=-3)


def test_ticker_is_built_from_the_last_day_of_one_minute_bars(source):
    t = source.fetch_ticker("ETH/USDT")
    assert isinstance(t, Ticker) and t.symbol == "ETH/USDT"
    one_min = generate_demo_candles(["ETH/USDT"], end=NOW, days=2, seed=7)["ETH/USDT"]
    assert t == ticker_from_candles("ETH/USDT", one_min)
    assert t.time == datetime(2025, 6, 1, 12, 34, tzinfo=timezone.utc)
    assert t.price == one_min["close"].iloc[-1]


def test_row_protocol_matches_fetch_candles(source):
    since = datetime(2025, 5, 30, tzinfo=timezone.utc)
    df = source.fetch_candles("BTC/USDT", "15m", since, since + timedelta(hours=2))
    rows = source._fetch_rows("BTC/USDT", "15m", 900, int(since.timestamp()),
                              int(since.timestamp()) + 7200)
    assert [r[0] for r in rows] == [int(t.timestamp()) for t in df.index]
    assert np.array_equal(np.array([r[1:] for r in rows]), df.to_numpy())
