"""The LSTM end to end with tiny models (seconds): learning, no look-ahead,
walk-forward against baselines, registry round trip, inference."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.unit.ml.ml_synth import three_bar_pattern

from ml.config import TrainConfig
from ml.evaluate import walk_forward
from ml.inference import latest, out_of_sample
from ml.registry import Registry
from ml.training import train

CFG = TrainConfig(lookback=8, units=16, epochs=15, batch_size=64, patience=3, learning_rate=0.01)


@pytest.fixture(scope="module")
def pattern():
    return three_bar_pattern(1200)


@pytest.fixture(scope="module")
def evaluation(pattern):
    return walk_forward(pattern, CFG, folds=2, min_train_fraction=0.5)


@pytest.fixture(scope="module")
def trained(pattern):
    calls = []
    model = train(pattern.iloc[:800], CFG, progress=lambda pct, phase: calls.append((pct, phase)))
    model.progress_calls = calls
    return model


def test_walk_forward_reports_out_of_sample_only_and_the_lstm_beats_the_baselines(evaluation, pattern):
    folds = evaluation.folds
    assert list(folds.fold) == [1, 2]
    assert (folds.train_until < folds.test_from).all()
    assert folds.test_from.iloc[1] > folds.test_until.iloc[0]            # consecutive, no overlap
    oos = evaluation.predictions
    assert oos.index.min() == folds.test_from.iloc[0] and oos.index.is_monotonic_increasing
    assert len(oos) == evaluation.summary["lstm"]["n"]
    s = evaluation.summary
    # the pattern is learnable; neither baseline can exceed 2/3
    assert s["base_rate"]["accuracy"] < 0.7 and s["persistence"]["accuracy"] < 0.7
    assert s["lstm"]["accuracy"] > 0.9
    assert evaluation.beats_baselines()
    assert evaluation.to_dict()["folds"][0]["test_from"] == folds.test_from.iloc[0].isoformat()


def test_training_learns_and_reports_progress(trained, pattern):
    assert trained.trained_until == pattern.index[798]                   # bar 799's label is unknown in the span
    assert trained.n_train + trained.n_validation == 800 - 50 - 7 - 1
    assert 1 <= trained.epochs_run <= CFG.epochs and trained.best_val_loss < 0.3
    pcts = [p for p, _ in trained.progress_calls]
    assert pcts == sorted(pcts) and len(pcts) == trained.epochs_run and "val loss" in trained.progress_calls[0][1]


def test_predictions_do_not_use_later_candles(trained, pattern):
    full = trained.predict(pattern)
    part = trained.predict(pattern.iloc[:900])
    np.testing.assert_allclose(part.to_numpy(), full.loc[part.index].to_numpy(), rtol=1e-5, atol=1e-6)
    assert part.index[-1] == pattern.index[899]


def test_out_of_sample_series_is_nan_while_the_model_was_learning(trained, pattern):
    p = out_of_sample(trained, pattern)
    assert p.index.equals(pattern.index)
    assert p.loc[:trained.trained_until].isna().all()
    after = p.loc[trained.trained_until:].iloc[1:]
    assert after.notna().all() and after.between(0, 1).all()
    last = latest(trained, pattern, version=3)
    assert last.time == pattern.index[-1] and last.version == 3
    assert last.p_up == pytest.approx(p.iloc[-1], abs=1e-4)


def test_registry_round_trip_promote_and_roll_back(trained, evaluation, pattern, tmp_path):
    reg = Registry(tmp_path)
    v1 = reg.save("BTC/USDT", "1h", trained, walk_forward=evaluation.to_dict(), data_hash="abc")
    v2 = reg.save("BTC/USDT", "1h", trained)
    assert (v1.version, v2.version) == (1, 2) and [v.version for v in reg.versions("BTC/USDT", "1h")] == [1, 2]
    assert v1.summary["lstm"]["accuracy"] == evaluation.summary["lstm"]["accuracy"]
    assert v2.summary is None
    assert not any(p.name.startswith(".v") for p in (tmp_path / "BTC-USDT" / "1h").iterdir())
    reg.promote("BTC/USDT", "1h", 1)
    reg.promote("BTC/USDT", "1h", 2)
    assert reg.champion("BTC/USDT", "1h").version == 2
    assert reg.rollback("BTC/USDT", "1h").version == 1
    assert reg.champion("BTC/USDT", "1h").version == 1
    chosen, loaded = reg.load("BTC/USDT", "1h")
    assert chosen.version == 1 and chosen.meta["data_hash"] == "abc"
    assert loaded.trained_until == trained.trained_until and loaded.config == trained.config
    window = pattern.iloc[700:1000]
    pd.testing.assert_series_equal(loaded.predict(window), trained.predict(window), rtol=1e-6)
    with pytest.raises(ValueError, match="no model v9"):
        reg.promote("BTC/USDT", "1h", 9)
