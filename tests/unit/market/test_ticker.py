"""``app.market.ticker.ticker_from_candles``: the pure ticker maths used by the demo source and ingestion.

(The Redis side, ``app.hot.live``, is covered in tests/integration/hot/test_live.py.)
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from app.market.ticker import ticker_from_candles
from app.market.sources.base import Ticker
from app.marketdata import OHLCV


def one_minute(n: int, start: str = "2025-01-01 00:00", close=None, volume=None) -> pd.DataFrame:
    idx = pd.date_range(pd.Timestamp(start, tz="UTC"), periods=n, freq="min", name="time")
    close = np.asarray(close if close is not None else 100.0 + np.arange(n), dtype="float64")
    vol = np.asarray(volume if volume is not None else np.ones(n), dtype="float64")
    return pd.DataFrame({"open": close - 0.5, "high": close + 1, "low": close - 1, "close": close,
                         "volume": vol}, index=idx)[OHLCV]


def test_full_day_window():
    # 1441 bars: closes 100 .. 1540; the bar 24 h before the last one closes at 100
    df = one_minute(1441, volume=np.r_[1000.0, np.full(1440, 2.0)])
    t = ticker_from_candles("btc/usdt", df)
    assert isinstance(t, Ticker) and t.symbol == "BTC/USDT"
    assert t.price == 1540.0
    assert t.change_24h_pct == pytest.approx((1540.0 / 100.0 - 1) * 100)
    assert t.volume_24h == 2.0 * 1440  # the first bar lies outside the 24 h window
    assert t.time == datetime(2025, 1, 2, 0, 1, tzinfo=timezone.utc)  # last bar's close time


def test_longer_history_only_the_last_day_counts():
    df = one_minute(3000)
    t = ticker_from_candles("ETH/USDT", df)
    ref_close = df["close"].iloc[-1441]
    assert t.change_24h_pct == pytest.approx((df["close"].iloc[-1] / ref_close - 1) * 100)
    assert t.volume_24h == 1440.0


def test_short_history_uses_the_first_open():
    df = one_minute(10)
    t = ticker_from_candles("BTC/USDT", df)
    assert t.change_24h_pct == pytest.approx((109.0 / 99.5 - 1) * 100)
    assert t.volume_24h == 10.0


def test_gaps_use_the_latest_bar_at_or_before_the_window_start():
    df = one_minute(1441)
    df = df.drop(df.index[1:5])  # the bars just after the reference are missing
    t = ticker_from_candles("BTC/USDT", df)
    assert t.change_24h_pct == pytest.approx((1540.0 / 100.0 - 1) * 100)


def test_bars_older_than_the_reference_do_not_matter():
    df = one_minute(3000)
    older = df.copy()
    older.iloc[:1500, :] = older.iloc[:1500, :] * 7.0  # rewrite history before the reference bar
    assert ticker_from_candles("BTC/USDT", older) == ticker_from_candles("BTC/USDT", df)
    older.iloc[1559, 3] = 1.0  # ... but the reference bar itself does
    assert ticker_from_candles("BTC/USDT", older) != ticker_from_candles("BTC/USDT", df)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="no candles"):
        ticker_from_candles("BTC/USDT", one_minute(0))
    with pytest.raises(ValueError, match="BASE/QUOTE"):
        ticker_from_candles("BTCUSDT", one_minute(3))
    naive = one_minute(3)
    naive.index = naive.index.tz_localize(None)
    with pytest.raises(ValueError, match="tz-aware"):
        ticker_from_candles("BTC/USDT", naive)
