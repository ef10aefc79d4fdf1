"""Build coarser candles from finer ones (1m -> 5m/15m/1h/4h/1d, 1h -> 4h, ...).

Aggregation: first open, max high, min low, last close, summed volume.
Bars are aligned to UTC epoch boundaries (4h bars open at 00, 04, 08 ... UTC;
daily bars at 00:00 UTC).

Completeness rule: a target bar is emitted ONLY when every constituent source
bar is present (e.g. all 60 one-minute bars of an hour). A trailing bar that is
still forming, or any bar with a hole in it, is left out, so the output holds
closed, complete bars only. Pass ``include_incomplete=True`` to also get bars
built from whatever constituents exist (e.g. to chart a forming bar); the
default is what ingestion stores.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from app.marketdata import OHLCV, check_candle_frame, empty_candles, timeframe_seconds

NS = 10**9


def _check_frame(df: pd.DataFrame) -> None:
    check_candle_frame(df, "candle frame", strict_utc=False)
    if df.index.has_duplicates:
        raise ValueError("candle frame has duplicate open times; validate it first (validate_candles)")


def resample_candles(df: pd.DataFrame, source_timeframe: str, target_timeframe: str,
                     *, include_incomplete: bool = False) -> pd.DataFrame:
    """Aggregate ``df`` (bars of ``source_timeframe``) into ``target_timeframe`` bars."""
    _check_frame(df)
    src = timeframe_seconds(source_timeframe)
    dst = timeframe_seconds(target_timeframe)
    if dst < src or dst % src:
        raise ValueError(
            f"cannot build {target_timeframe} bars from {source_timeframe}: "
            f"the target must be a whole multiple of the source")
    if df.empty:
        return empty_candles()
    df = df.sort_index() if not df.index.is_monotonic_increasing else df
    ns = df.index.tz_convert("UTC").as_unit("ns").asi8
    if np.any(ns % (src * NS)):
        bad = df.index[(ns % (src * NS)) != 0][0]
        raise ValueError(f"bar at {bad.isoformat()} is not aligned to {source_timeframe}")
    if dst == src:
        out = df[OHLCV].astype("float64").copy()
        out.index = out.index.tz_convert("UTC").rename("time")
        return out

    keys = (ns // (dst * NS)) * (dst * NS)
    g = df[OHLCV].astype("float64").groupby(keys, sort=True)
    out = pd.DataFrame({
        "open": g["open"].first(),
        "high": g["high"].max(),
        "low": g["low"].min(),
        "close": g["close"].last(),
        "volume": g["volume"].sum(),
    })
    if not include_incomplete:
        out = out[g.size().to_numpy() == dst // src]
    out.index = pd.DatetimeIndex(pd.to_datetime(out.index.to_numpy(), unit="ns", utc=True), name="time")
    return out


def resample_many(df: pd.DataFrame, source_timeframe: str, targets: list[str] | tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """``{tf: resample_candles(df, source_timeframe, tf)}`` for every target tf."""
    return {tf: resample_candles(df, source_timeframe, tf) for tf in targets}
