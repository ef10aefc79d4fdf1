"""Baselines the LSTM must beat, each estimated on the same training samples.

Naive (the edge rule in ``ml.edge`` compares against these):

* ``base_rate``: always the training share of up bars (its accuracy is the
  majority class's);
* ``persistence``: P(up | last bar up) or P(up | last bar down), both
  estimated on the training samples.

A model anyone could build in ten lines (reported next to the LSTM, so a user
can see whether the network earns its complexity):

* ``logistic``: scikit-learn's L2 logistic regression (C=1) on the scaled
  features of the window's last bar (the same ten features the LSTM reads,
  the same training samples, the same scaler).

The metrics all of them are judged by live in ``ml.metrics``.
"""
from __future__ import annotations

import numpy as np

from ml.windows import Samples

NAIVE = ("base_rate", "persistence")
ALL = (*NAIVE, "logistic")


def baseline_predictions(train: Samples, test: Samples) -> dict[str, np.ndarray]:
    rate = float(np.mean(train.y))
    up = train.last_return > 0

    def share(mask):
        return float(np.mean(train.y[mask])) if mask.any() else rate

    return {"base_rate": np.full(len(test.x), rate),
            "persistence": np.where(test.last_return > 0, share(up), share(~up)),
            "logistic": logistic_predictions(train, test)}


def logistic_predictions(train: Samples, test: Samples) -> np.ndarray:
    """p(up) from a logistic regression on the last bar's scaled features."""
    from sklearn.linear_model import LogisticRegression

    if len(test.x) == 0:
        return np.empty(0)
    if train.y.min() == train.y.max():
        return np.full(len(test.x), float(train.y[0]))
    model = LogisticRegression(C=1.0, max_iter=1000).fit(train.x[:, -1, :], train.y)
    return model.predict_proba(test.x[:, -1, :])[:, 1].astype(np.float64)
