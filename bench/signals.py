"""Benchmark: refresh 20 symbols x 6 timeframes (500 bars each).

Run from the repo root:  .venv/bin/python bench/signals.py

Candles are seeded random walks generated here.  Two timings in one run:
  * fast refresh path: ``analyze_latest`` per symbol (TA-Lib kernels called
    directly on numpy arrays, events, per-timeframe scores with reasons and
    the fused score) -- median of several full passes over the 120 series;
  * pandas-ta per-call recompute: ``compute_indicators(engine="pandas_ta")``
    for the same 120 series (indicators only, through pandas-ta's per-call
    API -- a lower bound for a refresh built on it).
Target: the full fast refresh under 250 ms on the 2-core machine.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.analysis.indicators import compute_indicators  # noqa: E402
from app.analysis.scoring import analyze_latest  # noqa: E402

N_SYMBOLS, N_BARS = 20, 500
TIMEFRAMES = {"1m": "1min", "5m": "5min", "15m": "15min", "1h": "1h", "4h": "4h", "1d": "1D"}
END = pd.Timestamp("2026-01-01", tz="UTC")


def random_walk(n: int, freq: str, rng: np.random.Generator) -> pd.DataFrame:
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0.0, 0.001, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.004, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.004, n)))
    volume = rng.lognormal(3.0, 0.6, n)
    idx = pd.date_range(end=END, periods=n, freq=freq, name="time")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx)


def main() -> None:
    rng = np.random.default_rng(20240501)
    universe = {f"S{i:02d}/USDT": {tf: random_walk(N_BARS, f, rng) for tf, f in TIMEFRAMES.items()}
                for i in range(N_SYMBOLS)}
    n_series = N_SYMBOLS * len(TIMEFRAMES)

    for sym, frames in universe.items():  # warm-up (imports, caches)
        analyze_latest(frames, sym)
    fast = []
    for _ in range(7):
        t0 = time.perf_counter()
        for sym, frames in universe.items():
            analyze_latest(frames, sym)
        fast.append(time.perf_counter() - t0)
    fast_s = statistics.median(fast)

    compute_indicators(universe["S00/USDT"]["1h"], "1h", engine="pandas_ta")  # warm-up
    slow = []
    for _ in range(2):
        t0 = time.perf_counter()
        for frames in universe.values():
            for tf, frame in frames.items():
                compute_indicators(frame, tf, engine="pandas_ta")
        slow.append(time.perf_counter() - t0)
    slow_s = statistics.median(slow)

    print(f"{'path':<44}{'seconds':>10}{'ms/series':>12}")
    print(f"{'fast refresh (indicators+events+scores+fusion)':<44}{fast_s:>10.4f}{1000 * fast_s / n_series:>12.3f}")
    print(f"{'pandas-ta per-call recompute (indicators)':<44}{slow_s:>10.4f}{1000 * slow_s / n_series:>12.3f}")
    print(f"fast runs: {', '.join(f'{x:.4f}' for x in fast)}; target < 0.250 s: "
          f"{'met' if fast_s < 0.25 else 'NOT met'}")
    print(f"RESULT score_120_series_s {fast_s:.4f} s")
    print(f"RESULT pandas_ta_recompute_120_series_s {slow_s:.4f} s")
    print(f"RESULT speedup_vs_pandas_ta {slow_s / fast_s:.1f} x")


if __name__ == "__main__":
    main()
