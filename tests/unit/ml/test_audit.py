"""The leakage audit passes on the real pipeline and catches leaks deliberately injected."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.unit.ml.ml_synth import random_walk

import ml.training
from ml.audit import (LeakageError, audit_fitted, audit_series, default_cuts, feature_audit, fold_audit,
                      prediction_audit, require_clean)
from ml.config import TrainConfig
from ml.features import FEATURES, WARMUP, build_features
from ml.training import fit_scaling, train
from ml.windows import Scaler

TINY = TrainConfig(lookback=8, units=4, epochs=2, batch_size=64)


@pytest.fixture(scope="module")
def candles():
    return random_walk(700, seed=21)


@pytest.fixture(scope="module")
def model(candles):
    return train(candles.iloc[:450], TINY)


def test_every_feature_is_unchanged_when_the_future_is_deleted(candles):
    cuts = default_cuts(candles, n=6, skip=WARMUP)
    assert len(cuts) == 6
    assert feature_audit(candles, cuts) == []
    full = build_features(candles)
    assert list(full.columns) == list(FEATURES)       # the audit compared every one of them


@pytest.mark.parametrize("leaky", [
    lambda c: c["close"].shift(-1) / c["close"],                                   # tomorrow's close
    lambda c: c["close"].rolling(5, center=True).mean() / c["close"],               # a centred window
    lambda c: (c["close"] - c["close"].mean()) / c["close"].std(),                  # full-sample z-score
])
def test_an_injected_leaky_feature_fails_the_audit_and_is_named(candles, leaky):
    def build(c):
        return build_features(c).assign(leak=leaky(c))

    leaks = feature_audit(candles, build=build)
    assert leaks and {x.what for x in leaks} == {"leak"}
    with pytest.raises(LeakageError, match="leak: changed at"):
        require_clean(leaks)


def test_the_prediction_path_is_clean(model, candles):
    cuts = [candles.index[i] for i in (470, 560, 698)]
    assert prediction_audit(model, candles, cuts) == []


def test_a_leaky_feature_inside_the_prediction_path_fails_the_audit(model, candles, monkeypatch):
    def peeking(c):
        f = build_features(c)
        f["ret_1"] = f["ret_1"].shift(-1).fillna(0.0)          # the next bar's return in place of this one's
        return f

    monkeypatch.setattr(ml.training, "build_features", peeking)
    leaks = prediction_audit(model, candles, [candles.index[i] for i in (470, 560)])
    assert {"p_raw", "p_up"} <= {x.what for x in leaks}


def test_scalers_fitted_on_the_training_span_pass_and_one_fitted_on_everything_fails(candles):
    until = candles.index[400]

    def honest(c):
        scaler, rng = fit_scaling(build_features(c.loc[:until]), TINY)
        return {"mean": scaler.mean, "std": scaler.std, "lo": rng.lo, "hi": rng.hi}

    def on_everything(c):
        s = Scaler.fit(build_features(c).dropna().to_numpy())
        return {"mean": s.mean, "std": s.std}

    cuts = [until, candles.index[550]]
    assert audit_fitted(honest, candles, until, cuts) == []
    leaks = audit_fitted(on_everything, candles, until, cuts)
    assert {x.what for x in leaks} == {"mean", "std"} and leaks[0].cut == until
    with pytest.raises(ValueError, match="before fitted_until"):
        audit_fitted(honest, candles, until, [candles.index[300]])


def test_a_walk_forward_fold_end_to_end_is_clean(candles):
    """Scaler, training range, calibrator, network and baselines of one fold, retrained on cut candles."""
    assert fold_audit(candles, TINY, candles.index[450], candles.index[600]) == []


def test_a_calibrator_fitted_on_the_test_span_fails_the_fold_audit(candles):
    """A fold that recalibrates on its own test labels looks fine on the finished fold, not bar by bar."""
    from ml.calibration import fit_calibrator
    from ml.evaluate import run_fold

    def peeking_fold(c, config, test_from, test_until):
        f = run_fold(c, config, test_from, test_until)
        cal = fit_calibrator(f.preds["lstm_raw"], f.test.y)              # the test span's own labels
        f.preds["lstm"] = cal.apply(f.preds["lstm_raw"])
        return f

    leaks = fold_audit(candles, TINY, candles.index[450], candles.index[600], run=peeking_fold)
    assert leaks and {x.what for x in leaks} == {"lstm"}


def test_audit_series_reports_rows_that_appear_or_vanish(candles):
    def drops_last_two_bars_of_any_input(c):
        return build_features(c).iloc[:-2]

    leaks = audit_series(drops_last_two_bars_of_any_input, candles, [candles.index[300]])
    assert leaks and leaks[0].what == "rows"
    with pytest.raises(ValueError, match="not a bar"):
        audit_series(build_features, candles, [pd.Timestamp("1999-01-01", tz="UTC")])
    with pytest.raises(ValueError, match="DataFrame or Series"):
        audit_series(lambda c: np.zeros(3), candles, [candles.index[300]])


@pytest.fixture(scope="module")
def with_member(model, candles):
    import dataclasses

    return dataclasses.replace(model, members=(train(candles.iloc[:400], TINY),))


def test_the_stored_latest_bar_path_is_clean_spread_and_ood_included(with_member, candles):
    from ml.audit import inference_audit

    cuts = [candles.index[i] for i in (470, 600, 699)]
    assert inference_audit(with_member, candles, cuts) == []


def test_a_leaky_feature_in_the_latest_bar_path_fails_the_inference_audit(with_member, candles, monkeypatch):
    import ml.inference
    from ml.audit import inference_audit

    def peeking(c):
        f = build_features(c)
        f["ret_1"] = f["ret_1"].shift(-1).fillna(0.0)
        return f

    for module in (ml.training, ml.inference):
        monkeypatch.setattr(module, "build_features", peeking)
    leaks = inference_audit(with_member, candles, [candles.index[i] for i in (470, 600)])
    assert {"p_raw", "p_up", "spread"} <= {x.what for x in leaks}


def test_live_scoring_is_clean_and_a_scorer_that_reads_past_the_close_fails(candles, monkeypatch):
    import ml.live
    from ml.audit import live_audit

    close = candles["close"]
    cuts = [candles.index[i] for i in (100, 400, 650)]
    assert live_audit(close, candles.index[50:], cuts) == []
    honest = ml.live.outcomes

    def peeking(c, times, last_closed):            # ignores when the next bar closes
        return honest(c, times, c.index[-1])

    monkeypatch.setattr(ml.live, "outcomes", peeking)
    leaks = live_audit(close, candles.index[50:], cuts)
    assert leaks and {x.what for x in leaks} == {"outcome"}
    assert any("before its next bar closed" in x.detail for x in leaks)
