"""app.backtest.rolling: trailing Sharpe and volatility against an independent formula."""
from __future__ import annotations

import math
import statistics

import pandas as pd
import pytest

from app.backtest.rolling import rolling_sharpe_volatility, rolling_window

EQUITY = pd.Series([101.0, 99.0, 102.0, 104.0, 103.0, 107.0],
                   index=pd.date_range("2024-01-01", periods=6, freq="1h", tz="UTC"))


def test_matches_mean_and_sample_std_of_the_trailing_returns():
    ppy = 8760.0
    out = rolling_sharpe_volatility(EQUITY, 100.0, 3, ppy)
    prev = [100.0] + EQUITY.tolist()[:-1]
    r = [e / p - 1 for e, p in zip(EQUITY.tolist(), prev)]
    assert out["sharpe"].iloc[:2].isna().all() and out["volatility"].iloc[:2].isna().all()
    for t in range(2, 6):
        w = r[t - 2:t + 1]
        assert out["volatility"].iloc[t] == pytest.approx(statistics.stdev(w) * math.sqrt(ppy))
        assert out["sharpe"].iloc[t] == pytest.approx(statistics.mean(w) / statistics.stdev(w) * math.sqrt(ppy))


def test_no_look_ahead():
    changed = EQUITY.copy()
    changed.iloc[-1] = 50.0
    a = rolling_sharpe_volatility(EQUITY, 100.0, 3, 8760.0)
    b = rolling_sharpe_volatility(changed, 100.0, 3, 8760.0)
    pd.testing.assert_frame_equal(a.iloc[:-1], b.iloc[:-1])
    assert a["volatility"].iloc[-1] != b["volatility"].iloc[-1]


def test_window_is_thirty_days_capped_by_the_series():
    assert rolling_window(10_000, 86400.0) == 30
    assert rolling_window(600, 3600.0) == 200      # 720 hourly bars wanted, a third of 600 kept
    assert rolling_window(200_000, 60.0) == 43_200
    with pytest.raises(ValueError, match="window must be at least 2"):
        rolling_sharpe_volatility(EQUITY, 100.0, 1, 8760.0)
