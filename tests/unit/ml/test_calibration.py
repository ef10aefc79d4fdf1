"""The calibrator: what it fits, that it is fitted on the validation tail only, and its round trip."""
from __future__ import annotations

import numpy as np
import pytest
from tests.unit.ml.ml_synth import random_walk

from ml.calibration import Calibrator, fit_calibrator
from ml.config import TrainConfig
from ml.evaluate import run_fold
from ml.metrics import expected_calibration_error
from ml.training import train, training_samples
from ml.windows import Samples

TINY = TrainConfig(lookback=8, units=4, epochs=3, batch_size=64, validation_fraction=0.25)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def overconfident(n, seed):
    """Raw outputs twice as far from 0.5 (in logits) as the truth, and biased down."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, n)
    y = (rng.uniform(size=n) < sigmoid(0.5 * z + 0.3)).astype(float)
    return sigmoid(z), y


def test_platt_recovers_slope_and_intercept_and_lowers_ece_on_new_data():
    p, y = overconfident(20_000, 0)
    cal = fit_calibrator(p, y, "platt")
    assert cal.method == "platt" and cal.n == 20_000
    assert cal.params["a"] == pytest.approx(0.5, abs=0.05) and cal.params["b"] == pytest.approx(0.3, abs=0.05)
    p2, y2 = overconfident(5_000, 1)
    assert expected_calibration_error(y2, cal.apply(p2)) < 0.02 < expected_calibration_error(y2, p2)


def test_platt_on_an_uninformative_output_says_the_up_share():
    rng = np.random.default_rng(2)
    p = rng.uniform(0.45, 0.55, 2000)
    y = (rng.uniform(size=2000) < 0.6).astype(float)
    out = fit_calibrator(p, y).apply(p)
    assert abs(out.mean() - y.mean()) < 0.01 and out.std() < 0.02
    one_class = fit_calibrator(p[:10], np.ones(10))
    assert np.allclose(one_class.apply([0.1, 0.9]), 1 - 1e-6)


def test_isotonic_is_monotone_within_0_1_and_round_trips():
    p, y = overconfident(3000, 3)
    cal = fit_calibrator(p, y, "isotonic")
    grid = np.linspace(0, 1, 101)
    out = cal.apply(grid)
    assert (np.diff(out) >= 0).all() and out.min() >= 0 and out.max() <= 1
    for c in (cal, fit_calibrator(p, y, "platt"), fit_calibrator(p, y, "none")):
        back = Calibrator.from_dict(c.to_dict())
        np.testing.assert_array_equal(back.apply(grid), c.apply(grid))
    np.testing.assert_array_equal(fit_calibrator(p, y, "none").apply(grid), grid)
    assert Calibrator.from_dict(None) is None


@pytest.mark.parametrize("args, match", [
    (([0.5, 0.5], [1, 0], "beta"), "method"), (([0.5, 0.5], [1, 2]), "0/1"),
    (([0.5], [1]), "at least 2"), (([0.5, np.nan], [1, 0]), "finite"),
])
def test_bad_calibration_input_is_refused(args, match):
    p, y, *method = args
    with pytest.raises(ValueError, match=match):
        fit_calibrator(np.asarray(p, float), np.asarray(y, float), *method)
    with pytest.raises(ValueError, match="calibration"):
        TrainConfig(calibration="beta")


@pytest.fixture(scope="module")
def candles():
    return random_walk(900, seed=5)


@pytest.fixture(scope="module")
def model(candles):
    return train(candles.iloc[:600], TINY)


def test_the_trained_calibrator_is_fitted_on_the_validation_tail_and_nothing_else(model, candles):
    data, _ = training_samples(candles.iloc[:600], TINY)
    cut = model.n_train
    assert cut + model.n_validation == len(data.x) and model.calibrator.n == model.n_validation

    def fitted_on(sl):
        s = Samples(data.x[sl], data.times[sl], data.y[sl], data.last_return[sl])
        return fit_calibrator(model.predict_samples(s, calibrated=False), s.y, TINY.calibration).params

    assert model.calibrator.params == fitted_on(slice(cut, None))          # exactly the tail
    assert model.calibrator.params != fitted_on(slice(None))               # not all training samples


def test_the_calibrator_ignores_the_test_data(model, candles):
    """Scramble every bar of the test span and after: the fold's calibrator does not move."""
    test_from, test_until = candles.index[600], candles.index[800]
    fold = run_fold(candles, TINY, test_from, test_until)
    assert fold.model.calibrator == model.calibrator                       # same span, same fit
    scrambled = candles.copy()
    rng = np.random.default_rng(9)
    later = scrambled.index >= test_from
    factor = np.exp(np.cumsum(rng.normal(0, 0.05, later.sum())))
    scrambled.loc[later, ["open", "high", "low", "close"]] *= factor[:, None]
    again = run_fold(scrambled, TINY, test_from, test_until)
    assert again.model.calibrator == fold.model.calibrator
    assert not np.allclose(again.preds["lstm"], fold.preds["lstm"])       # the test data did change
