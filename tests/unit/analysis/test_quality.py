"""Confidence intervals of the signal-quality report (moving-block bootstrap)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.unit.analysis.analysis_synth import from_closes, random_walk
from app.analysis.quality import percentile_interval, signal_quality, signal_quality_ci


def labelled(candles, labels):
    return pd.DataFrame({"label": labels}, index=candles.index)


def test_a_certain_outcome_has_a_zero_width_interval():
    c = from_closes(100 * 1.01 ** np.arange(60))                   # +1 % every bar
    q = signal_quality_ci(c, labelled(c, ["buy"] * 60), horizons=(1,), min_history=0, n_boot=200)
    buy = q[q.label == "buy"].iloc[0]
    assert buy.mean_return_pct == pytest.approx(1.0)
    assert buy.mean_return_ci_low == pytest.approx(1.0) and buy.mean_return_ci_high == pytest.approx(1.0)
    assert buy.edge_ci_low == pytest.approx(0.0) and buy.edge_ci_high == pytest.approx(0.0)
    assert buy.hit_rate_ci_low == 1.0 and buy.hit_edge == 0.0
    assert np.isnan(q[q.label == "sell"].iloc[0].edge_ci_low)      # no sell bars: no interval


def test_a_label_that_knows_the_next_bar_has_an_interval_above_chance_and_random_labels_do_not():
    c = random_walk(1500, seed=4)
    nxt = np.sign(np.r_[np.diff(c["close"].to_numpy()), 0.0])
    oracle = np.where(nxt > 0, "buy", "sell")
    q = signal_quality_ci(c, labelled(c, oracle), horizons=(1,), n_boot=500).set_index("label")
    assert q.loc["buy", "hit_edge_ci_low"] > 0.3 and q.loc["sell", "hit_edge_ci_low"] > 0.3
    assert q.loc["buy", "edge_ci_low"] > 0 > q.loc["sell", "edge_ci_high"]
    covered = 0
    for seed in range(20):                                         # random labels: 0 is inside most intervals
        coin = np.random.default_rng(seed).choice(["buy", "sell", "neutral"], len(c))
        r = signal_quality_ci(c, labelled(c, coin), horizons=(1,), n_boot=400).set_index(["horizon", "label"])
        covered += bool(r.loc[(1, "buy"), "edge_ci_low"] < 0 < r.loc[(1, "buy"), "edge_ci_high"])
        covered += bool(r.loc[(1, "sell"), "hit_edge_ci_low"] < 0 < r.loc[(1, "sell"), "hit_edge_ci_high"])
    assert covered >= 34                                           # of 40; about 38 expected at 95 %
    assert r.loc[(1, "all"), "edge_ci_low"] == pytest.approx(0.0) and r.loc[(1, "all"), "edge_ci_high"] == 0.0


def test_the_table_extends_signal_quality_and_is_reproducible():
    c = random_walk(700, seed=2)
    labels = np.random.default_rng(3).choice(["buy", "strong sell", "neutral"], len(c))
    base = signal_quality(c, labelled(c, labels), horizons=(1, 12))
    a = signal_quality_ci(c, labelled(c, labels), horizons=(1, 12), n_boot=300, seed=5)
    pd.testing.assert_frame_equal(a[base.columns], base)
    assert a.equals(signal_quality_ci(c, labelled(c, labels), horizons=(1, 12), n_boot=300, seed=5))
    assert not a.equals(signal_quality_ci(c, labelled(c, labels), horizons=(1, 12), n_boot=300, seed=6))
    m = 700 - 200 - 12                                               # bars evaluated at horizon 12
    assert set(a[a.horizon == 12].ci_block.dropna()) == {max(12, round(m ** (1 / 3)))}
    assert set(a[a.horizon == 1].ci_block.dropna()) == {round((700 - 201) ** (1 / 3))}
    assert (a.ci_level == 0.95).all()
    assert signal_quality_ci(c, labelled(c, labels), horizons=(1,), n_boot=50, block=40).ci_block.dropna().eq(40).all()


@pytest.mark.parametrize("kw, match", [(dict(block=0), "block"), (dict(block=2.5), "block"),
                                       (dict(level=95), "level"), (dict(n_boot=0), "n_boot")])
def test_bad_bootstrap_settings_are_refused(kw, match):
    c = random_walk(300)
    with pytest.raises(ValueError, match=match):
        signal_quality_ci(c, labelled(c, ["buy"] * 300), horizons=(1,), **kw)


def test_percentile_interval():
    assert percentile_interval(np.arange(101.0), 0.9) == pytest.approx((5.0, 95.0))
    assert percentile_interval(np.array([np.nan, 1.0, 1.0])) == (1.0, 1.0)
    assert all(np.isnan(percentile_interval(np.array([np.nan]))))
