"""Parameter grid search and rolling walk-forward optimisation.

Walk-forward: the data is cut into consecutive windows of ``train_bars``
in-sample bars followed by ``test_bars`` out-of-sample bars, rolled forward
by ``test_bars``. In each window every parameter set of the grid is
backtested in-sample, the best by ``metric`` is picked, and only that set is
traded out-of-sample. The headline is the **stitched out-of-sample** equity
(each test window starts with the previous one's final equity, flat, and
closes its positions at its end); in-sample numbers are reported per window
for inspection only.

Out-of-sample signals are computed on all data up to the end of the test
window (so indicators are warmed up on history); strategies are causal, so
no test-window bar sees a later one.

Every grid (``grid_search`` and each in-sample window) runs through
``app.backtest.grid.run_grid``: the candles are prepared once, the parameter
sets are simulated in one call on a pool of threads, and the metrics are the
same compiled sums as ``compute_metrics`` — the same choice, metric values
and out-of-sample result as backtesting each set in turn.
"""
from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from app.backtest.config import BacktestConfig
from app.backtest.assumptions import stamp
from app.backtest.engine import TRADE_COLUMNS, BacktestResult, prepare, run_backtest
from app.backtest.grid import grid_table, run_grid
from app.backtest.metrics import compute_metrics
from app.backtest.strategies import Strategy, _Thresholds

OPTIMISE_METRICS = ("total_return", "annual_return", "sharpe", "sortino", "calmar", "omega",
                    "max_drawdown", "profit_factor", "expectancy", "win_rate")


def param_grid(strategy_cls: type[Strategy], grid: Mapping[str, Sequence]) -> list[dict]:
    """Cartesian product of ``grid``; every set is validated by the strategy.
    Sets the strategy rejects (e.g. fast >= slow) are skipped."""
    known = {p.name: p for p in strategy_cls.params}
    unknown = set(grid) - set(known)
    if unknown:
        raise ValueError(f"{strategy_cls.name}: unknown grid parameters {sorted(unknown)}")
    names = list(grid)
    for n in names:
        if isinstance(grid[n], (str, bytes)) or len(grid[n]) == 0:
            raise ValueError(f"grid values for {n!r} must be a non-empty list")
        for v in grid[n]:
            known[n].validate(v)  # a bad value is the caller's error, not a skipped set
    empty = pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC"))
    combos = []
    for values in itertools.product(*(grid[n] for n in names)):
        params = dict(zip(names, values))
        try:
            _build(strategy_cls, params, empty)
        except ValueError:
            continue  # rejected combination, e.g. fast >= slow
        combos.append(params)
    if not combos:
        raise ValueError("the grid has no valid parameter set")
    return combos


def _build(strategy_cls: type[Strategy], params: dict, series: pd.Series | None) -> Strategy:
    if issubclass(strategy_cls, _Thresholds):
        return strategy_cls(series, **params)
    return strategy_cls(**params)


def _score(metrics: dict, metric: str) -> float:
    value = metrics[metric]
    return -math.inf if value is None or math.isnan(value) else float(value)


def _run(candles: pd.DataFrame, strategy: Strategy, config: BacktestConfig,
         first: int = 0, trusted: bool = False) -> BacktestResult:
    """Signals on all of ``candles``, trading only from row ``first`` on."""
    signals = strategy.signals(candles)
    window = candles.iloc[first:]
    return run_backtest(prepare(window, trusted=trusted), signals.iloc[first:], config,
                        strategy={"name": strategy.name, "params": dict(strategy.values)})


def grid_search(candles: pd.DataFrame, strategy_cls: type[Strategy], grid: Mapping[str, Sequence],
                config: BacktestConfig | None = None, metric: str = "sharpe",
                series: pd.Series | None = None) -> pd.DataFrame:
    """Backtest every parameter set on ``candles``; rows sorted best first."""
    if metric not in OPTIMISE_METRICS:
        raise ValueError(f"metric must be one of {OPTIMISE_METRICS}, got {metric!r}")
    config = config or BacktestConfig()
    combos = param_grid(strategy_cls, grid)
    table = grid_table(run_grid(candles, strategy_cls, combos, config, series=series), metric)
    return table[[*combos[0], *OPTIMISE_METRICS, "n_trades", "final_equity"]]


def _flat(window: pd.DataFrame, full, cash: float) -> BacktestResult:
    """A test window not traded (after a liquidation): equity held at ``cash``, no position."""
    index = window.index.rename("time")
    return BacktestResult(
        equity=pd.Series(np.full(len(index), float(cash)), index=index, name="equity"),
        positions=pd.DataFrame({s: np.zeros(len(index), dtype=np.int8) for s in full.symbols}, index=index),
        trades_data=pd.DataFrame(columns=TRADE_COLUMNS), config={}, symbols=full.symbols, timeframe=full.timeframe,
        bar_seconds=full.bar_seconds, start=index[0], end=index[-1], n_bars=len(index), data_hash=full.data_hash)


@dataclass(frozen=True, eq=False)
class WalkForwardResult:
    windows: pd.DataFrame      # one row per window: spans, chosen params, in/out-of-sample metric
    oos: BacktestResult        # stitched out-of-sample result (the headline)
    metric: str


def walk_forward(candles: pd.DataFrame, strategy_cls: type[Strategy], grid: Mapping[str, Sequence],
                 config: BacktestConfig | None = None, *, train_bars: int, test_bars: int,
                 metric: str = "sharpe", series: pd.Series | None = None) -> WalkForwardResult:
    """Rolling walk-forward; see the module docstring."""
    if metric not in OPTIMISE_METRICS:
        raise ValueError(f"metric must be one of {OPTIMISE_METRICS}, got {metric!r}")
    if train_bars < 2 or test_bars < 2:
        raise ValueError("train_bars and test_bars must be at least 2")
    if len(candles) < train_bars + test_bars:
        raise ValueError(f"need at least train_bars + test_bars = {train_bars + test_bars} bars, got {len(candles)}")
    config = config or BacktestConfig()
    config = replace(config, close_at_end=True)
    combos = param_grid(strategy_cls, grid)
    full = prepare(candles)  # validates once, hashes the whole span
    rows, parts = [], []
    cash = config.initial_cash
    ruin = None
    start = 0
    while start + train_bars + test_bars <= len(candles):
        train = candles.iloc[start:start + train_bars]
        end = start + train_bars + test_bars
        if ruin is not None:      # the account was liquidated: it stays flat at what is left
            window = candles.iloc[start + train_bars:end]
            parts.append(_flat(window, full, cash))
            rows.append({"train_start": train.index[0], "train_end": train.index[-1],
                         "test_start": window.index[0], "test_end": window.index[-1], "params": json.dumps(None),
                         f"in_sample_{metric}": math.nan, f"out_of_sample_{metric}": math.nan,
                         "out_of_sample_return": 0.0})
            start += test_bars
            continue
        best, best_score = None, -math.inf
        for run in run_grid(train, strategy_cls, combos, config, series=series, trusted=True):
            s = _score(run.metrics, metric)
            if best is None or s > best_score:      # ties: the first set in grid order
                best, best_score = run.params, s
        oos = _run(candles.iloc[:end], _build(strategy_cls, best, series),
                   replace(config, initial_cash=cash), first=start + train_bars, trusted=True)
        oos_metrics = compute_metrics(oos)
        rows.append({"train_start": train.index[0], "train_end": train.index[-1],
                     "test_start": oos.start, "test_end": oos.end, "params": json.dumps(best),
                     f"in_sample_{metric}": best_score, f"out_of_sample_{metric}": oos_metrics[metric],
                     "out_of_sample_return": oos_metrics["total_return"]})
        parts.append(oos)
        cash = oos.final_equity
        ruin = oos.ruin
        start += test_bars
    cfg = config.to_dict() | {"timeframe": full.timeframe}
    strategy = {"name": strategy_cls.name, "walk_forward": {
        "grid": {k: list(v) for k, v in grid.items()}, "metric": metric,
        "train_bars": train_bars, "test_bars": test_bars}}
    entries = {_build(strategy_cls, c, series).values.get("entry") for c in combos}
    traded = [p.trades for p in parts if len(p.trades)]
    trades = pd.concat(traded, ignore_index=True) if traded else parts[0].trades
    reasons = trades["exit_reason"].astype(str)
    assumptions = stamp(cfg, {"params": {"entry": entries.pop()}} if len(entries) == 1 else None, full.bar_seconds,
                        closed_at_end=int((reasons == "end_of_data").sum()), left_open=int((reasons == "open").sum()),
                        ruin=ruin)
    assumptions["walk_forward"] = ("each test window starts flat with the previous window's final equity and "
                                   "closes its positions at its last close (end_of_data), so every window's "
                                   "trades are closed; after a liquidation the remaining windows stay flat")
    stitched = BacktestResult(
        equity=pd.concat([p.equity for p in parts]),
        positions=pd.concat([p.positions for p in parts]),
        trades_data=trades, config=cfg,
        symbols=full.symbols, timeframe=full.timeframe, bar_seconds=full.bar_seconds,
        start=parts[0].start, end=parts[-1].end, n_bars=sum(p.n_bars for p in parts),
        data_hash=full.data_hash, strategy=strategy, assumptions=assumptions, ruin=ruin)
    return WalkForwardResult(windows=pd.DataFrame(rows), oos=stitched, metric=metric)
