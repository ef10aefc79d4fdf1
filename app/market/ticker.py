"""The 24-hour ticker computed from 1-minute candles (pure; no look-ahead)."""
from __future__ import annotations

import pandas as pd

from app.marketdata import Ticker, check_candle_frame, validate_symbol


def ticker_from_candles(symbol: str, df_1m: pd.DataFrame) -> Ticker:
    """Ticker from 1m candles: last close, % change over 24 h, 24 h base volume.

    The 24 h window is the 1440 minutes ending at the last bar's close
    (``time`` = that close time). The reference price is the close of the
    latest bar that ended at or before the window start; when the frame is
    shorter than a day it is the first bar's open. Pure; no look-ahead.
    """
    symbol = validate_symbol(symbol)
    if df_1m is None or len(df_1m) == 0:
        raise ValueError(f"no candles to build a {symbol} ticker from")
    _check_frame(df_1m)
    index = df_1m.index
    close_time = index[-1] + pd.Timedelta(minutes=1)
    window_start = close_time - pd.Timedelta(days=1)
    price = float(df_1m["close"].iloc[-1])
    before = index <= window_start - pd.Timedelta(minutes=1)
    ref = float(df_1m["close"][before].iloc[-1]) if before.any() else float(df_1m["open"].iloc[0])
    volume = float(df_1m["volume"][index >= window_start].sum())
    change = (price / ref - 1.0) * 100.0 if ref else 0.0
    return Ticker(symbol=symbol, price=price, change_24h_pct=change, volume_24h=volume,
                  time=close_time.to_pydatetime())


def _check_frame(df: pd.DataFrame) -> None:
    check_candle_frame(df, "candle frame", strict_utc=False)
    if not df.index.is_monotonic_increasing or df.index.has_duplicates:
        raise ValueError("candle frame index must be strictly increasing")
