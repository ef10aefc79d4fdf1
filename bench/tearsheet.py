"""Benchmark: rendering the backtest reports of one long run (HTML tear sheet, PDF, XLSX).

    .venv/bin/python bench/tearsheet.py                 # one year of 1m bars (525,600), ~1 min
    .venv/bin/python bench/tearsheet.py --bars 100000

One SMA(50)/SMA(200) crossover run and its buy-and-hold benchmark on random-walk
1m candles; times the HTML tear sheet (charts thinned to ``CHART_POINTS``), the
PDF printed from it by headless Chromium and the XLSX workbook, best of
``--rounds``. Last lines are ``RESULT`` lines.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def candles(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.0008, n)))
    o = np.r_[c[0], c[:-1]]
    h = np.maximum(o, c) * (1 + rng.uniform(0, 0.0005, n))
    lo = np.minimum(o, c) * (1 - rng.uniform(0, 0.0005, n))
    idx = pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC", name="time")
    return pd.DataFrame({"open": o, "high": h, "low": lo, "close": c, "volume": rng.uniform(1, 9, n)}, index=idx)


def best(fn, rounds: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bars", type=int, default=525_600)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()

    from app.backtest.config import BacktestConfig
    from app.backtest.reports import to_xlsx
    from app.backtest.runner import buy_and_hold, run_strategy
    from app.backtest.strategies import get_strategy
    from app.figures.pdf import html_to_pdf
    from app.figures.tearsheet import tear_sheet_html

    data = candles(args.bars)
    config = BacktestConfig()
    result = run_strategy(data, get_strategy("ma_cross", fast=50, slow=200), config)
    bench = buy_and_hold(data, config)
    print(f"{args.bars:,} bars, {len(result.trades):,} trades")
    html_s, page = best(lambda: tear_sheet_html(result, bench), args.rounds)
    pdf_s, pdf = best(lambda: html_to_pdf(page, args.chromium), args.rounds)
    xlsx_s, book = best(lambda: to_xlsx(result, bench), args.rounds)
    print(f"RESULT tearsheet_html_s {html_s:.2f} s")
    print(f"RESULT tearsheet_html_mb {len(page.encode()) / 1e6:.2f} MB")
    print(f"RESULT tearsheet_pdf_s {pdf_s:.2f} s")
    print(f"RESULT tearsheet_pdf_kb {len(pdf) / 1e3:.0f} kB")
    print(f"RESULT report_xlsx_s {xlsx_s:.2f} s")


if __name__ == "__main__":
    main()
