"""The market-data vocabulary every layer shares: timeframes, symbols, the candle frame, the ticker.

A candle DataFrame everywhere in Candlewise is indexed by a tz-aware UTC
``DatetimeIndex`` named ``time`` holding each bar's *open* time, with float
columns ``open high low close volume``.

This module is part of the base layer (it imports only pandas and numpy), so
the hot-state stores, the models and every domain package can use it.

A frame is checked once, where it enters the system (an exchange answer, a
file, a database read), and then travels as :class:`CheckedCandles`: a
DataFrame subclass whose only producer is :func:`checked`, and whose
operations return plain DataFrames, so "checked" never outlives the exact
object that passed the checks. Consumers call :func:`is_checked` and skip
their own shape, order and finiteness checks for such frames. Do not mutate a
checked frame in place.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
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


class CheckedCandles(pd.DataFrame):
    """A canonical candle frame that passed :func:`checked` (see the module docstring)."""

    _metadata = ["timeframe"]

    @property
    def _constructor(self):  # any derived frame is a plain DataFrame again: it has not been checked
        return pd.DataFrame


def is_checked(df) -> bool:
    return isinstance(df, CheckedCandles)


def checked(df: pd.DataFrame, what: str = "candles", timeframe: str | None = None) -> CheckedCandles:
    """``df`` as :class:`CheckedCandles` after one vectorised pass, else ``ValueError`` naming the problem.

    Canonical means: the OHLCV columns as float64 (other columns dropped), a
    tz-aware UTC ``DatetimeIndex`` named ``time`` in microseconds (the
    database's precision), strictly increasing, every value finite, prices
    positive and volumes not negative. A frame
    that is already checked is returned as it is.
    """
    if is_checked(df):
        return df
    check_candle_frame(df, what, strict_utc=False)
    idx = df.index
    if idx.hasnans:
        raise ValueError(f"{what} has missing (NaT) bar times")
    if not (idx.is_monotonic_increasing and idx.is_unique):
        raise ValueError(f"{what} times must be strictly increasing (sorted, no duplicates)")
    try:
        values = df[OHLCV].to_numpy(dtype="float64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} has non-numeric OHLCV values: {exc}") from None
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"{what} has {int(bad.sum())} missing or infinite value(s), "
                         f"first {OHLCV[col]} at {idx[row].isoformat()}")
    bad = np.zeros_like(values, dtype=bool)
    bad[:, :4] = values[:, :4] <= 0
    bad[:, 4] = values[:, 4] < 0
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"{what} has {int(bad.sum())} non-positive price(s) or negative volume(s), "
                         f"first {OHLCV[col]} = {values[row, col]:g} at {idx[row].isoformat()}")
    if str(idx.tz) != "UTC" or idx.unit != "us" or idx.name != "time":
        ns = idx.tz_convert("UTC").as_unit("ns").asi8
        if (ns % 1000).any():
            raise ValueError(f"{what} has sub-microsecond bar times; the database stores microseconds")
        idx = pd.DatetimeIndex((ns // 1000).astype("datetime64[us]"), tz="UTC", name="time")
    out = CheckedCandles(values, index=idx, columns=list(OHLCV))
    out.timeframe = timeframe
    return out


def candles_from_arrays(times_us: np.ndarray, values: np.ndarray, timeframe: str | None = None) -> CheckedCandles:
    """A checked frame from arrays already known canonical (a database or cache read): no checks run."""
    idx = pd.DatetimeIndex(np.asarray(times_us, dtype="int64").astype("datetime64[us]"), tz="UTC", name="time")
    out = CheckedCandles(np.asarray(values, dtype="float64").reshape(len(idx), len(OHLCV)), index=idx,
                         columns=list(OHLCV))
    out.timeframe = timeframe
    return out


@dataclass(frozen=True)
class Ticker:
    """Latest price, 24 h change (%) and 24 h base volume of one symbol."""

    symbol: str
    price: float
    change_24h_pct: float
    volume_24h: float
    time: datetime


def require_utc(value: datetime, what: str) -> pd.Timestamp:
    """A tz-aware datetime as a UTC Timestamp; naive datetimes are refused (ambiguous)."""
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return pd.Timestamp(value).tz_convert("UTC")
