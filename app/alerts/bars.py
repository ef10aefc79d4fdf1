"""The inputs of one (symbol, timeframe) for rule evaluation: closed bars only, as numpy arrays.

Every array is aligned with ``times`` (bar open times, UTC) and holds at index t only what was
known at the close of bar t: indicators and events are causal (``app.analysis``), scores and
p(up) are the stored values *for* bar t (NaN where none was stored). ``closed_only`` drops the bar
still forming, so nothing is evaluated on a bar before it has closed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from app.marketdata import timeframe_delta


@dataclass
class Bars:
    symbol: str
    timeframe: str
    times: pd.DatetimeIndex
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    indicators: dict[str, np.ndarray] = field(default_factory=dict)
    events: dict[str, np.ndarray] = field(default_factory=dict)  # event name -> direction per bar (0 = none)
    scores: dict[str, np.ndarray] = field(default_factory=dict)  # 'fused' or timeframe -> score per bar
    labels: dict[str, np.ndarray] = field(default_factory=dict)  # same keys -> label per bar (object array)
    p_up: np.ndarray | None = None  # champion p(up) per bar, NaN where none

    def __len__(self) -> int:
        return len(self.times)

    def close_time(self, i: int) -> pd.Timestamp:
        """When bar ``i`` closed (its open time plus the timeframe)."""
        return self.times[i] + timeframe_delta(self.timeframe)

    def series(self, name: str) -> np.ndarray:
        if name in ("open", "high", "low", "close", "volume"):
            return getattr(self, name)
        return self.indicators[name]


def closed_only(candles: pd.DataFrame, timeframe: str, now: datetime) -> pd.DataFrame:
    """The bars of ``candles`` that have closed by ``now`` (open time + timeframe <= now)."""
    if len(candles) == 0:
        return candles
    cutoff = pd.Timestamp(now) - timeframe_delta(timeframe)
    return candles[candles.index <= cutoff]


def from_candles(symbol: str, timeframe: str, candles: pd.DataFrame, *, with_indicators: bool = True) -> Bars:
    """Bars from a canonical candle frame (closed bars), with the indicator and event arrays."""
    arrays = tuple(candles[c].to_numpy(dtype="float64") for c in ("open", "high", "low", "close", "volume"))
    bars = Bars(symbol, timeframe, candles.index, *arrays)
    if with_indicators and len(candles):
        from app.analysis.indicators import indicator_arrays
        from app.analysis.patterns import event_matrix

        bars.indicators = indicator_arrays(candles, timeframe, arrays, validate=False)
        bars.events = {name: np.asarray(direction) for name, (direction, _s) in event_matrix(arrays, bars.indicators).items()}
    return bars


def aligned(times: pd.DatetimeIndex, at, values, dtype: str = "float64") -> np.ndarray:
    """``values`` (indexed by the bar times ``at``) placed on ``times``: NaN/None where a bar has none."""
    s = pd.Series(list(values), index=pd.DatetimeIndex(at), dtype=dtype if dtype != "object" else object)
    s = s[~s.index.duplicated(keep="last")]
    return s.reindex(times).to_numpy(dtype=dtype if dtype != "object" else object)
