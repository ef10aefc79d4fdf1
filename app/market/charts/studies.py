"""The values a chart draws over and under its candles, computed by ``app.analysis.indicators`` (the code
the signals use; nothing here re-implements an indicator) on closed bars only.

``split_forming(candles, timeframe, now)``  (closed bars, the forming bar or an empty frame)
``series_names(spec)``                      the study series a chart spec draws, in drawing order
``compute(closed, timeframe, spec)``        ``{series name: float array}`` aligned with ``closed``

Recursive studies (EMA, RSI, MACD, ATR) depend ever less on where the frame starts: a full figure
computes over ``CONTEXT_BARS`` bars before the first one it shows, a tick over ``context_bars(spec, ...)``
(five times the longest period), so the two agree to e^-10 of the seed's difference or better (values
drawn on the same chart are indistinguishable); SMA, Bollinger and VWAP agree exactly.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from app.analysis import indicators as ind
from app.marketdata import TIMEFRAMES

CONTEXT_BARS = 1000
SERIES = {"sma": ("sma",), "ema": ("ema",), "bb": ("bb_upper", "bb_mid", "bb_lower"), "vwap": ("vwap",),
          "volume": ("volume",), "rsi": ("rsi",), "macd": ("macd", "macd_signal", "macd_hist"), "atr": ("atr",)}


def context_bars(spec: dict, timeframe: str, last) -> int:
    """Closed bars a tick reads to compute the studies of its newest bars: five times the longest period
    (a recursive study's seed error then shrinks below e^-10 of itself) and, for VWAP on an intraday
    timeframe, every bar since the session start (00:00 UTC) of ``last``."""
    names = series_names(spec)
    if not names:
        return 0
    longest = max([spec["sma"] if "sma" in names else 0, spec["ema"] if "ema" in names else 0,
                   ind.MACD_SLOW + ind.MACD_SIGNAL if "macd" in names else 0, ind.BB_LEN if "bb_mid" in names else 0,
                   ind.RSI_LEN if "rsi" in names else 0, ind.ATR_LEN if "atr" in names else 0])
    bars = 5 * longest + 20
    if "vwap" in names and timeframe in ind.INTRADAY_TIMEFRAMES:
        ts = pd.Timestamp(last)
        bars = max(bars, int((ts - ts.floor("D")) / TIMEFRAMES[timeframe]) + 2)
    return min(bars, CONTEXT_BARS)


def split_forming(candles: pd.DataFrame, timeframe: str, now: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The closed bars and the forming one (a bar whose period has not ended at ``now``; at most the last)."""
    if len(candles) and candles.index[-1] + TIMEFRAMES[timeframe] > pd.Timestamp(now):
        return candles.iloc[:-1], candles.iloc[-1:]
    return candles, candles.iloc[:0]


def series_names(spec: dict) -> list[str]:
    """Overlays first (in ``layouts.OVERLAYS`` order), then the panes' series; the p(up) pane is a mark."""
    return [name for part in (*spec["overlays"], *spec["panes"]) for name in SERIES.get(part, ())]


def compute(closed: pd.DataFrame, timeframe: str, spec: dict) -> dict[str, np.ndarray]:
    """Each series of ``series_names(spec)`` for the closed bars ``closed`` (a canonical candle frame)."""
    names = series_names(spec)
    if not names:
        return {}
    o, h, l, c, v = ind.ohlcv_arrays(closed)
    out: dict[str, np.ndarray] = {}
    if len(c) == 0:
        return {name: np.empty(0) for name in names}
    if "sma" in names:
        out["sma"] = ind.sma(c, spec["sma"])
    if "ema" in names:
        out["ema"] = ind.ema(c, spec["ema"])
    if "bb_mid" in names:
        out["bb_lower"], out["bb_mid"], out["bb_upper"] = ind.bollinger(c)
    if "vwap" in names:
        out["vwap"] = (ind.session_vwap(h, l, c, v, closed.index.as_unit("ns").asi8)
                       if timeframe in ind.INTRADAY_TIMEFRAMES else np.full(len(c), np.nan))
    if "volume" in names:
        out["volume"] = v
    if "rsi" in names:
        out["rsi"] = ind.rsi(c)
    if "macd" in names:
        out["macd"], out["macd_signal"], out["macd_hist"] = ind.macd(c)
    if "atr" in names:
        out["atr"] = ind.atr(h, l, c)
    return {name: out[name] for name in names}
