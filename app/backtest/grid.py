"""A parameter grid of one strategy on one symbol, in one call.

:func:`run_grid` prepares the candles once, builds every parameter set's target
positions, and simulates them with the engine's compiled kernel on a pool of
threads (the kernel releases the GIL), keeping per set the trade records, the
final equity and the optimisation metrics (``metrics.core_metrics``, the same
compiled sums ``compute_metrics`` uses, so the numbers are identical to a
``run_backtest`` + ``compute_metrics`` loop). Equity curves are dropped after
their metrics are taken, so a grid of 100 sets on 1M bars holds ~1M floats
per worker thread, not per set.

The SMA crossover (``ma_cross`` with simple averages) computes each distinct
window's rolling mean once, in one compiled pass that reproduces pandas'
``rolling(w).mean()`` bit for bit (Kahan-compensated add/remove, as in
``pandas/_libs/window/aggregations.pyx``), and derives each pair's targets
from them; every other strategy computes its signals with ``Strategy.signals``
per set.

Fork safety: the parallelism is plain Python threads over ``nogil`` kernels,
started per call (and only for grids of at least ``PARALLEL_MIN_WORK`` bars x
sets), so no numba threading layer (OpenMP, TBB, workqueue) is ever
initialised — RQ's forked work horse is safe (see the storage-and-jobs recipe
on numba's threading layers after ``fork``).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from app.backtest import _kernel
from app.backtest.config import BacktestConfig
from app.backtest.engine import (MarketData, _symbol_dtype, _targets, _trades_frame, kernel_inputs, prepare,
                                 simulate)
from app.backtest.metrics import OPTIMISE_KEYS, core_metrics, elapsed_years, periods_per_year
from app.backtest.strategies import MovingAverageCross, Strategy, _Thresholds


@njit(cache=True, nogil=True)
def rolling_mean(values, window):
    """``pd.Series(values).rolling(window, min_periods=window).mean()``, bit for bit
    (pandas' fixed-window algorithm: Kahan-compensated running sum with separate
    add and remove compensation, the consecutive-equal-values and sign fix-ups)."""
    n = values.shape[0]
    out = np.empty(n)
    nobs = 0
    sum_x = 0.0
    neg_ct = 0
    comp_add = 0.0
    comp_rem = 0.0
    same = 0
    prev_value = values[0] if n else 0.0
    for i in range(n):
        if i >= window:                       # remove values[i - window]
            val = values[i - window]
            if not np.isnan(val):
                nobs -= 1
                y = -val - comp_rem
                t = sum_x + y
                comp_rem = t - sum_x - y
                sum_x = t
                if val < 0:
                    neg_ct -= 1
        val = values[i]                       # add values[i]
        if not np.isnan(val):
            nobs += 1
            y = val - comp_add
            t = sum_x + y
            comp_add = t - sum_x - y
            sum_x = t
            if val < 0:
                neg_ct += 1
            if val == prev_value:
                same += 1
            else:
                same = 1
            prev_value = val
        if nobs >= window and nobs > 0:
            result = sum_x / nobs
            if same >= nobs:
                result = prev_value
            elif neg_ct == 0 and result < 0:
                result = 0.0
            elif neg_ct == nobs and result > 0:
                result = 0.0
        else:
            result = np.nan
        out[i] = result
    return out


@njit(cache=True, nogil=True)
def ma_targets(fast, slow, cross, allow_short):
    """Targets of ``ma_cross`` from its two averages (``strategies._two_lines`` in one pass, for
    finite closes): +1 above, -1 (or 0 long-only) otherwise; with ``cross`` flat until the first
    crossing."""
    return _ma_targets(fast, slow, cross, allow_short)[0]


@njit(cache=True, nogil=True)
def _ma_targets(fast, slow, cross, allow_short):
    """(targets, rows i >= 1 where the target changes, their number): ``ma_targets`` and
    ``engine.target_changes`` in one pass."""
    n = fast.shape[0]
    out = np.zeros(n, dtype=np.int8)
    k = 0
    started = not cross
    prev = 0
    for t in range(n):
        f = fast[t]
        s = slow[t]
        if np.isnan(f) or np.isnan(s):
            prev = 0
        else:
            state = 1 if f > s else -1
            if not started and prev != 0 and state != prev:
                started = True
            prev = state
            if started:
                out[t] = state if (allow_short or state > 0) else 0
        if t > 0 and out[t] != out[t - 1]:
            k += 1
    chg = np.empty(k, dtype=np.int64)     # a second pass over the int8 targets: no n-long buffer
    j = 0
    for t in range(1, n):
        if out[t] != out[t - 1]:
            chg[j] = t
            j += 1
    return out, chg, k


@dataclass(frozen=True, eq=False)
class GridRun:
    """One parameter set of a grid: its metrics, final equity and trade records."""

    params: dict
    metrics: dict                 # OPTIMISE_KEYS + n_trades
    final_equity: float
    n_records: int                # trades including one still open at the end
    records: np.ndarray = field(repr=False)
    index: pd.DatetimeIndex = field(repr=False)
    symbol_dtype: pd.CategoricalDtype = field(repr=False)

    @property
    def trades(self) -> pd.DataFrame:
        """The trades as ``engine.TRADE_COLUMNS`` (built on access)."""
        return _trades_frame(self.records, self.index, self.symbol_dtype)


def _is_fast_sma(strategy_cls: type[Strategy], params: dict) -> bool:
    return strategy_cls is MovingAverageCross and not params.get("ema", False)


def _build(strategy_cls: type[Strategy], params: dict, series: pd.Series | None) -> Strategy:
    if issubclass(strategy_cls, _Thresholds):
        return strategy_cls(series, **params)
    return strategy_cls(**params)


def grid_targets(candles: pd.DataFrame, strategy_cls: type[Strategy], combos: Sequence[dict],
                 series: pd.Series | None = None):
    """A function ``k -> int8 targets`` of parameter set ``k`` on ``candles`` (the same values as
    ``strategy.signals(candles)``); SMA windows are computed once and shared."""
    built = [_build(strategy_cls, p, series) for p in combos]   # validates every set first
    if all(_is_fast_sma(strategy_cls, s.values) for s in built):
        close = np.ascontiguousarray(candles["close"].to_numpy(dtype=np.float64))
        windows = sorted({s.values[k] for s in built for k in ("fast", "slow")})
        means = dict(zip(windows, _pool_map(lambda w: rolling_mean(close, w), windows,
                                            len(close) * len(windows))))

        def sma(k: int, with_changes: bool = False):
            v = built[k].values
            out = _ma_targets(means[v["fast"]], means[v["slow"]], v["entry"] == "cross", v["allow_short"])
            return out if with_changes else out[0]
        return sma

    def generic(k: int, with_changes: bool = False):
        target = built[k].signals(candles).to_numpy()
        return (target, None, 0) if with_changes else target
    return generic


def _threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


# bars x parameter sets below which threads cost more than they save
PARALLEL_MIN_WORK = 1_000_000


def _pool_map(fn, items, work: int):
    items = list(items)
    if _threads() == 1 or len(items) < 2 or work < PARALLEL_MIN_WORK:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=_threads()) as pool:   # per call: nothing survives a fork
        return list(pool.map(fn, items))


def run_grid(candles: pd.DataFrame, strategy_cls: type[Strategy], combos: Sequence[dict],
             config: BacktestConfig | None = None, *, series: pd.Series | None = None,
             data: MarketData | None = None, trusted: bool = False) -> list[GridRun]:
    """Backtest every parameter set of ``combos`` on ``candles`` (one symbol), in one call.

    Equivalent, set by set, to ``run_backtest(prepare(candles), strategy.signals(candles), config)``
    followed by ``compute_metrics``: same trades, same final equity, same metric values.
    ``data``: ``prepare(candles)`` when the caller has it; ``trusted``: ``candles`` was validated.
    """
    config = config or BacktestConfig()
    data = data if data is not None else prepare(candles, trusted=trusted)
    if len(data.symbols) != 1:
        raise ValueError("run_grid takes one symbol")
    targets = grid_targets(candles, strategy_cls, combos, series)
    ppy = periods_per_year(data.bar_seconds, config.periods_per_year)
    years = elapsed_years(data.index, data.bar_seconds)
    dtype = _symbol_dtype(data)
    open_reason = float(_kernel.REASONS.index("open"))

    inputs = kernel_inputs(data, config)
    buffers = threading.local()        # one (equity, positions) pair per thread, reused across sets

    def one(k: int) -> GridRun:
        out = getattr(buffers, "out", None)
        if out is None:
            out = buffers.out = (np.empty(data.n_bars), np.empty((data.n_bars, 1), dtype=np.int8))
        target, chg, n_chg = targets(k, with_changes=True)
        if not config.allow_short:
            chg = None                        # the config clamps shorts to flat: the changes move
        target = _targets(target, data, config.allow_short)      # what run_backtest does with a signal
        equity, _, rec, n_trades, _, _ = simulate(data, target, config, inputs,
                                                  None if chg is None else (chg, n_chg), out)
        if n_trades != len(rec):
            raise RuntimeError(f"internal error: {n_trades} trades for a buffer of {len(rec)}")
        pnl = rec[rec[:, _kernel.R_REASON] != open_reason, _kernel.R_PNL]
        values, _ = core_metrics(equity, config.initial_cash, years, ppy, config.sharpe, pnl)
        return GridRun(dict(combos[k]), {key: values[key] for key in OPTIMISE_KEYS}, values["final_equity"],
                       len(rec), rec, data.index, dtype)

    return _pool_map(one, range(len(combos)), data.n_bars * len(combos))


def grid_table(runs: Sequence[GridRun], metric: str) -> pd.DataFrame:
    """Rows ``{**params, metrics...}`` sorted best first by ``metric`` (NaN last, stable)."""
    table = pd.DataFrame([{**r.params, **r.metrics} for r in runs])
    order = np.argsort(-np.nan_to_num(table[metric].to_numpy(dtype=float), nan=-np.inf), kind="stable")
    return table.iloc[order].reset_index(drop=True)
