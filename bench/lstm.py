"""Benchmark: the LSTM's out-of-sample accuracy against naive baselines.

Run from the repo root:  .venv/bin/python bench/lstm.py   (~2-4 min on 2 cores)

Expanding-window walk-forward (``ml.evaluate.walk_forward``, 3 folds, default
``TrainConfig``) on the offline demo data set (synthetic, generated with a
fixed seed and end date, so every run sees the same candles), for BTC/USDT 1h
and 15m, and on a synthetic series with a learnable three-bar pattern as a
sanity check that the pipeline can learn when there is something to learn.
Every number is out of sample: for each fold the model and the baselines are
fitted on the bars before the test span only. The baselines are the training
share of up bars (base rate) and P(up | direction of the last bar)
(persistence); a model that does not beat them has no edge worth showing.
Also prints the seconds for the whole evaluation and for one prediction.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.market.resample import resample_candles  # noqa: E402
from app.market.sources.demo import generate_demo_candles  # noqa: E402
from ml.config import TrainConfig  # noqa: E402
from ml.evaluate import walk_forward  # noqa: E402
from ml.inference import latest  # noqa: E402
from ml.training import train  # noqa: E402

END = pd.Timestamp("2026-06-01", tz="UTC")


def pattern(n: int = 3000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    signs = np.tile([1.0, 1.0, -1.0], n // 3 + 1)[:n]
    close = 100.0 * np.exp(np.cumsum(signs * rng.uniform(0.002, 0.01, n)))
    open_ = np.r_[100.0, close[:-1]]
    idx = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC", name="time")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.002,
                         "low": np.minimum(open_, close) * 0.998, "close": close,
                         "volume": rng.uniform(10, 100, n)}, index=idx)


def report(name: str, candles: pd.DataFrame, config: TrainConfig) -> dict:
    t = time.perf_counter()
    wf = walk_forward(candles, config, folds=3)
    seconds = time.perf_counter() - t
    s = wf.summary
    print(f"\n{name}: {len(candles)} bars, {s['lstm']['n']} out-of-sample predictions, {seconds:.1f} s")
    print(f"  {'model':12s} {'accuracy':>9s} {'log loss':>9s} {'brier':>8s}")
    for model, m in s.items():
        print(f"  {model:12s} {m['accuracy']:9.4f} {m['log_loss']:9.5f} {m['brier']:8.5f}")
    print(f"  beats both baselines on log loss: {wf.beats_baselines()}; up share {s['lstm']['up_rate']:.4f}")
    return {"summary": s, "seconds": seconds, "beats": wf.beats_baselines()}


def main() -> None:
    config = TrainConfig()
    minutes = generate_demo_candles(["BTC/USDT"], end=END, days=180, seed=7)["BTC/USDT"]
    hourly = resample_candles(minutes, "1m", "1h")
    quarter = resample_candles(minutes.iloc[-60 * 24 * 60:], "1m", "15m")
    results = {"demo_1h": report("demo BTC/USDT 1h (180 days)", hourly, config),
               "demo_15m": report("demo BTC/USDT 15m (60 days)", quarter, config),
               "pattern": report("learnable three-bar pattern (sanity check)", pattern(), config)}
    model = train(hourly, config)
    latest(model, hourly)
    t = time.perf_counter()
    for _ in range(10):
        latest(model, hourly)
    predict_ms = (time.perf_counter() - t) / 10 * 1e3
    print(f"\nlatest-bar prediction: {predict_ms:.1f} ms; final 1h model trained in {model.seconds:.1f} s "
          f"({model.epochs_run} epochs)")
    for key in ("demo_1h", "demo_15m", "pattern"):
        s = results[key]["summary"]
        print(f"RESULT lstm_oos_accuracy_{key} {s['lstm']['accuracy']:.4f} ratio")
        print(f"RESULT base_rate_accuracy_{key} {s['base_rate']['accuracy']:.4f} ratio")
        print(f"RESULT persistence_accuracy_{key} {s['persistence']['accuracy']:.4f} ratio")
        print(f"RESULT lstm_oos_log_loss_{key} {s['lstm']['log_loss']:.5f} nats")
        print(f"RESULT base_rate_log_loss_{key} {s['base_rate']['log_loss']:.5f} nats")
        print(f"RESULT lstm_beats_baselines_{key} {int(results[key]['beats'])} bool")
    print(f"RESULT walk_forward_seconds_demo_1h {results['demo_1h']['seconds']:.1f} s")
    print(f"RESULT latest_prediction_ms {predict_ms:.1f} ms")


if __name__ == "__main__":
    main()
