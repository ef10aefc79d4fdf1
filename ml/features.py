"""Per-bar features for the LSTM and the label it learns.

Every feature at bar t uses candles up to and including t only (trailing
windows, ``shift`` never negative); the label is the one forward-looking
quantity and is only ever used as a training target or to score predictions
made before it was known.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from app.marketdata import check_candle_frame

FEATURES = ("ret_1", "ret_5", "ret_20", "vol_20", "range", "body", "upper_wick", "lower_wick",
            "volume_z", "rsi_14")
WARMUP = 50          # bars before every feature is defined (volume_z's window)


def build_features(candles: pd.DataFrame) -> pd.DataFrame:
    """Feature frame on the candles' index (NaN during the warm-up)."""
    check_candle_frame(candles, "candles")
    o, h, lo, c = (candles[k].astype(np.float64) for k in ("open", "high", "low", "close"))
    log_c = np.log(c)
    ret = log_c.diff()
    span = (h - lo).where(h > lo)
    log_vol = np.log1p(candles["volume"].astype(np.float64))
    vol_mean = log_vol.rolling(WARMUP).mean()
    vol_std = log_vol.rolling(WARMUP).std()
    gain = ret.clip(lower=0.0).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    loss = (-ret).clip(lower=0.0).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    rsi = gain / (gain + loss)                               # Wilder's RSI scaled to 0..1
    frame = pd.DataFrame({
        "ret_1": ret,
        "ret_5": log_c.diff(5),
        "ret_20": log_c.diff(20),
        "vol_20": ret.rolling(20).std(),
        "range": np.log(h / lo),
        "body": ((c - o) / span).fillna(0.0),                # -1..1: where the bar closed in its range
        "upper_wick": ((h - np.maximum(o, c)) / span).fillna(0.0),
        "lower_wick": ((np.minimum(o, c) - lo) / span).fillna(0.0),
        "volume_z": ((log_vol - vol_mean) / vol_std.where(vol_std > 0)).fillna(0.0),
        "rsi_14": rsi.fillna(0.5),
    }, index=candles.index)
    frame.iloc[:WARMUP] = np.nan                             # one warm-up for all features
    return frame[list(FEATURES)]


def next_return(candles: pd.DataFrame) -> pd.Series:
    """The label at bar t: log(close[t+1] / close[t]); NaN at the last bar."""
    c = candles["close"].astype(np.float64)
    return np.log(c.shift(-1) / c).rename("next_return")
