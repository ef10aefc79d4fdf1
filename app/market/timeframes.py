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
    """Canonical symbol ``BASE/QUOTE`` in upper case, e.g. ``BTC/USDT``."""
    if not isinstance(symbol, str):
        raise ValueError(f"symbol must be text like 'BTC/USDT', got {symbol!r}")
    parts = symbol.strip().upper().split("/")
    if len(parts) != 2 or not all(p.isalnum() and 1 <= len(p) <= 12 for p in parts):
        raise ValueError(f"invalid symbol {symbol!r}; expected BASE/QUOTE like 'BTC/USDT'")
    return "/".join(parts)


def empty_candles() -> pd.DataFrame:
    """An empty candle frame with the canonical columns and index."""
    idx = pd.DatetimeIndex([], tz="UTC", name="time")
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in OHLCV}, index=idx)
