"""Fit the LSTM on candles up to a point in time, and predict with it.

The validation set for early stopping is the time-ordered tail of the
training samples (never shuffled into the past); the scaler and the training
feature range (``ml.ood``) see the training span only, and the calibrator
(``ml.calibration``) is fitted on the validation tail only.
``TrainedModel.trained_until`` is the last bar whose label the model learnt
from: predictions count as out of sample only after it.

``predict`` returns calibrated probabilities; ``predict_frame`` adds the raw
network output and the out-of-distribution flag of each window.
``members`` holds the walk-forward fold models stored with a version; their
spread is the uncertainty that inference reports (``ml.inference``).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml.calibration import Calibrator, fit_calibrator
from ml.config import TrainConfig
from ml.features import FEATURES, build_features, next_return
from ml.model import build_lstm, keras
from ml.ood import FeatureRange
from ml.windows import Samples, Scaler, first_valid, samples

MIN_SAMPLES = 200
SPREAD_METHOD = ("population standard deviation of calibrated p(up) across the walk-forward fold models "
                 "trained before the bar (at inference: the final model and the version's fold models)")
Progress = Callable[[float, str], None]


@dataclass
class TrainedModel:
    model: Any                       # keras.Model
    scaler: Scaler
    config: TrainConfig
    features: tuple[str, ...]
    trained_from: pd.Timestamp       # first and last bar whose label was learnt
    trained_until: pd.Timestamp
    n_train: int
    n_validation: int
    epochs_run: int
    best_val_loss: float
    seconds: float
    calibrator: Calibrator | None = None          # None: a version stored before calibration (raw outputs)
    feature_range: FeatureRange | None = None     # None: no out-of-distribution check (older versions)
    members: tuple[TrainedModel, ...] = ()        # walk-forward fold models, for the spread

    def predict(self, candles: pd.DataFrame, start=None, end=None) -> pd.Series:
        """Calibrated p(next close higher) for every complete window ending in [start, end]."""
        s = samples(build_features(candles), self.scaler, self.config.lookback, start=start, end=end)
        return pd.Series(self.predict_samples(s), index=s.times, name="p_up")

    def predict_frame(self, candles: pd.DataFrame, start=None, end=None) -> pd.DataFrame:
        """``p_raw`` (network output), ``p_up`` (calibrated) and ``ood`` per window ending in [start, end]."""
        s = samples(build_features(candles), self.scaler, self.config.lookback, start=start, end=end)
        raw = self.predict_samples(s, calibrated=False)
        return pd.DataFrame({"p_raw": raw, "p_up": self.calibrate(raw), "ood": self.ood_flags(s)}, index=s.times)

    def predict_samples(self, s: Samples, calibrated: bool = True) -> np.ndarray:
        if len(s.x) == 0:
            return np.empty(0)
        if len(s.x) <= 1024:      # compiled once, ~3 ms; Model.predict costs ~75 ms and an eager call ~145 ms
            raw = np.asarray(self.model.predict_on_batch(s.x))[:, 0].astype(np.float64)
        else:
            raw = self.model.predict(s.x, batch_size=4096, verbose=0)[:, 0].astype(np.float64)
        return self.calibrate(raw) if calibrated else raw

    def calibrate(self, p_raw) -> np.ndarray:
        p = np.asarray(p_raw, dtype=np.float64)
        return p.copy() if self.calibrator is None else self.calibrator.apply(p)

    def ood_flags(self, s: Samples) -> np.ndarray:
        if self.feature_range is None:
            return np.zeros(len(s.x), dtype=bool)
        return self.feature_range.flags(s.x)

    def meta(self) -> dict:
        return {"config": self.config.to_dict(), "scaler": self.scaler.to_dict(), "features": list(self.features),
                "trained_from": self.trained_from.isoformat(), "trained_until": self.trained_until.isoformat(),
                "n_train": self.n_train, "n_validation": self.n_validation, "epochs_run": self.epochs_run,
                "best_val_loss": self.best_val_loss, "seconds": self.seconds,
                "calibrator": self.calibrator.to_dict() if self.calibrator else None,
                "feature_range": self.feature_range.to_dict() if self.feature_range else None}


def fit_scaling(feats: pd.DataFrame, config: TrainConfig) -> tuple[Scaler, FeatureRange]:
    """The scaler and the out-of-distribution range, both from the given (training span's) feature rows."""
    rows = feats.iloc[first_valid(feats):].to_numpy()
    scaler = Scaler.fit(rows)
    return scaler, FeatureRange.fit(scaler.transform(rows), feats.columns, config.ood_margin)


def training_samples(candles: pd.DataFrame, config: TrainConfig) -> tuple[Samples, Scaler]:
    """Every labelled window of ``candles`` (labels known within the candles themselves)."""
    feats = build_features(candles)
    scaler, _ = fit_scaling(feats, config)
    return samples(feats, scaler, config.lookback, next_return(candles)), scaler


def train(candles: pd.DataFrame, config: TrainConfig | None = None, progress: Progress | None = None
          ) -> TrainedModel:
    """Fit on ``candles`` (slice them to the training span first: nothing after it is read)."""
    config = config or TrainConfig()
    started = time.perf_counter()
    feats = build_features(candles)
    scaler, feature_range = fit_scaling(feats, config)
    data = samples(feats, scaler, config.lookback, next_return(candles))
    n = len(data.x)
    if n < MIN_SAMPLES:
        raise ValueError(f"need at least {MIN_SAMPLES} labelled windows to train, got {n} "
                         f"({len(candles)} candles, lookback {config.lookback})")
    n_val = max(1, int(round(n * config.validation_fraction)))
    cut = n - n_val
    k = keras()
    model = build_lstm(len(FEATURES), config)

    def on_epoch_end(epoch, logs):
        if progress is not None:
            progress(100.0 * (epoch + 1) / config.epochs, f"epoch {epoch + 1}: val loss {logs['val_loss']:.4f}")

    history = model.fit(
        data.x[:cut], data.y[:cut], validation_data=(data.x[cut:], data.y[cut:]),
        epochs=config.epochs, batch_size=config.batch_size, shuffle=True, verbose=0,
        callbacks=[k.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience,
                                             restore_best_weights=True),
                   k.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)])
    val_loss = history.history["val_loss"]
    trained = TrainedModel(model=model, scaler=scaler, config=config, features=FEATURES,
                           trained_from=data.times[0], trained_until=data.times[-1], n_train=cut,
                           n_validation=n_val, epochs_run=len(val_loss), best_val_loss=float(np.min(val_loss)),
                           seconds=0.0, feature_range=feature_range)
    tail = Samples(data.x[cut:], data.times[cut:], data.y[cut:], data.last_return[cut:])
    trained.calibrator = fit_calibrator(trained.predict_samples(tail, calibrated=False), tail.y,
                                        config.calibration)               # the validation tail only
    trained.seconds = time.perf_counter() - started
    return trained
