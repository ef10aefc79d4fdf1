"""Synthetic candles for the ML tests."""
from __future__ import annotations

import numpy as np
import pandas as pd


def candles_from_returns(returns: np.ndarray, seed: int = 0, freq: str = "1h") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(returns)
    close = 100.0 * np.exp(np.cumsum(returns))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0.0005, 0.003, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0.0005, 0.003, n))
    idx = pd.date_range("2024-01-01", periods=n, freq=freq, tz="UTC", name="time")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close,
                         "volume": rng.uniform(10, 100, n)}, index=idx)


def random_walk(n: int = 600, seed: int = 0) -> pd.DataFrame:
    return candles_from_returns(np.random.default_rng(seed).normal(0, 0.01, n), seed)


def three_bar_pattern(n: int = 1500, seed: int = 1) -> pd.DataFrame:
    """Directions repeat up, up, down: the next direction follows from the last two,
    which an LSTM can learn and neither naive baseline can (both top out at 2/3)."""
    rng = np.random.default_rng(seed)
    signs = np.tile([1.0, 1.0, -1.0], n // 3 + 1)[:n]
    return candles_from_returns(signs * rng.uniform(0.002, 0.01, n), seed)
