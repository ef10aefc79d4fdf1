"""Small candle builders for the backtest tests (imported by the test modules)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def make_candles(opens, highs=None, lows=None, closes=None, volume=None, freq="1h",
                 start="2024-01-01") -> pd.DataFrame:
    """Canonical candles from explicit lists; missing highs/lows are the open/close envelope."""
    o = np.asarray(opens, dtype=float)
    c = np.asarray(closes if closes is not None else opens, dtype=float)
    h = np.asarray(highs, dtype=float) if highs is not None else np.maximum(o, c)
    lo = np.asarray(lows, dtype=float) if lows is not None else np.minimum(o, c)
    v = np.asarray(volume, dtype=float) if volume is not None else np.ones(len(o))
    idx = pd.date_range(start, periods=len(o), freq=freq, tz="UTC", name="time")
    return pd.DataFrame({"open": o, "high": h, "low": lo, "close": c, "volume": v}, index=idx)


def random_candles(n=600, seed=3, freq="1h", start="2024-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    o = np.r_[100.0, c[:-1]] * np.exp(rng.normal(0, 0.002, n))
    h = np.maximum(o, c) * (1 + rng.uniform(0, 0.01, n))
    lo = np.minimum(o, c) * (1 - rng.uniform(0, 0.01, n))
    return make_candles(o, h, lo, c, rng.uniform(1, 100, n), freq=freq, start=start)
