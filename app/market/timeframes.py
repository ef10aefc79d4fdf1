"""Timeframes and symbols: our canonical names and their durations.

A candle DataFrame everywhere in Candlewise is indexed by a tz-aware UTC
``DatetimeIndex`` named ``time`` holding each bar's *open* time, with float
columns ``open high low close volume``.
"""
from __future__ import annotations

from datetime import timedelta

import pandas as pd

TIMEFRAMES: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
}
OHLCV = ["open", "high", "low", "close", "volume"]


def timeframe_delta(timeframe: str) -> timedelta:
    """Duration of one bar; ``ValueError`` with the valid names otherwise."""
    try:
        return TIMEFRAMES[timeframe]
    except KeyError:
        raise ValueError(
            f"unknown timeframe {timeframe!r}; expected one of {', '.join(TIMEFRAMES)}"
        ) from None


def timeframe_seconds(timeframe: str) -> int:
    return int(timeframe_delta(timeframe).total_seconds())


def pandas_freq(timeframe: str) -> str:
    """The pandas offset alias for a timeframe (``'15min'``, ``'4h'``, ``'1D'``)."""
    seconds = timeframe_seconds(timeframe)
    if seconds % 86400 == 0:
        return f"{seconds // 86400}D"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}min"


def validate_symbol(symbol: str) -> str:
    """Canonical symbol ``BASE/QUOTE`` in upper case, e.g. ``BTC/USDT``; ASCII letters and digits only."""
    if not isinstance(symbol, str):
        raise ValueError(f"symbol must be text like 'BTC/USDT', got {symbol!r}")
    if not symbol.isascii():
        raise ValueError(f"invalid symbol {symbol!r}: only ASCII letters and digits are allowed "
                         f"(look-alike letters such as Cyrillic or full-width ones are refused)")
    parts = symbol.strip().upper().split("/")
    if len(parts) != 2 or not all(p.isalnum() and 1 <= len(p) <= 12 for p in parts):
        raise ValueError(f"invalid symbol {symbol!r}; expected BASE/QUOTE like 'BTC/USDT' (ASCII letters and digits)")
    return "/".join(parts)


def empty_candles() -> pd.DataFrame:
    """An empty candle frame with the canonical columns and index."""
    idx = pd.DatetimeIndex([], tz="UTC", name="time")
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in OHLCV}, index=idx)


def check_candle_frame(df: pd.DataFrame, what: str = "candles", *, strict_utc: bool = True,
                       ordered: bool = False) -> pd.DataFrame:
    """Return ``df`` if it has the canonical shape (OHLCV columns, tz-aware time index), else ``ValueError``.

    ``strict_utc`` refuses other time zones; ``ordered`` requires strictly increasing times.
    Row-level checks (OHLC relations, NaN, alignment) belong to ``app.market.validate``.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in OHLCV if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {', '.join(missing)}; a candle frame has {' '.join(OHLCV)}")
    idx = df.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise ValueError(f"{what} must be indexed by a tz-aware UTC DatetimeIndex of bar open times, "
                         f"got {type(idx).__name__}")
    if idx.tz is None:
        raise ValueError(f"{what} has timezone-naive times; a tz-aware UTC DatetimeIndex is required")
    if strict_utc and str(idx.tz) != "UTC":
        raise ValueError(f"{what} times are in {idx.tz}, not UTC (a tz-aware UTC DatetimeIndex is required)")
    if ordered and not (idx.is_monotonic_increasing and idx.is_unique):
        raise ValueError(f"{what} times must be strictly increasing (sorted, no duplicates)")
    return df
