"""ml.metrics against formulas written out by hand on small arrays."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from app.analysis.quality import block_bootstrap_indices
from ml.metrics import (classification_metrics, expected_calibration_error, paired_block_ci,
                        reliability_curve)

Y = np.array([1, 0, 1, 1, 0])
P = np.array([0.9, 0.2, 0.4, 0.6, 0.7])


def auc_by_pairs(y, p):
    """Mann-Whitney: the share of (up, down) pairs where the up bar got the higher p (ties count half)."""
    pos = [pi for yi, pi in zip(y, p) if yi == 1]
    neg = [pi for yi, pi in zip(y, p) if yi == 0]
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_accuracy_log_loss_brier_and_auc_by_hand():
    m = classification_metrics(Y, P)
    assert m["n"] == 5 and m["up_rate"] == pytest.approx(0.6)
    assert m["accuracy"] == pytest.approx(3 / 5)                 # 0.9 up, 0.2 down, 0.6 up right; 0.4, 0.7 wrong
    assert m["log_loss"] == pytest.approx(-(math.log(0.9) + math.log(0.8) + math.log(0.4) + math.log(0.6)
                                            + math.log(0.3)) / 5)
    assert m["brier"] == pytest.approx((0.01 + 0.04 + 0.36 + 0.16 + 0.49) / 5)
    assert m["auc"] == pytest.approx(4 / 6) == pytest.approx(auc_by_pairs(Y, P))
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 60)
    p = np.round(rng.uniform(size=60), 1)                        # with ties
    assert classification_metrics(y, p)["auc"] == pytest.approx(auc_by_pairs(y, p))


def test_auc_is_none_with_one_class_and_log_loss_is_finite_at_certainty():
    m = classification_metrics(np.ones(3), np.array([1.0, 0.0, 0.5]))
    assert m["auc"] is None
    assert m["log_loss"] == pytest.approx((-math.log(1 - 1e-7) - math.log(1e-7) - math.log(0.5)) / 3)


def test_reliability_curve_and_ece_by_hand():
    # ten bins: every prediction alone in its bin, so ECE is the mean |y - p|
    assert expected_calibration_error(Y, P) == pytest.approx((0.1 + 0.2 + 0.6 + 0.4 + 0.7) / 5)
    curve = reliability_curve(Y, P, bins=2)
    assert [(r["lo"], r["hi"], r["n"]) for r in curve] == [(0.0, 0.5, 2), (0.5, 1.0, 3)]
    assert curve[0]["mean_p"] == pytest.approx(0.3) and curve[0]["up_share"] == pytest.approx(0.5)
    assert curve[1]["mean_p"] == pytest.approx(2.2 / 3) and curve[1]["up_share"] == pytest.approx(2 / 3)
    assert expected_calibration_error(Y, P, bins=2) == pytest.approx(2 / 5 * 0.2 + 3 / 5 * (2.2 / 3 - 2 / 3))
    assert reliability_curve([1, 0], [1.0, 0.95], bins=10)[0]["n"] == 2      # p = 1 lands in the last bin
    perfect = np.r_[np.zeros(50), np.ones(50)]
    assert expected_calibration_error(perfect, np.full(100, 0.5)) == 0.0


@pytest.mark.parametrize("y, p, match", [
    ([], [], "non-zero"), ([1, 0], [0.5], "same"), ([1, 2], [0.5, 0.5], "0 or 1"),
    ([1, 0], [0.5, 1.5], "probabilities"), ([1, 0], [0.5, np.nan], "probabilities"),
])
def test_bad_inputs_are_refused(y, p, match):
    with pytest.raises(ValueError, match=match):
        classification_metrics(np.asarray(y, float), np.asarray(p, float))


def test_block_bootstrap_resamples_contiguous_blocks_reproducibly():
    idx = block_bootstrap_indices(103, 10, 50, seed=4)
    assert idx.shape == (50, 103) and idx.min() >= 0 and idx.max() <= 102
    steps = np.diff(idx.reshape(50, -1)[:, :100].reshape(50, 10, 10), axis=2)
    assert (steps == 1).all()                                       # inside a block: consecutive bars
    np.testing.assert_array_equal(idx, block_bootstrap_indices(103, 10, 50, seed=4))
    assert not np.array_equal(idx, block_bootstrap_indices(103, 10, 50, seed=5))
    for bad in (dict(n=10, block=11, n_boot=5), dict(n=10, block=0, n_boot=5), dict(n=10, block=2.5, n_boot=5)):
        with pytest.raises(ValueError):
            block_bootstrap_indices(**bad)


def test_paired_block_interval_for_accuracy_and_log_loss_differences():
    y = np.tile([1.0, 0.0], 100)
    right, wrong = np.where(y == 1, 0.8, 0.2), np.where(y == 1, 0.2, 0.8)
    ci = paired_block_ci(y, right, wrong, "accuracy", block=10)
    assert (ci["diff"], ci["low"], ci["high"]) == (1.0, 1.0, 1.0)
    same = paired_block_ci(y, right, right, "log_loss", block=10)
    assert (same["diff"], same["low"], same["high"]) == (0.0, 0.0, 0.0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400).astype(float)
    a = np.clip(0.5 + 0.2 * (y - 0.5) + rng.normal(0, 0.2, 400), 0.01, 0.99)       # a weak but real signal
    b = np.full(400, y.mean())
    ci = paired_block_ci(y, a, b, "accuracy", block=20, n_boot=1000, seed=1)
    assert ci["low"] < ci["diff"] < ci["high"] and ci["high"] - ci["low"] < 0.3
    assert ci == paired_block_ci(y, a, b, "accuracy", block=20, n_boot=1000, seed=1)
    assert "moving-block" in ci["method"] and ci["block"] == 20
    with pytest.raises(ValueError, match="metric"):
        paired_block_ci(y, a, b, "auc", block=20)
