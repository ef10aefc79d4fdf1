"""Per-minute analysis cost: a full recompute of every timeframe against the incremental path
(``app.analysis.incremental``: an unchanged timeframe reuses its last result), side by side in one run.

Run from the repo root: ``.venv/bin/python bench/analysis_minute.py [--minutes 60] [--symbols 3]``.
A random walk of 1m bars is resampled to 5m, 15m, 1h, 4h and 1d (each frame cut to
``ScoringConfig().history_bars`` bars, as the job loads them); each simulated minute appends one closed 1m
bar and every higher timeframe whose bar closed. Both paths score the same frames of every symbol each
minute (order alternating minute by minute); their results are checked equal. The database read is not
timed (it is the same for both). Ends with ``RESULT`` lines.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.analysis.config import ScoringConfig  # noqa: E402
from app.analysis.incremental import FrameMemo  # noqa: E402
from app.analysis.scoring import analyze_frames  # noqa: E402
from app.analysis.snapshot import EVENT_BARS  # noqa: E402

TFS = {"1m": "1min", "5m": "5min", "15m": "15min", "1h": "1h", "4h": "4h", "1d": "1D"}


def minute_bars(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    spread = np.abs(rng.normal(0, 0.0007, n)) * close
    idx = pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) + spread,
                         "low": np.minimum(open_, close) - spread, "close": close,
                         "volume": rng.uniform(1, 100, n)}, index=idx)


def closed_frames(m1: pd.DataFrame, end: int, limit: int) -> dict[str, pd.DataFrame]:
    """Every timeframe's closed bars up to minute ``end`` (the bar of a higher timeframe counts once closed)."""
    now = m1.index[end - 1] + pd.Timedelta(minutes=1)
    out = {}
    for tf, rule in TFS.items():
        src = m1.iloc[max(0, end - limit * _minutes(tf) - _minutes(tf)):end]
        if tf == "1m":
            df = src
        else:
            df = src.resample(rule, label="left", closed="left").agg(
                {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}).dropna()
            df = df[df.index + pd.Timedelta(minutes=_minutes(tf)) <= now]
        out[tf] = df.iloc[-limit:]
    return out


def _minutes(tf: str) -> int:
    return {"1m": 1, "5m": 5, "15m": 15, "1h": 60, "4h": 240, "1d": 1440}[tf]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=int, default=60)
    p.add_argument("--symbols", type=int, default=3)
    p.add_argument("--history-days", type=int, default=320, help="1m history to resample (1d needs many days)")
    args = p.parse_args()
    config = ScoringConfig()
    limit = config.history_bars
    total = args.history_days * 1440
    start = total - args.minutes
    series = [minute_bars(total, seed) for seed in range(args.symbols)]
    # the frames of every minute, built before timing (resampling is not part of what is measured)
    minutes = [[closed_frames(m1, end, limit) for m1 in series] for end in range(start, total)]
    memos = [FrameMemo() for _ in series]
    for s, frames in enumerate(minutes[0]):  # warm the memo with the minute before (the job ran then too)
        analyze_frames(frames, "BTC/USDT", config, events_bars=EVENT_BARS, memo=memos[s], memo_key=str(s))
    full_ms, inc_ms = [], []
    for i, per_symbol in enumerate(minutes[1:]):
        def run_full():
            return [analyze_frames(f, "BTC/USDT", config, events_bars=EVENT_BARS) for f in per_symbol]

        def run_inc():
            return [analyze_frames(f, "BTC/USDT", config, events_bars=EVENT_BARS, memo=memos[s], memo_key=str(s))
                    for s, f in enumerate(per_symbol)]

        order = [("full", run_full), ("inc", run_inc)]
        if i % 2:
            order.reverse()
        got = {}
        for name, fn in order:
            t0 = time.perf_counter()
            got[name] = fn()
            (full_ms if name == "full" else inc_ms).append(1000 * (time.perf_counter() - t0))
        for a, b in zip(got["full"], got["inc"]):
            assert a[0] == b[0] and a[1] == b[1], "incremental result differs from the full recompute"
            for tf in a[2]:
                pd.testing.assert_frame_equal(a[2][tf], b[2][tf])
    hits = sum(m.hits for m in memos)
    misses = sum(m.misses for m in memos)
    print(f"{len(full_ms)} minutes x {args.symbols} symbols x {len(TFS)} timeframes, {limit} bars each; "
          f"memo hits {hits}, misses {misses}; results equal every minute")
    for name, xs in (("full recompute (reference)", full_ms), ("incremental", inc_ms)):
        print(f"{name:28s} per minute: median {statistics.median(xs):8.1f} ms  p95 "
              f"{sorted(xs)[int(0.95 * (len(xs) - 1))]:8.1f} ms  total {sum(xs) / 1000:6.2f} s")
    print(f"RESULT ref_analysis_minute_ms {statistics.median(full_ms):.1f} ms (full recompute, median per minute, "
          f"{args.symbols} symbols)")
    print(f"RESULT analysis_minute_ms {statistics.median(inc_ms):.1f} ms (incremental, median per minute, "
          f"{args.symbols} symbols)")
    print(f"RESULT analysis_minute_speedup {statistics.median(full_ms) / statistics.median(inc_ms):.2f} x")


if __name__ == "__main__":
    main()
