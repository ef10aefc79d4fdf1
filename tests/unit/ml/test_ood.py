"""The out-of-distribution rule, alone and in inference (prediction withheld with a reason)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.unit.ml.ml_synth import random_walk

from ml.config import TrainConfig
from ml.inference import PredictionWithheld, assess, latest, out_of_sample
from ml.ood import FeatureRange
from ml.training import train

TINY = TrainConfig(lookback=8, units=4, epochs=2, batch_size=64)


def test_the_rule_is_the_training_range_widened_by_the_margin():
    z = np.array([[-1.0, 0.0], [2.0, 3.0], [0.5, 1.0]])
    r = FeatureRange.fit(z, ("a", "b"), margin=0.5)
    np.testing.assert_array_equal(r.lo, [-1.0, 0.0])
    np.testing.assert_array_equal(r.hi, [2.0, 3.0])
    inside = np.array([[[-1.5, -0.5], [2.5, 3.5]]])                       # exactly on the widened edges
    outside_a = np.array([[[-1.51, 1.0], [0.0, 1.0]]])
    outside_b = np.array([[[0.0, 1.0], [0.0, 3.6]]])
    assert r.flags(np.concatenate([inside, outside_a, outside_b])).tolist() == [False, True, True]
    assert r.reason(inside[0]) is None
    why = r.reason(outside_b[0], times=pd.date_range("2024-01-01", periods=2, freq="D", tz="UTC"))
    assert "b at 2024-01-02" in why and "+3.60" in why and "[+0.00, +3.00]" in why and "widened by 0.5" in why
    assert "a 1 bars ago" in r.reason(outside_a[0])
    assert r.flags(np.array([[[np.nan, 1.0]]])).tolist() == [True]
    back = FeatureRange.from_dict(r.to_dict())
    np.testing.assert_array_equal(back.hi, r.hi)
    assert back.margin == 0.5 and back.features == ("a", "b")


@pytest.mark.parametrize("margin", [-1, "1", True, 101])
def test_bad_margins_are_refused(margin):
    with pytest.raises(ValueError, match="margin"):
        FeatureRange.fit(np.zeros((3, 1)), ("a",), margin=margin)
    with pytest.raises(ValueError, match="ood_margin"):
        TrainConfig(ood_margin=margin)


@pytest.fixture(scope="module")
def calm_then_crash():
    """A calm random walk whose last bars move 20 % a day: far outside anything the model trained on."""
    c = random_walk(700, seed=11)
    crash = c.copy()
    tail = crash.index[-3:]
    steps = np.exp(np.cumsum([-0.2, 0.15, -0.2]))
    base = crash["close"].iloc[-4]
    crash.loc[tail, "close"] = base * steps
    crash.loc[tail, "open"] = np.r_[base, crash.loc[tail, "close"].to_numpy()[:-1]]
    crash.loc[tail, "high"] = crash.loc[tail, ["open", "close"]].max(axis=1) * 1.001
    crash.loc[tail, "low"] = crash.loc[tail, ["open", "close"]].min(axis=1) * 0.999
    return c, crash


@pytest.fixture(scope="module")
def model(calm_then_crash):
    return train(calm_then_crash[0].iloc[:600], TINY)


def test_a_window_inside_the_training_range_gets_a_probability(model, calm_then_crash):
    calm, _ = calm_then_crash
    pred = assess(model, calm, version=2)
    assert pred.reason is None and 0 < pred.p_up < 1 and pred.version == 2
    assert pred.p_up == pytest.approx(float(model.calibrate([pred.p_raw])[0]))
    assert latest(model, calm).p_up == pred.p_up


def test_an_out_of_distribution_window_is_withheld_with_the_reason(model, calm_then_crash):
    _, crash = calm_then_crash
    pred = assess(model, crash, version=2)
    assert pred.p_up is None and pred.p_raw is not None
    assert "out of the training distribution" in pred.reason and crash.index[-1].isoformat()[:10] in pred.reason
    with pytest.raises(PredictionWithheld, match="out of the training distribution") as ei:
        latest(model, crash)
    assert isinstance(ei.value, ValueError) and ei.value.prediction.p_up is None
    series = out_of_sample(model, crash)
    assert series.iloc[-3:].isna().all() and series.iloc[-20:-12].notna().all()
    frame = model.predict_frame(crash, start=crash.index[-20])
    assert frame["ood"].iloc[-3:].all() and not frame["ood"].iloc[:8].any()
