"""The grid path (app.backtest.grid): identical to backtesting each parameter set in turn."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from tests.unit.backtest.backtest_candles import random_candles

from app.backtest.config import BacktestConfig, Costs
from app.backtest.engine import prepare, run_backtest
from app.backtest.grid import ma_targets, rolling_mean, run_grid
from app.backtest.metrics import OPTIMISE_KEYS, compute_metrics
from app.backtest.strategies import BollingerBreakout, MovingAverageCross, RsiMeanReversion
from app.backtest.walkforward import OPTIMISE_METRICS, _score, grid_search, param_grid, walk_forward


@pytest.mark.parametrize("window", [1, 2, 7, 50, 333])
def test_rolling_mean_is_pandas_bit_for_bit(window):
    rng = np.random.default_rng(window)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.001, 20_000)))
    close[5000:5100] = close[5000]                     # a flat stretch (pandas' equal-values fix-up)
    ours = rolling_mean(close, window)
    theirs = pd.Series(close).rolling(window, min_periods=window).mean().to_numpy()
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    assert np.array_equal(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)])     # exact, not approximate


@pytest.mark.parametrize("entry", ["cross", "state"])
@pytest.mark.parametrize("allow_short", [True, False])
def test_ma_targets_equal_the_strategy_signals(entry, allow_short):
    candles = random_candles(3000, seed=5, freq="1min")
    close = candles.close.to_numpy()
    for fast, slow in ((3, 8), (10, 40), (25, 26)):
        strategy = MovingAverageCross(fast=fast, slow=slow, entry=entry, allow_short=allow_short)
        got = ma_targets(rolling_mean(close, fast), rolling_mean(close, slow), entry == "cross", allow_short)
        np.testing.assert_array_equal(got, strategy.signals(candles).to_numpy())


GRID = {"fast": [3, 5, 8, 13], "slow": [10, 21, 34], "entry": ["cross", "state"]}
CONFIG = BacktestConfig(stop_loss=0.02, trailing_stop=0.03, costs=Costs(funding_rate=0.0001, slippage_bps=3))


def loop_row(candles, cls, params, config):
    """Today's loop, written out: one backtest and compute_metrics per set."""
    result = run_backtest(prepare(candles), cls(**params).signals(candles), config)
    return result, compute_metrics(result)


@pytest.mark.parametrize("cls, grid", [(MovingAverageCross, GRID),
                                       (MovingAverageCross, {"fast": [3, 5], "slow": [10], "ema": [True, False]}),
                                       (RsiMeanReversion, {"length": [5, 14], "lower": [25.0, 35.0]}),
                                       (BollingerBreakout, {"length": [10, 20], "std": [1.5, 2.0]})])
def test_run_grid_equals_a_backtest_per_set(cls, grid):
    candles = random_candles(2500, seed=6, freq="15min")
    combos = param_grid(cls, grid)
    runs = run_grid(candles, cls, combos, CONFIG)
    assert [r.params for r in runs] == combos
    for run in runs:
        result, m = loop_row(candles, cls, run.params, CONFIG)
        assert run.final_equity == result.final_equity
        pd.testing.assert_frame_equal(run.trades, result.trades)
        for key in OPTIMISE_KEYS:         # the same compiled sums: identical, NaN where undefined
            assert (run.metrics[key] == m[key]) or (math.isnan(run.metrics[key]) and math.isnan(m[key])), key
    assert any(r.metrics["n_trades"] > 5 for r in runs)


def test_grid_search_table_matches_the_loop_and_is_sorted():
    candles = random_candles(1500, seed=7)
    table = grid_search(candles, MovingAverageCross, GRID, CONFIG, metric="sortino")
    assert table.sortino.is_monotonic_decreasing and len(table) == len(param_grid(MovingAverageCross, GRID))
    for row in table.head(5).itertuples():
        _, m = loop_row(candles, MovingAverageCross, {"fast": row.fast, "slow": row.slow, "entry": row.entry}, CONFIG)
        assert row.sortino == m["sortino"] and row.n_trades == m["n_trades"]


def old_walk_forward(candles, cls, grid, config, train_bars, test_bars, metric):
    """The walk-forward loop before the grid path (kept here as the reference)."""
    combos = param_grid(cls, grid)
    chosen, cash, start, oos_equity = [], config.initial_cash, 0, []
    while start + train_bars + test_bars <= len(candles):
        train = candles.iloc[start:start + train_bars]
        best, best_score = None, -math.inf
        for params in combos:
            s = _score(compute_metrics(run_backtest(prepare(train), cls(**params).signals(train), config)), metric)
            if best is None or s > best_score:
                best, best_score = params, s
        end = start + train_bars + test_bars
        sig = cls(**best).signals(candles.iloc[:end])
        from dataclasses import replace
        oos = run_backtest(prepare(candles.iloc[start + train_bars:end]), sig.iloc[start + train_bars:],
                           replace(config, initial_cash=cash))
        chosen.append((best, best_score))
        oos_equity.append(oos.equity)
        cash = oos.final_equity
        start += test_bars
    return chosen, pd.concat(oos_equity)


@pytest.mark.parametrize("metric", ["sharpe", "calmar", "profit_factor"])
def test_walk_forward_makes_the_same_choices_as_the_old_loop(metric):
    candles = random_candles(3000, seed=8, freq="1h")
    wf = walk_forward(candles, MovingAverageCross, GRID, CONFIG, train_bars=1200, test_bars=600, metric=metric)
    chosen, equity = old_walk_forward(candles, MovingAverageCross, GRID, CONFIG, 1200, 600, metric)
    assert [json.loads(p) for p in wf.windows.params] == [c[0] for c in chosen]
    assert list(wf.windows[f"in_sample_{metric}"]) == [c[1] for c in chosen]
    pd.testing.assert_series_equal(wf.oos.equity, equity)


def test_optimise_metrics_are_all_in_the_grid_metrics():
    assert set(OPTIMISE_METRICS) <= set(OPTIMISE_KEYS)


def test_fused_changes_equal_target_changes_and_long_only_configs_match_the_loop():
    from app.backtest.engine import target_changes
    from app.backtest.grid import _ma_targets

    candles = random_candles(2000, seed=10, freq="5min")
    close = candles.close.to_numpy()
    target, chg, k = _ma_targets(rolling_mean(close, 4), rolling_mean(close, 17), True, True)
    expected, n = target_changes(target.reshape(-1, 1))
    np.testing.assert_array_equal(chg, expected) and k == n
    config = BacktestConfig(allow_short=False, take_profit=0.01)
    combos = param_grid(MovingAverageCross, {"fast": [4, 6], "slow": [17, 30]})
    for run in run_grid(candles, MovingAverageCross, combos, config):
        result, m = loop_row(candles, MovingAverageCross, run.params, config)
        assert run.final_equity == result.final_equity and run.metrics["n_trades"] == m["n_trades"]
        assert (run.trades.side == "long").all()
