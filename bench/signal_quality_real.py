"""Benchmark: the signal score's quality report on real market data, with confidence intervals.

Run from the repo root:  PYTHONPATH=. .venv/bin/python bench/signal_quality_real.py   (~1-2 min)

The same real series as ``bench/ml_real.py`` (``bench/realdata.py``: BTC daily
from bitstamp, the longest ETH daily history, EURUSD hourly and GOOG daily, all
through the project's import path). For each, the app's own report —
``app.analysis.quality_report.quality_for_frame`` (``score_series`` with the
hand-set weights, then ``signal_quality`` at the app's horizons 1, 4 and 12
bars) — and ``app.analysis.quality.signal_quality_ci`` on the same scores
(95 % moving-block bootstrap over the evaluated bars, 2,000 resamples); the
point estimates of both are checked to agree.

The claim the score makes: "buy" / "strong buy" mean the price tends to rise
and "sell" / "strong sell" that it tends to fall. Per label and horizon:
the mean forward return minus the base rate's (``edge``) and the hit rate
minus chance (``hit_edge``), each with its interval. The reference in the
same run is the unconditional base rate of the same bars (the "all" row).
A label *supports the claim* at a horizon when its edge interval lies entirely
on its side of zero (above for bullish labels, below for bearish ones), and
*contradicts* it when the interval lies entirely on the other side.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import quality_table  # noqa: E402
import realdata  # noqa: E402

from app.analysis.quality import signal_quality_ci  # noqa: E402
from app.analysis.quality_report import QUALITY_HORIZONS, quality_for_frame  # noqa: E402

N_BOOT = 2000
result = quality_table.result


def series() -> dict:
    crypto = [realdata.crypto_daily(e, s) for e, s in realdata.crypto_series()]
    by_name = {c.name: c for c in crypto}
    eth = max((c for c in crypto if c.name.endswith(" ETH")), key=lambda c: len(c.candles))
    return {"btc_daily": by_name["bitstamp BTC"], "eth_daily": eth,
            "eurusd_hourly": realdata.backtesting_csv("EURUSD", "1h"),
            "goog_daily": realdata.backtesting_csv("GOOG", "1d")}


def report(key: str, loaded) -> dict:
    t = time.perf_counter()
    scores, plain = quality_for_frame(loaded.candles, loaded.timeframe, horizons=QUALITY_HORIZONS)
    q = signal_quality_ci(loaded.candles, scores, horizons=QUALITY_HORIZONS, n_boot=N_BOOT)
    seconds = time.perf_counter() - t
    same = np.allclose(plain["edge_pct"].to_numpy(), q["edge_pct"].to_numpy(), equal_nan=True)
    if not same:
        raise AssertionError("the app's report and the bootstrap table disagree on the point estimates")
    print(f"\n== {key}: {loaded.name} {loaded.timeframe}, {len(loaded.candles)} bars "
          f"({loaded.candles.index[0]:%Y-%m-%d} .. {loaded.candles.index[-1]:%Y-%m-%d}), {seconds:.1f} s ==")
    tally = quality_table.print_rows(key, q, with_verdict=True)
    print(f"  (label, horizon) cells: {tally['support']} support the claim, {tally['contradict']} contradict it, "
          f"{tally['undecided']} undecided (the 95 % interval contains 0)")
    result(f"{key}_seconds", seconds, "s")
    return tally


def main() -> None:
    started = time.perf_counter()
    total = {"support": 0, "contradict": 0, "undecided": 0}
    for key, loaded in series().items():
        for name, n in report(key, loaded).items():
            total[name] += n
    for name, n in total.items():
        result(f"all_labels_{name}", n, "label_horizons")
    result("signal_quality_real_total_seconds", time.perf_counter() - started, "s")


if __name__ == "__main__":
    main()
