"""Inference with a version's fold models: the spread next to p(up), stored and loaded with the version."""
from __future__ import annotations

import json

import numpy as np
import pytest
from tests.unit.ml.ml_synth import random_walk

from ml.config import TrainConfig
from ml.evaluate import walk_forward
from ml.inference import assess
from ml.registry import Registry
from ml.training import train

TINY = TrainConfig(lookback=8, units=4, epochs=2, batch_size=64)


@pytest.fixture(scope="module")
def candles():
    return random_walk(800, seed=31)


@pytest.fixture(scope="module")
def evaluation(candles):
    return walk_forward(candles, TINY, folds=2)


@pytest.fixture(scope="module")
def final(candles):
    return train(candles, TINY)


def test_the_spread_is_the_std_of_calibrated_p_across_the_final_and_the_fold_models(evaluation, final, candles):
    assert len(evaluation.models) == 2
    alone = assess(final, candles)
    assert alone.spread is None and alone.members == 0
    final.members = evaluation.models
    try:
        pred = assess(final, candles, version=4)
    finally:
        final.members = ()
    each = [pred.p_up] + [float(m.predict(candles, start=candles.index[-1]).iloc[-1]) for m in evaluation.models]
    assert pred.members == 2 and pred.p_up == alone.p_up
    assert pred.spread == pytest.approx(float(np.std(each)), abs=1e-6) and pred.spread > 0
    assert json.loads(json.dumps(pred.to_dict()))["spread"] == pytest.approx(pred.spread)


def test_walk_forward_stores_calibration_ood_and_spread_with_the_version(evaluation, final, candles, tmp_path):
    doc = evaluation.to_dict()
    json.dumps(doc, allow_nan=False)                                  # strict JSON: NaN became null
    cal = doc["calibration"]
    assert cal["method"] == "platt" and {"ece", "curve"} <= set(cal["before"]) and cal["after"]["curve"]
    assert sum(r["n"] for r in cal["after"]["curve"]) == doc["summary"]["lstm"]["n"]
    assert cal["before"]["ece"] == pytest.approx(doc["references"]["lstm_raw"]["ece"])
    assert set(doc["summary"]) == {"lstm", "base_rate", "persistence"}        # what the pages read, unchanged
    assert set(doc["references"]) == {"lstm_raw", "logistic"}
    assert doc["ood"]["n"] == doc["summary"]["lstm"]["n"] and "beyond" in doc["ood"]["rule"]
    assert doc["folds"][0]["spread_mean"] is None and doc["folds"][1]["spread_mean"] > 0    # fold 1 has one model
    assert doc["uncertainty"]["n"] == int((evaluation.oos["fold"] == 2).sum())

    reg = Registry(tmp_path)
    v = reg.save("BTC/USDT", "1d", final, walk_forward=doc, members=evaluation.models)
    assert v.meta["uncertainty"]["members"] == 2 and v.meta["calibrator"]["method"] == "platt"
    assert (tmp_path / "BTC-USDT" / "1d" / "v1" / "members" / "2.keras").is_file()
    _, loaded = reg.load("BTC/USDT", "1d", 1)
    assert len(loaded.members) == 2 and loaded.calibrator == final.calibrator
    np.testing.assert_array_equal(loaded.feature_range.hi, final.feature_range.hi)
    final.members = evaluation.models
    try:
        want = assess(final, candles)
    finally:
        final.members = ()
    got = assess(loaded, candles)
    assert got.p_up == pytest.approx(want.p_up, abs=1e-6) and got.spread == pytest.approx(want.spread, abs=1e-6)


def test_a_version_stored_before_calibration_still_loads_and_predicts_raw(final, candles, tmp_path):
    reg = Registry(tmp_path)
    v = reg.save("BTC/USDT", "1d", final)
    meta_path = tmp_path / "BTC-USDT" / "1d" / "v1" / "meta.json"
    meta = json.loads(meta_path.read_text())
    for key in ("calibrator", "feature_range", "members", "uncertainty"):
        meta.pop(key)
    for key in ("calibration", "ood_margin"):
        meta["config"].pop(key)
    meta_path.write_text(json.dumps(meta))
    _, old = reg.load("BTC/USDT", "1d", v.version)
    assert old.calibrator is None and old.feature_range is None and old.members == ()
    pred = assess(old, candles)
    assert pred.p_up == pytest.approx(pred.p_raw) and pred.reason is None and pred.spread is None
