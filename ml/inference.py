"""Predictions from a trained model that are honest to show and to trade.

``out_of_sample`` keeps only bars after the model's last training label, so a
backtest of the LSTM strategy never trades on bars the model learnt from;
earlier bars are NaN (the strategy stays flat there).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.training import TrainedModel


@dataclass(frozen=True)
class Prediction:
    time: pd.Timestamp        # the bar the prediction was made at (its close)
    p_up: float               # probability the next bar closes higher
    version: int | None


def out_of_sample(trained: TrainedModel, candles: pd.DataFrame) -> pd.Series:
    """p(up) on the candles' index; NaN up to and including ``trained_until``."""
    series = trained.predict(candles, start=trained.trained_until + pd.Timedelta(1, "ns"))
    return series.reindex(candles.index)


def latest(trained: TrainedModel, candles: pd.DataFrame, version: int | None = None) -> Prediction:
    """The prediction at the last candle (the window ending there)."""
    lookback = trained.config.lookback
    tail = candles.iloc[-(lookback + 200):]          # features' warm-up plus one window
    series = trained.predict(tail, start=candles.index[-1])
    if series.empty or not np.isfinite(series.iloc[-1]):
        raise ValueError("not enough candles for a prediction")
    return Prediction(series.index[-1], float(series.iloc[-1]), version)
