"""Predictions from a trained model that are honest to show and to trade.

* ``assess(trained, candles, version)``: the latest bar's calibrated p(up),
  the network's raw output, the spread across the version's fold models (how
  sure the model is; ``None`` without members), and — when the input window is
  out of the training distribution (``ml.ood``) — ``p_up = None`` with the
  reason. Pages should show ``reason`` instead of a number then.
* ``latest(...)``: the same, for callers that store a number: it raises
  ``PredictionWithheld`` (a ``ValueError``) instead of returning ``None``.
* ``out_of_sample(trained, candles)``: calibrated p(up) only on bars after the
  model's last training label and inside the training distribution, so a
  backtest of the LSTM strategy never trades on bars the model learnt from or
  on inputs it has never seen; other bars are NaN (the strategy stays flat).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.features import WARMUP, build_features
from ml.training import TrainedModel
from ml.windows import samples

TAIL_BARS = 200              # extra history beyond the warm-up and one window


@dataclass(frozen=True)
class Prediction:
    time: pd.Timestamp        # the bar the prediction was made at (its close)
    p_up: float | None        # calibrated probability the next bar closes higher; None when withheld
    version: int | None
    p_raw: float | None = None         # the network's uncalibrated output
    spread: float | None = None        # std of calibrated p(up) across the final and the fold models
    members: int = 0                   # fold models the spread was taken over (besides the final one)
    reason: str | None = None          # why p_up is None

    def to_dict(self) -> dict:
        return {"time": self.time.isoformat(), "p_up": self.p_up, "version": self.version, "p_raw": self.p_raw,
                "spread": self.spread, "members": self.members, "reason": self.reason}


class PredictionWithheld(ValueError):
    def __init__(self, prediction: Prediction):
        self.prediction = prediction
        super().__init__(prediction.reason)


def out_of_sample(trained: TrainedModel, candles: pd.DataFrame) -> pd.Series:
    """p(up) on the candles' index; NaN up to and including ``trained_until`` and where out of distribution."""
    frame = trained.predict_frame(candles, start=trained.trained_until + pd.Timedelta(1, "ns"))
    series = frame["p_up"].where(~frame["ood"]).rename("p_up")
    return series.reindex(candles.index)


def assess(trained: TrainedModel, candles: pd.DataFrame, version: int | None = None) -> Prediction:
    """The prediction at the last candle (the window ending there); see the module docstring."""
    lookback = trained.config.lookback
    tail = candles.iloc[-(lookback + WARMUP + TAIL_BARS):]          # features' warm-up plus one window
    feats = build_features(tail)
    end = candles.index[-1]
    s = samples(feats, trained.scaler, lookback, start=end)
    if len(s.x) == 0:
        raise ValueError("not enough candles for a prediction")
    p_raw = float(trained.predict_samples(s, calibrated=False)[-1])
    p_up = float(trained.calibrate([p_raw])[0])
    if not np.isfinite(p_up):
        raise ValueError("not enough candles for a prediction")
    ensemble = [p_up]
    for m in trained.members:
        ms = samples(feats, m.scaler, m.config.lookback, start=end)
        ensemble.append(float(m.predict_samples(ms)[-1]))
    spread = float(np.std(ensemble)) if len(ensemble) > 1 else None
    reason = None
    if trained.feature_range is not None:
        reason = trained.feature_range.reason(s.x[-1], times=feats.index[-lookback:])
    return Prediction(s.times[-1], None if reason else p_up, version, p_raw, spread, len(trained.members), reason)


def latest(trained: TrainedModel, candles: pd.DataFrame, version: int | None = None) -> Prediction:
    """Like ``assess``, but a withheld prediction raises ``PredictionWithheld``."""
    pred = assess(trained, candles, version)
    if pred.p_up is None:
        raise PredictionWithheld(pred)
    return pred
