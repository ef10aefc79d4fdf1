"""Benchmark: one paper-trading step (the engine's run over every traded bar, then the fills).

Run from the repo root: ``.venv/bin/python bench/paper_step.py``. A step re-runs the backtest engine
from the strategy's warm-up start to the latest closed bar (``app.portfolio.paper``), so its cost
grows with the bars traded so far; this prints the mean of 20 steps for 1k, 10k and 100k traded bars
(ma_cross 10/30 with a 2 % stop on random 1h candles).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.backtest.config import BacktestConfig  # noqa: E402
from app.portfolio import paper  # noqa: E402
from tests.unit.backtest.backtest_candles import random_candles  # noqa: E402


def main() -> None:
    for n in (1_000, 10_000, 100_000):
        bars = random_candles(n=paper.WARMUP_BARS + n, seed=1)
        spec = paper.make_spec(exchange="demo", symbol="BTC/USDT", timeframe="1h", strategy="ma_cross",
                               params={"fast": 10, "slow": 30}, config=BacktestConfig(stop_loss=0.02),
                               start_at=bars.index[paper.WARMUP_BARS])
        paper.fills(paper.run(spec, bars))       # compile / load the kernels first
        rounds = 20
        start = time.perf_counter()
        for _ in range(rounds):
            fills = paper.fills(paper.run(spec, bars))
        ms = 1000 * (time.perf_counter() - start) / rounds
        print(f"{n:>7} traded bars: {ms:7.1f} ms per step (run + fills), {len(fills)} fills")


if __name__ == "__main__":
    main()
