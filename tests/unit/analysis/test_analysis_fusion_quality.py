"""Multi-timeframe fusion and the signal-quality report."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.unit.analysis.analysis_synth import from_closes, random_walk
from app.analysis.config import ScoringConfig
from app.analysis.fusion import fuse
from app.analysis.quality import signal_quality
from app.analysis.scoring import score_series
from app.analysis.types import Signal

T = pd.Timestamp("2024-05-01 12:00", tz="UTC")


def sig(tf, score, conf=1.0):
    return Signal("BTC/USDT", tf, T, score, conf, "neutral")


def test_fused_score_is_the_confidence_weighted_mean():
    cfg = ScoringConfig(timeframe_weights={"1h": 1.0, "4h": 3.0})
    f = fuse({"1h": sig("1h", 70, 0.5), "4h": sig("4h", 60, 1.0)}, "BTC/USDT", cfg)
    assert f.score == pytest.approx(50 + (0.5 * 20 + 3.0 * 10) / 3.5)
    assert f.agreement == pytest.approx(1.0) and f.label == "buy"
    assert f.confidence == pytest.approx(3.5 / 4.0)
    assert [r.component for r in f.reasons] == ["tf:4h", "tf:1h"]
    assert sum(r.points for r in f.reasons) == pytest.approx(f.score - 50)
    assert json.loads(json.dumps(f.to_dict()))["timeframes"]["4h"]["weight"] == 3.0


def test_disagreeing_timeframes_lower_agreement_and_confidence():
    agree = fuse({"1h": sig("1h", 75), "4h": sig("4h", 70), "1d": sig("1d", 65)}, "BTC/USDT")
    mixed = fuse({"1h": sig("1h", 75), "4h": sig("4h", 30), "1d": sig("1d", 65)}, "BTC/USDT")
    assert agree.agreement == pytest.approx(1.0)
    assert mixed.agreement < 0.5 and mixed.confidence < agree.confidence
    assert mixed.score < agree.score
    with pytest.raises(ValueError):
        fuse({}, "BTC/USDT")


def test_quality_report_by_label_and_horizon():
    closes = [100, 110, 99, 99, 108.9, 100.0]
    c = from_closes(closes)
    labels = ["buy", "sell", "neutral", "buy", "strong sell", "neutral"]
    scores = pd.DataFrame({"label": labels}, index=c.index)
    q = signal_quality(c, scores, horizons=(1, 2), min_history=0)
    h1 = q[q.horizon == 1].set_index("label")
    assert h1.loc["buy", "count"] == 2
    assert h1.loc["buy", "mean_return_pct"] == pytest.approx((10 + 10) / 2)
    assert h1.loc["buy", "hit_rate"] == 1.0
    assert h1.loc["sell", "mean_return_pct"] == pytest.approx(-10) and h1.loc["sell", "hit_rate"] == 1.0
    assert h1.loc["strong sell", "hit_rate"] == 1.0   # 108.9 -> 100 fell
    base = np.array([10, -10, 0, 10, 100 / 108.9 * 100 - 100])
    assert h1.loc["all", "count"] == 5 and h1.loc["all", "mean_return_pct"] == pytest.approx(base.mean())
    assert h1.loc["buy", "base_hit_rate"] == pytest.approx(0.4)    # 2 of 5 bars rose
    assert h1.loc["sell", "base_hit_rate"] == pytest.approx(0.4)   # 2 of 5 fell
    assert h1.loc["buy", "edge_pct"] == pytest.approx(10 - base.mean())
    assert h1.loc["strong buy", "count"] == 0 and np.isnan(h1.loc["strong buy", "mean_return_pct"])
    h2 = q[q.horizon == 2].set_index("label")
    assert h2.loc["all", "count"] == 4   # the last two bars have no 2-bar forward return


def test_quality_on_score_series_and_bad_input():
    c = random_walk(700, "1h", seed=30)
    s = score_series(c, "1h")
    q = signal_quality(c, s, horizons=(1, 4))
    allrow = q[(q.horizon == 4) & (q.label == "all")].iloc[0]
    assert allrow["count"] == 700 - 200 - 4
    per_label = q[(q.horizon == 4) & (q.label != "all")]["count"].sum()
    assert per_label == allrow["count"]
    with pytest.raises(ValueError, match="label"):
        signal_quality(c, s.drop(columns="label"))
    with pytest.raises(ValueError, match="indexed"):
        signal_quality(c, s.iloc[1:])
    with pytest.raises(ValueError, match="horizons"):
        signal_quality(c, s, horizons=(0,))
