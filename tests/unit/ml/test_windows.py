"""Windows, scaler and samples: alignment, training-only scaling, labels."""
from __future__ import annotations

import numpy as np
import pytest
from tests.unit.ml.ml_synth import random_walk

from ml.config import TrainConfig
from ml.features import WARMUP, build_features, next_return
from ml.windows import Scaler, first_valid, samples, windows


def test_window_k_holds_rows_k_to_k_plus_lookback():
    rows = np.arange(20, dtype=float).reshape(10, 2)
    w = windows(rows, 4)
    assert w.shape == (7, 4, 2)
    np.testing.assert_array_equal(w[2], rows[2:6])
    assert windows(rows, 11).shape == (0, 11, 2)


def test_scaler_uses_only_the_rows_it_is_fitted_on():
    train = np.array([[1.0, 10.0], [3.0, 10.0]])
    s = Scaler.fit(train)
    np.testing.assert_allclose(s.mean, [2.0, 10.0])
    np.testing.assert_allclose(s.std, [1.0, 1.0])          # a constant column keeps std 1
    np.testing.assert_allclose(s.transform([[5.0, 12.0]]), [[3.0, 2.0]])
    back = Scaler.from_dict(s.to_dict())
    np.testing.assert_array_equal(back.mean, s.mean)
    with pytest.raises(ValueError):
        Scaler.fit(np.array([[np.nan, 1.0], [1.0, 2.0]]))


def test_samples_end_at_their_time_and_drop_the_unknown_last_label():
    candles = random_walk(200)
    feats = build_features(candles)
    scaler = Scaler.fit(feats.iloc[WARMUP:].to_numpy())
    s = samples(feats, scaler, 8, next_return(candles))
    assert s.times[0] == candles.index[WARMUP + 7]
    assert s.times[-1] == candles.index[-2]                 # the last bar has no label yet
    k = 17
    np.testing.assert_allclose(s.x[k, -1], scaler.transform(feats.loc[[s.times[k]]].to_numpy())[0], rtol=1e-6)
    expected = (np.log(candles.close.shift(-1) / candles.close).loc[s.times] > 0).to_numpy()
    np.testing.assert_array_equal(s.y, expected.astype(np.float32))
    part = samples(feats, scaler, 8, start=candles.index[150], end=candles.index[160])
    assert list(part.times) == list(candles.index[150:161]) and part.y is None


def test_first_valid_needs_data_and_finite_rows():
    feats = build_features(random_walk(100))
    assert first_valid(feats) == WARMUP
    with pytest.raises(ValueError, match="not enough candles"):
        first_valid(feats.iloc[:WARMUP])
    broken = feats.copy()
    broken.iloc[70, 0] = np.inf
    with pytest.raises(ValueError, match="not finite"):
        first_valid(broken)


@pytest.mark.parametrize("kw", [{"lookback": 1}, {"dropout": 1.0}, {"epochs": 0}, {"validation_fraction": 0.9},
                                {"learning_rate": 0.0}, {"units": 0}])
def test_bad_training_settings_are_rejected(kw):
    with pytest.raises(ValueError):
        TrainConfig(**kw)


def test_config_round_trip_and_unknown_keys():
    c = TrainConfig(lookback=16, units=8)
    assert TrainConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown"):
        TrainConfig.from_dict({"lookbak": 3})
