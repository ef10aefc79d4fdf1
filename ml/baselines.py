"""Naive baselines the LSTM must beat, and the metrics all of them are judged by.

* ``base_rate``: always the training share of up bars (its accuracy is the
  majority class's);
* ``persistence``: P(up | last bar up) or P(up | last bar down), both
  estimated on the training samples.
"""
from __future__ import annotations

import numpy as np

from ml.windows import Samples

EPS = 1e-7


def metrics(y: np.ndarray, p: np.ndarray) -> dict:
    """accuracy (p > 0.5 means "up"), log loss, Brier score, sample count and up share."""
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    if len(y) == 0 or len(y) != len(p):
        raise ValueError("metrics need the same, non-zero number of labels and predictions")
    return {"n": int(len(y)),
            "accuracy": float(np.mean((p > 0.5) == (y > 0.5))),
            "log_loss": float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
            "brier": float(np.mean((p - y) ** 2)),
            "up_rate": float(np.mean(y))}


def baseline_predictions(train: Samples, test: Samples) -> dict[str, np.ndarray]:
    rate = float(np.mean(train.y))
    up = train.last_return > 0

    def share(mask):
        return float(np.mean(train.y[mask])) if mask.any() else rate

    return {"base_rate": np.full(len(test.x), rate),
            "persistence": np.where(test.last_return > 0, share(up), share(~up))}
