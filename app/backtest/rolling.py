"""Rolling annualised Sharpe ratio and volatility of an equity curve (trailing windows, no look-ahead).

Same conventions as ``app.backtest.metrics`` (arithmetic Sharpe, risk-free 0):
over the last ``window`` bar returns ending at bar t,
``volatility = std(r, ddof=1) * sqrt(ppy)`` and ``sharpe = mean(r) / std(r, ddof=1) * sqrt(ppy)``.
The first ``window - 1`` bars are NaN.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from app.backtest.metrics import bar_returns


def rolling_window(n_bars: int, bar_seconds: float, days: float = 30.0, min_bars: int = 10) -> int:
    """Bars in a ``days``-long window, at least ``min_bars`` and at most a third of the series."""
    if not bar_seconds > 0:
        raise ValueError(f"bar length must be positive, got {bar_seconds!r}")
    want = max(int(round(days * 86400 / bar_seconds)), min_bars)
    return max(2, min(want, n_bars // 3)) if n_bars >= 6 else 2


def rolling_sharpe_volatility(equity: pd.Series, initial_cash: float, window: int, ppy: float) -> pd.DataFrame:
    """Columns ``sharpe`` and ``volatility`` at each bar, from the trailing ``window`` bar returns."""
    if window < 2:
        raise ValueError(f"window must be at least 2 bars, got {window!r}")
    r = bar_returns(equity, initial_cash)
    roll = r.rolling(window, min_periods=window)
    std = roll.std(ddof=1)
    root = math.sqrt(ppy)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = (roll.mean() / std).where(std > 0) * root
    return pd.DataFrame({"sharpe": sharpe, "volatility": std * root}, index=equity.index)
