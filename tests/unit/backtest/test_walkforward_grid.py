"""Walk-forward (app.backtest.walkforward) on short windows and through a liquidation."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from tests.unit.backtest.backtest_candles import make_candles, random_candles

from app.backtest.config import BacktestConfig, Costs
from app.backtest.metrics import metrics_report
from app.backtest.strategies import MovingAverageCross, ScoreThreshold
from app.backtest.walkforward import walk_forward


def test_one_minute_bars_train_64_test_5_do_not_raise():
    """Annualising a 5-bar return used to raise OverflowError."""
    candles = random_candles(160, seed=12, freq="1min")
    for metric in ("annual_return", "calmar", "sharpe"):
        wf = walk_forward(candles, MovingAverageCross, {"fast": [2, 3], "slow": [5, 8]}, train_bars=64,
                          test_bars=5, metric=metric)
        assert len(wf.windows) == (160 - 64) // 5
        report = metrics_report(wf.oos)
        json.dumps(report.to_json(), allow_nan=False)
        assert math.isfinite(report.values["total_return"])
        assert all(math.isnan(v) or math.isfinite(v) for v in wf.windows[f"out_of_sample_{metric}"])


def test_a_liquidation_in_a_fold_stops_the_walk_forward_flat():
    # calm, then a squeeze that doubles the price inside the second test window, then calm again
    n = 300
    base = np.full(n, 100.0)
    base[150:190] = np.linspace(100, 260, 40)
    base[190:] = 260.0
    opens = base * (1 + 0.002 * np.sin(np.arange(n)))
    c = make_candles(opens, highs=opens * 1.003, lows=opens * 0.997)
    config = BacktestConfig(initial_cash=1000.0, costs=Costs(maker_fee=0, taker_fee=0, slippage_bps=0))
    always_short = pd.Series(10.0, index=c.index)      # a score below enter_short on every bar
    wf = walk_forward(c, ScoreThreshold, {"enter_short": [30.0, 20.0], "allow_short": [True], "entry": ["state"]},
                      config, train_bars=100, test_bars=50, metric="total_return", series=always_short)
    oos = wf.oos
    assert oos.ruin is not None and oos.assumptions["ruin"]["happened"]
    bar = oos.equity.index.get_loc(oos.ruin["time"])
    assert (oos.equity.iloc[bar:] == oos.equity.iloc[bar]).all() and (oos.equity >= 0).all()
    assert (oos.positions.iloc[bar + 1:, 0] == 0).all()
    assert "liquidation" in set(oos.trades.exit_reason.astype(str))
    later = wf.windows[wf.windows.test_start > oos.ruin["time"]]
    assert len(later) >= 1 and (later.params == "null").all() and (later.out_of_sample_return == 0).all()
    assert oos.equity.index.equals(c.index[100:])
    assert "after a liquidation" in oos.assumptions["walk_forward"]
    assert oos.assumptions["entry"]["mode"] == "state"


def test_stitched_result_stamps_close_at_end():
    candles = random_candles(600, seed=9)
    wf = walk_forward(candles, MovingAverageCross, {"fast": [3, 5], "slow": [20]}, train_bars=300, test_bars=100)
    a = wf.oos.assumptions
    assert a["close_at_end"]["enabled"] and a["close_at_end"]["trades_left_open"] == 0
    assert a["close_at_end"]["trades_closed_at_end"] == int((wf.oos.trades.exit_reason == "end_of_data").sum())
    assert a["entry"]["mode"] == "cross"
    with pytest.raises(ValueError, match="at least"):
        walk_forward(candles, MovingAverageCross, {"fast": [3]}, train_bars=500, test_bars=200)
