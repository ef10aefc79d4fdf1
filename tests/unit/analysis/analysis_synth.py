"""Synthetic candle frames for the analysis tests (imported as `analysis_synth`)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from app.marketdata import TIMEFRAMES, pandas_freq


def _freq(freq: str) -> str:
    return pandas_freq(freq) if freq in TIMEFRAMES else freq


def random_walk(n: int, freq: str = "1h", seed: int = 0, start: str = "2024-01-01 05:00") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0.0, 0.002, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.004, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.004, n)))
    volume = rng.lognormal(3.0, 0.6, n)
    idx = pd.date_range(start, periods=n, freq=_freq(freq), tz="UTC", name="time")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx)


def from_rows(rows, freq: str = "1h", volume=None, start: str = "2024-01-01") -> pd.DataFrame:
    """Candles from (open, high, low, close) tuples."""
    a = np.asarray(rows, dtype=float)
    idx = pd.date_range(start, periods=len(a), freq=_freq(freq), tz="UTC", name="time")
    vol = np.full(len(a), 100.0) if volume is None else np.asarray(volume, dtype=float)
    return pd.DataFrame({"open": a[:, 0], "high": a[:, 1], "low": a[:, 2], "close": a[:, 3],
                         "volume": vol}, index=idx)


def from_closes(closes, freq: str = "1h", spread: float = 0.002, volume=None) -> pd.DataFrame:
    """Candles whose open is the previous close, with a small high/low wick."""
    c = np.asarray(closes, dtype=float)
    o = np.r_[c[0], c[:-1]]
    rows = np.c_[o, np.maximum(o, c) * (1 + spread), np.minimum(o, c) * (1 - spread), c]
    return from_rows(rows, freq=freq, volume=volume)



DEMO_END = __import__("datetime").datetime(2026, 1, 10, 12, 0, tzinfo=__import__("datetime").timezone.utc)


def demo_frames() -> dict:
    """Five days of seeded demo 1m candles for BTC/USDT and every coarser timeframe resampled from them."""
    from app.market.resample import resample_many
    from app.market.sources.demo import generate_demo_candles

    one = generate_demo_candles(["BTC/USDT"], end=DEMO_END, days=5, seed=3)["BTC/USDT"]
    return {"1m": one, **resample_many(one, "1m", ("5m", "15m", "1h", "4h", "1d"))}


def demo_snapshot(frames: dict) -> dict:
    """The snapshot an analysis run would store for ``demo_frames()``."""
    from app.analysis.scoring import analyze_frames
    from app.analysis.snapshot import build_snapshot, event_records

    signals, fused, events = analyze_frames(frames, "BTC/USDT")
    return build_snapshot("demo", signals, fused, {tf: event_records(events[tf], frames[tf].index) for tf in signals},
                          computed_at=DEMO_END)
