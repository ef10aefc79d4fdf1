"""Features and label: trailing windows only, sane ranges, clear errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.unit.ml.ml_synth import random_walk

from ml.features import FEATURES, WARMUP, build_features, next_return


def test_features_use_no_future_bars():
    candles = random_walk(400)
    full = build_features(candles)
    for cut in (60, 137, 300):
        part = build_features(candles.iloc[:cut])
        pd.testing.assert_frame_equal(part, full.iloc[:cut], rtol=1e-12)


def test_warm_up_then_finite_and_bounded():
    f = build_features(random_walk(300))
    assert list(f.columns) == list(FEATURES)
    assert f.iloc[:WARMUP].isna().all().all()
    rest = f.iloc[WARMUP:]
    assert np.isfinite(rest.to_numpy()).all()
    assert rest.rsi_14.between(0, 1).all() and rest.body.between(-1, 1).all()
    assert (rest.upper_wick >= 0).all() and (rest.lower_wick >= 0).all() and (rest.range > 0).all()


def test_feature_values_by_hand():
    candles = random_walk(120)
    f = build_features(candles)
    c = candles.close
    t = candles.index[80]
    assert f.loc[t, "ret_1"] == pytest.approx(np.log(c.iloc[80] / c.iloc[79]))
    assert f.loc[t, "ret_20"] == pytest.approx(np.log(c.iloc[80] / c.iloc[60]))
    row = candles.iloc[80]
    assert f.loc[t, "body"] == pytest.approx((row.close - row.open) / (row.high - row.low))


def test_label_is_the_next_close_to_close_return():
    candles = random_walk(50)
    y = next_return(candles)
    assert y.iloc[10] == pytest.approx(np.log(candles.close.iloc[11] / candles.close.iloc[10]))
    assert np.isnan(y.iloc[-1])


def test_bad_candles_are_rejected():
    candles = random_walk(100).drop(columns="volume")
    with pytest.raises(ValueError):
        build_features(candles)
