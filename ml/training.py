"""Fit the LSTM on candles up to a point in time, and predict with it.

The validation set for early stopping is the time-ordered tail of the
training samples (never shuffled into the past); the scaler sees the training
span only. ``TrainedModel.trained_until`` is the last bar whose label the
model learnt from: predictions count as out of sample only after it.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml.config import TrainConfig
from ml.features import FEATURES, build_features, next_return
from ml.model import build_lstm, keras
from ml.windows import Samples, Scaler, first_valid, samples

MIN_SAMPLES = 200
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

    def predict(self, candles: pd.DataFrame, start=None, end=None) -> pd.Series:
        """p(next close higher) for every complete window ending in [start, end]."""
        s = samples(build_features(candles), self.scaler, self.config.lookback, start=start, end=end)
        return pd.Series(self.predict_samples(s), index=s.times, name="p_up")

    def predict_samples(self, s: Samples) -> np.ndarray:
        if len(s.x) == 0:
            return np.empty(0)
        if len(s.x) <= 1024:      # compiled once, ~3 ms; Model.predict costs ~75 ms and an eager call ~145 ms
            return np.asarray(self.model.predict_on_batch(s.x))[:, 0].astype(np.float64)
        return self.model.predict(s.x, batch_size=4096, verbose=0)[:, 0].astype(np.float64)

    def meta(self) -> dict:
        return {"config": self.config.to_dict(), "scaler": self.scaler.to_dict(), "features": list(self.features),
                "trained_from": self.trained_from.isoformat(), "trained_until": self.trained_until.isoformat(),
                "n_train": self.n_train, "n_validation": self.n_validation, "epochs_run": self.epochs_run,
                "best_val_loss": self.best_val_loss, "seconds": self.seconds}


def training_samples(candles: pd.DataFrame, config: TrainConfig) -> tuple[Samples, Scaler]:
    """Every labelled window of ``candles`` (labels known within the candles themselves)."""
    feats = build_features(candles)
    scaler = Scaler.fit(feats.iloc[first_valid(feats):].to_numpy())
    return samples(feats, scaler, config.lookback, next_return(candles)), scaler


def train(candles: pd.DataFrame, config: TrainConfig | None = None, progress: Progress | None = None
          ) -> TrainedModel:
    """Fit on ``candles`` (slice them to the training span first: nothing after it is read)."""
    config = config or TrainConfig()
    started = time.perf_counter()
    data, scaler = training_samples(candles, config)
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
    return TrainedModel(model=model, scaler=scaler, config=config, features=FEATURES,
                        trained_from=data.times[0], trained_until=data.times[-1], n_train=cut,
                        n_validation=n_val, epochs_run=len(val_loss), best_val_loss=float(np.min(val_loss)),
                        seconds=time.perf_counter() - started)
