"""Metrics by hand and the naive baselines."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml.baselines import baseline_predictions
from ml.metrics import classification_metrics as metrics
from ml.windows import Samples


def test_metrics_by_hand():
    y = np.array([1, 0, 1, 1])
    p = np.array([0.9, 0.2, 0.4, 0.6])
    m = metrics(y, p)
    assert m["accuracy"] == 0.75 and m["n"] == 4 and m["up_rate"] == 0.75
    assert m["log_loss"] == pytest.approx(-(math.log(0.9) + math.log(0.8) + math.log(0.4) + math.log(0.6)) / 4)
    assert m["brier"] == pytest.approx((0.01 + 0.04 + 0.36 + 0.16) / 4)
    with pytest.raises(ValueError):
        metrics(np.array([]), np.array([]))


def _samples(y, last):
    n = len(y)
    return Samples(np.zeros((n, 2, 1), np.float32), pd.date_range("2024", periods=n, freq="h", tz="UTC"),
                   np.asarray(y, np.float32), np.asarray(last, float))


def test_baselines_are_estimated_on_the_training_samples():
    train = _samples([1, 1, 0, 1, 0, 0], [0.1, 0.2, 0.3, -0.1, -0.2, -0.3])
    test = _samples([1, 0], [0.5, -0.5])
    b = baseline_predictions(train, test)
    np.testing.assert_allclose(b["base_rate"], [0.5, 0.5])
    np.testing.assert_allclose(b["persistence"], [2 / 3, 1 / 3])   # P(up | last up), P(up | last down)


def test_logistic_baseline_learns_from_the_last_bar_of_the_training_windows():
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=(n, 3, 2)).astype(np.float32)
    y = (x[:, -1, 0] > 0).astype(np.float32)                    # the label is the sign of the last bar's feature 0
    train = Samples(x[:300], pd.date_range("2024", periods=300, freq="h", tz="UTC"), y[:300], np.zeros(300))
    test = Samples(x[300:], pd.date_range("2025", periods=100, freq="h", tz="UTC"), y[300:], np.zeros(100))
    p = baseline_predictions(train, test)["logistic"]
    assert p.shape == (100,) and ((p > 0.5) == (y[300:] > 0.5)).mean() > 0.9
    shuffled = Samples(x[:300, ::-1], train.times, y[:300], np.zeros(300))   # only the last bar is read
    q = baseline_predictions(shuffled, test)["logistic"]
    assert ((q > 0.5) == (y[300:] > 0.5)).mean() < 0.75
