"""Champion / challenger rule and registry bookkeeping that need no model."""
from __future__ import annotations

import pytest
from tests.unit.ml.ml_synth import random_walk

from ml.config import TrainConfig
from ml.registry import Registry, should_promote, slug
from ml.training import train


def summary(lstm, base=0.69, persistence=0.68):
    return {"lstm": {"log_loss": lstm}, "base_rate": {"log_loss": base}, "persistence": {"log_loss": persistence}}


def test_challenger_must_beat_both_baselines_and_the_champion():
    assert should_promote(summary(0.60), None)[0]
    ok, why = should_promote(summary(0.685), None)
    assert not ok and "persistence" in why
    assert not should_promote(summary(0.70), None)[0]
    assert should_promote(summary(0.60), summary(0.62))[0]
    ok, why = should_promote(summary(0.61), summary(0.60))
    assert not ok and "champion" in why
    assert not should_promote(None, None)[0]


def test_registry_paths_are_validated(tmp_path):
    reg = Registry(tmp_path)
    assert slug("BTC/USDT") == "BTC-USDT"
    with pytest.raises(ValueError):
        reg.versions("BTC/USDT", "../x")
    with pytest.raises(ValueError):
        slug("///")
    assert reg.versions("BTC/USDT", "1h") == [] and reg.champion("BTC/USDT", "1h") is None
    with pytest.raises(ValueError, match="no champion"):
        reg.load("BTC/USDT", "1h")
    with pytest.raises(ValueError, match="roll back"):
        reg.rollback("BTC/USDT", "1h")


def test_training_needs_enough_windows():
    with pytest.raises(ValueError, match="at least"):
        train(random_walk(150), TrainConfig(lookback=16))
