"""Lookback windows, the scaler fitted on training rows only, and the dataset.

A sample "at bar t" is the window of the ``lookback`` feature rows ending at t
(inclusive) and, for training, the label of bar t (did close t+1 end above
close t). Feature rows are standardised with the mean and standard deviation
of the training rows only, so nothing about later data leaks into a model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view


@dataclass(frozen=True)
class Scaler:
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, rows: np.ndarray) -> Scaler:
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or len(rows) < 2 or not np.isfinite(rows).all():
            raise ValueError("the scaler needs at least 2 finite feature rows")
        std = rows.std(axis=0)
        return cls(rows.mean(axis=0), np.where(std > 0, std, 1.0))

    def transform(self, rows: np.ndarray) -> np.ndarray:
        return ((np.asarray(rows, dtype=np.float64) - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> Scaler:
        return cls(np.asarray(data["mean"], dtype=np.float64), np.asarray(data["std"], dtype=np.float64))


def windows(rows: np.ndarray, lookback: int) -> np.ndarray:
    """(n - lookback + 1, lookback, n_features): window k holds rows k .. k+lookback-1."""
    if len(rows) < lookback:
        return np.empty((0, lookback, rows.shape[1]), dtype=rows.dtype)
    return sliding_window_view(rows, lookback, axis=0).transpose(0, 2, 1)


def first_valid(features: pd.DataFrame) -> int:
    """Position of the first row after the warm-up; every later row must be finite."""
    ok = np.isfinite(features.to_numpy()).all(axis=1)
    if not ok.any():
        raise ValueError("no complete feature rows: not enough candles for the warm-up")
    start = int(np.argmax(ok))
    if not ok[start:].all():
        bad = features.index[start + int(np.argmin(ok[start:]))]
        raise ValueError(f"feature row at {bad} is not finite (bad candle data?)")
    return start


@dataclass(frozen=True)
class Samples:
    x: np.ndarray                 # (N, lookback, n_features) float32, scaled
    times: pd.DatetimeIndex       # bar at which each window ends
    y: np.ndarray | None          # 1.0 if the next close was higher, else 0.0 (None: no labels)
    last_return: np.ndarray       # ret_1 at the window's end (for the persistence baseline)


def samples(features: pd.DataFrame, scaler: Scaler, lookback: int, label: pd.Series | None = None,
            start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> Samples:
    """Windows ending at bars in [start, end] (all complete ones by default).

    With ``label``, samples whose label is unknown (the last bar) are left out."""
    first = first_valid(features)
    valid = features.iloc[first:]
    x = windows(scaler.transform(valid.to_numpy()), lookback)
    times = valid.index[lookback - 1:]
    keep = np.ones(len(times), dtype=bool)
    if start is not None:
        keep &= times >= start
    if end is not None:
        keep &= times <= end
    y = None
    if label is not None:
        lab = label.reindex(times).to_numpy()
        keep &= np.isfinite(lab)
        y = (lab[keep] > 0).astype(np.float32)
    last = valid["ret_1"].to_numpy()[lookback - 1:]
    return Samples(x[keep], times[keep], y, last[keep])
