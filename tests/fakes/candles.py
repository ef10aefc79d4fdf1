"""Synthetic candles and an instant clock for tests (shared by unit and integration tests)."""
from __future__ import annotations

import numpy as np
import pandas as pd

OHLCV = ["open", "high", "low", "close", "volume"]


def make_candles(n: int, start: str = "2024-01-01T00:00:00Z", freq_s: int = 60, seed: int = 1,
                 price: float = 100.0) -> pd.DataFrame:
    """``n`` valid canonical bars of ``freq_s`` seconds from ``start`` (a seeded random walk)."""
    rng = np.random.default_rng(seed)
    closes = price * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    opens = np.concatenate(([price], closes[:-1]))
    spread = np.abs(rng.normal(0, 0.0005, n)) * closes
    highs = np.maximum(opens, closes) + spread
    lows = np.minimum(opens, closes) - spread
    vol = rng.uniform(1, 10, n).round(6)
    idx = pd.date_range(pd.Timestamp(start), periods=n, freq=pd.Timedelta(seconds=freq_s), name="time")
    return pd.DataFrame({"open": opens, "high": highs, "low": lows, "close": closes, "volume": vol},
                        index=idx)[OHLCV]


class FakeClock:
    """Monotonic clock + sleep that advance instantly and record every sleep."""

    def __init__(self, start: float = 1000.0):
        self.t = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


N_BARS = 2500  # 1m bars: > 2 Binance pages, > 8 Coinbase windows, > 720 Kraken rows
SERIES = make_candles(N_BARS)
