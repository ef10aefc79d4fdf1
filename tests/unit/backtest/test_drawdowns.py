"""app.backtest.drawdowns: drawdown periods against hand-computed values."""
from __future__ import annotations

import pandas as pd
import pytest

from app.backtest.drawdowns import drawdown_periods, worst_drawdowns
from app.backtest.metrics import equity_metrics


def _daily(values):
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=len(values), freq="1D", tz="UTC"),
                     dtype=float)


# peaks 110 (Jan 2) and 120 (Jan 6, Jan 8); troughs 88 (-20 %), 108 (-10 %), 114 (-5 %, not recovered)
CURVE = _daily([100, 110, 99, 88, 110, 120, 108, 120, 114])
T = lambda d: pd.Timestamp(d, tz="UTC")  # noqa: E731


def test_every_period_with_start_trough_recovery_depth_and_length():
    p = drawdown_periods(CURVE)
    assert list(p["start"]) == [T("2024-01-02"), T("2024-01-06"), T("2024-01-08")]
    assert list(p["trough"]) == [T("2024-01-04"), T("2024-01-07"), T("2024-01-09")]
    assert list(p["recovery"][:2]) == [T("2024-01-05"), T("2024-01-08")] and pd.isna(p["recovery"][2])
    assert list(p["recovered"]) == [True, True, False]
    assert p["depth"].tolist() == pytest.approx([88 / 110 - 1, 108 / 120 - 1, 114 / 120 - 1])
    assert p["length_days"].tolist() == [3.0, 2.0, 1.0]  # the open one runs to the last bar


def test_worst_first_and_limited_to_top():
    w = worst_drawdowns(CURVE, top=2)
    assert w["depth"].tolist() == pytest.approx([-0.2, -0.1])
    assert list(w["start"]) == [T("2024-01-02"), T("2024-01-06")]
    assert len(worst_drawdowns(CURVE)) == 3  # fewer periods than five: all of them


def test_deepest_matches_the_metrics():
    w = worst_drawdowns(CURVE, top=1).iloc[0]
    m = equity_metrics(CURVE, 100.0, 86400.0)
    assert w["depth"] == pytest.approx(m["max_drawdown"])
    assert w["length_days"] == m["max_drawdown_duration_days"]


def test_a_curve_that_only_rises_has_no_drawdown():
    assert drawdown_periods(_daily([100, 101, 102])).empty
    assert worst_drawdowns(_daily([100, 101, 102])).empty


def test_top_must_be_positive():
    with pytest.raises(ValueError, match="top must be at least 1"):
        worst_drawdowns(CURVE, top=0)
