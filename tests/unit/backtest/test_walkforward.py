"""Grid search and walk-forward: windows, choice of parameters, stitched out-of-sample equity."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from tests.unit.backtest.backtest_candles import random_candles

from app.backtest.config import BacktestConfig
from app.backtest.metrics import compute_metrics
from app.backtest.strategies import MovingAverageCross, ScoreThreshold
from app.backtest.walkforward import grid_search, param_grid, walk_forward

GRID = {"fast": [3, 5, 10], "slow": [5, 20]}


def test_param_grid_skips_invalid_combinations_and_rejects_bad_values():
    combos = param_grid(MovingAverageCross, GRID)
    assert {(c["fast"], c["slow"]) for c in combos} == {(3, 5), (3, 20), (5, 20), (10, 20)}
    with pytest.raises(ValueError, match="unknown grid"):
        param_grid(MovingAverageCross, {"speed": [1]})
    with pytest.raises(ValueError, match=">= 2"):
        param_grid(MovingAverageCross, {"fast": [1], "slow": [5]})
    with pytest.raises(ValueError, match="no valid"):
        param_grid(MovingAverageCross, {"fast": [30], "slow": [10]})


def test_grid_search_sorted_by_metric():
    candles = random_candles(400, seed=4)
    table = grid_search(candles, MovingAverageCross, GRID, metric="total_return")
    assert len(table) == 4
    assert table.total_return.is_monotonic_decreasing


def test_walk_forward_picks_in_sample_best_and_stitches_out_of_sample():
    candles = random_candles(1000, seed=8)
    config = BacktestConfig(initial_cash=5000)
    wf = walk_forward(candles, MovingAverageCross, GRID, config, train_bars=400, test_bars=200, metric="sharpe")
    w = wf.windows
    assert len(w) == 3
    assert list(w.test_start) == [candles.index[400], candles.index[600], candles.index[800]]
    assert (w.test_start > w.train_end).all()
    # each window's choice is the grid-search winner on that window's training data alone
    for k, row in w.iterrows():
        train = candles.iloc[200 * k: 200 * k + 400]
        best = grid_search(train, MovingAverageCross, GRID, config, metric="sharpe").iloc[0]
        assert json.loads(row.params) == {"fast": int(best.fast), "slow": int(best.slow)}
        assert row.in_sample_sharpe == pytest.approx(best.sharpe)
    oos = wf.oos
    assert oos.equity.index.equals(candles.index[400:])       # headline = out-of-sample bars only
    assert oos.n_bars == 600 and oos.start == candles.index[400]
    # chained: each window starts with the previous window's final equity
    growth = (1 + w.out_of_sample_return).prod()
    assert oos.final_equity == pytest.approx(5000 * growth)
    assert compute_metrics(oos)["total_return"] == pytest.approx(growth - 1)
    assert oos.strategy["walk_forward"]["train_bars"] == 400


def test_walk_forward_with_an_injected_score():
    candles = random_candles(500, seed=9)
    score = pd.Series(50 + 40 * (candles.close.pct_change().rolling(3).sum() > 0) - 20, index=candles.index)
    wf = walk_forward(candles, ScoreThreshold, {"enter_long": [60, 65]}, train_bars=200, test_bars=100,
                      series=score, metric="total_return")
    assert len(wf.windows) == 3 and wf.oos.n_bars == 300


def test_walk_forward_needs_enough_bars():
    with pytest.raises(ValueError, match="at least"):
        walk_forward(random_candles(100), MovingAverageCross, GRID, train_bars=80, test_bars=40)
    with pytest.raises(ValueError, match="metric"):
        walk_forward(random_candles(100), MovingAverageCross, GRID, train_bars=50, test_bars=20, metric="luck")
