"""The one "does the model have an edge?" rule."""
from __future__ import annotations

import pytest

from ml.edge import EDGE, NO_EDGE, edge_label, edge_verdict, has_edge
from ml.registry import should_promote


def summary(lstm, base=0.69, persistence=0.68, logistic=0.60):
    return {"lstm": {"log_loss": lstm, "brier": lstm / 3}, "base_rate": {"log_loss": base, "brier": base / 3},
            "persistence": {"log_loss": persistence, "brier": persistence / 3},
            "logistic": {"log_loss": logistic, "brier": logistic / 3}}


def test_an_edge_means_beating_every_naive_baseline():
    ok, why = edge_verdict(summary(0.67))
    assert ok and "beats the baselines" in why and edge_label(summary(0.67)) == EDGE
    ok, why = edge_verdict(summary(0.685))
    assert not ok and "persistence" in why and edge_label(summary(0.685)) == NO_EDGE
    ok, why = edge_verdict(summary(0.69, base=0.69, persistence=0.70))
    assert not ok and "base_rate" in why                          # a tie is no edge
    assert has_edge(summary(0.67), "brier") and not has_edge(summary(0.70), "brier")
    assert has_edge(summary(0.67, logistic=0.5))                  # the logistic model is reported, not a gate


@pytest.mark.parametrize("bad", [None, {}, {"lstm": {}}, {"lstm": {"log_loss": 0.6}}])
def test_missing_evaluations_have_no_edge(bad):
    assert not has_edge(bad)
    assert edge_label(bad) == NO_EDGE


def test_the_rule_only_compares_proper_scores_and_promotion_uses_it():
    with pytest.raises(ValueError, match="log_loss or brier"):
        edge_verdict(summary(0.6), "accuracy")
    assert should_promote(summary(0.685), None) == edge_verdict(summary(0.685))
