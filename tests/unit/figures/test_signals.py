"""app.figures.signals: what the Signals page draws from snapshots and stored rows."""
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from app.analysis.scoring import analyze_frames
from app.analysis.snapshot import build_snapshot, event_records
from app.figures import signals as views
from tests.unit.analysis.analysis_synth import DEMO_END, demo_frames, demo_snapshot

END = DEMO_END


@pytest.fixture(scope="module")
def frames():
    return demo_frames()


@pytest.fixture(scope="module")
def snapshot(frames):
    return demo_snapshot(frames)


def test_heatmap_has_a_cell_per_symbol_and_timeframe_on_a_fixed_0_100_scale(snapshot):
    fig = views.heatmap_figure({"BTC/USDT": snapshot, "ETH/USDT": None})
    hm = fig.data[0]
    assert list(hm.x) == ["1m", "5m", "15m", "1h", "4h", "1d", "fused"]
    assert list(hm.y) == ["BTC/USDT", "ETH/USDT"]
    assert hm.z[0][3] == snapshot["timeframes"]["1h"]["score"] and hm.z[0][6] == snapshot["fused"]["score"]
    assert all(v is None for v in hm.z[1])
    assert (hm.zmin, hm.zmax) == (0, 100)
    assert hm.colorscale[0][1].lower() == "#c62828" and hm.colorscale[-1][1].lower() == "#2e7d32"


def test_overview_rows_age_and_placeholder(snapshot):
    now = END.replace(minute=30)
    rows = views.overview_rows({"BTC/USDT": snapshot, "ETH/USDT": None}, now)
    assert rows[0]["age_min"] == 30.0 and rows[0]["score"] == round(snapshot["fused"]["score"], 1)
    assert rows[0]["reasons"] == " · ".join(snapshot["top_reasons"])
    assert rows[1] == {"symbol": "ETH/USDT", "score": None, "label": "no signal yet", "confidence": None,
                       "reasons": "", "bar_time": "", "age_min": None}


def test_breakdown_is_ordered_by_share_and_keeps_points(snapshot):
    parts = views.breakdown(snapshot)
    shares = [p["share"] for p in parts]
    assert shares == sorted(shares, reverse=True) and len(parts) == len(snapshot["timeframes"])
    one = next(p for p in parts if p["timeframe"] == "1h")
    assert one["reasons"] == [(r["text"], r["points"]) for r in snapshot["timeframes"]["1h"]["reasons"]]


def test_event_markers_sit_below_lows_for_bullish_and_above_highs_for_bearish(frames):
    candles = frames["1h"].iloc[-50:]
    t_up, t_down = candles.index[10], candles.index[20]
    events = [{"time": t_up.isoformat(), "event": "hammer", "kind": "candle", "direction": 1, "strength": 0.5},
              {"time": t_down.isoformat(), "event": "sr_break", "kind": "technical", "direction": -1,
               "strength": 0.9},
              {"time": frames["1h"].index[0].isoformat(), "event": "doji", "kind": "candle", "direction": 1,
               "strength": 0.3}]  # outside the window: not drawn
    fig = views.events_figure(candles, events, "t")
    bull = next(t for t in fig.data if t.name == "bullish event")
    bear = next(t for t in fig.data if t.name == "bearish event")
    assert list(pd.to_datetime(bull.x, utc=True)) == [t_up] and bull.y[0] < candles.loc[t_up, "low"]
    assert list(pd.to_datetime(bear.x, utc=True)) == [t_down] and bear.y[0] > candles.loc[t_down, "high"]
    assert "sr_break" in bear.text[0]


def test_history_figure_draws_fused_thicker():
    t = pd.date_range(END, periods=4, freq="h", tz="UTC")
    hist = pd.DataFrame({"timeframe": ["1h"] * 4 + ["fused"] * 2, "bar_time": list(t) + list(t[2:]),
                         "score": [40, 50, 60, 70, 55, 65], "confidence": 0.5, "label": "neutral"})
    fig = views.history_figure(hist, "BTC/USDT")
    lines = {tr.name: tr for tr in fig.data}
    assert set(lines) == {"1h", "fused"} and list(lines["1h"].y) == [40, 50, 60, 70]
    assert lines["fused"].line.width > lines["1h"].line.width


def test_quality_rows_drop_empty_labels_and_nan():
    report = pd.DataFrame([
        {"timeframe": "1h", "horizon": 1, "label": "buy", "count": 12, "mean_return_pct": 0.123456,
         "base_mean_return_pct": 0.01, "edge_pct": 0.113456, "hit_rate": 0.58333, "base_hit_rate": 0.5},
        {"timeframe": "1h", "horizon": 1, "label": "strong buy", "count": 0, "mean_return_pct": np.nan,
         "base_mean_return_pct": 0.01, "edge_pct": np.nan, "hit_rate": np.nan, "base_hit_rate": 0.5},
        {"timeframe": "1h", "horizon": 1, "label": "all", "count": 50, "mean_return_pct": 0.01,
         "base_mean_return_pct": 0.01, "edge_pct": 0.0, "hit_rate": np.nan, "base_hit_rate": np.nan},
    ])
    rows = views.quality_rows(report)
    assert [r["label"] for r in rows] == ["buy", "all"]
    assert rows[0]["hit_rate"] == 0.583 and rows[0]["mean_return_pct"] == 0.1235
    assert rows[1]["hit_rate"] is None
