"""Scoring: monotonicity, confidence, labels, reasons, no look-ahead, bounded tail."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tests.unit.analysis.analysis_synth import from_closes, random_walk
from app.analysis.config import ScoringConfig
from app.analysis.patterns import EVENTS
from app.analysis.scoring import (analyze_latest, combine, component_points, labels_for, score_latest,
                                  score_series)
from app.analysis.types import Prediction

CFG = ScoringConfig()
# reading -> +1 if a larger value is more bullish, -1 if a smaller one is
BULLISH_DIRECTION = {"close_ema20": 1, "ema20_ema50": 1, "ema50_ema200": 1, "di_spread": 1,
                     "macd_hist_atr": 1, "rsi": -1, "stoch_k": -1, "vwap_atr": 1, "obv_flow": 1}


def random_readings(rng, n):
    return {
        "close_ema20": rng.normal(0, 2, n), "ema20_ema50": rng.normal(0, 2, n),
        "ema50_ema200": rng.normal(0, 3, n), "di_spread": rng.uniform(-1, 1, n),
        "adx": rng.uniform(0, 60, n), "macd_hist_atr": rng.normal(0, 0.4, n),
        "rsi": rng.uniform(0, 100, n), "stoch_k": rng.uniform(0, 100, n),
        "vwap_atr": rng.normal(0, 1.5, n), "obv_flow": rng.uniform(-1, 1, n),
    }


def random_events(rng, n, p=0.05):
    out = {}
    for name in EVENTS:
        d = (rng.random(n) < p) * rng.choice([-1, 1], n)
        out[name] = (d.astype(np.int8), np.where(d != 0, rng.uniform(0.1, 1, n), 0.0))
    return out


def score_of(r, ev, cfg=CFG, bars=None):
    pts, avail = component_points(r, ev, cfg)
    n = len(r["rsi"])
    return combine(pts, avail, np.full(n, 300.0) if bars is None else bars, cfg)


@pytest.mark.parametrize("seed", range(5))
def test_more_bullish_reading_never_lowers_score(seed):
    rng = np.random.default_rng(seed)
    n = 4000
    r, ev = random_readings(rng, n), random_events(rng, n)
    base, _ = score_of(r, ev)
    for key, sign in BULLISH_DIRECTION.items():
        bumped = dict(r)
        bumped[key] = r[key] + sign * rng.exponential(1.0 if key not in ("rsi", "stoch_k") else 15.0, n)
        if key in ("rsi", "stoch_k"):
            bumped[key] = np.clip(bumped[key], 0, 100)
        if key == "di_spread":
            bumped[key] = np.clip(bumped[key], -1, 1)
        new, _ = score_of(bumped, ev)
        assert (new >= base - 1e-12).all(), key
        assert (new > base).any(), key   # and the reading does move the score somewhere


@pytest.mark.parametrize("seed", range(5))
def test_more_bullish_events_never_lower_score(seed):
    rng = np.random.default_rng(100 + seed)
    n = 4000
    r, ev = random_readings(rng, n), random_events(rng, n)
    base, _ = score_of(r, ev)
    for name in EVENTS:
        d, s = ev[name]
        add = rng.random(n) < 0.1
        new_d = np.where(add & (d == 0), 1, d).astype(np.int8)          # a new bullish event
        new_d = np.where(add & (d == -1), 0, new_d).astype(np.int8)    # or a bearish one removed
        new_s = np.where((new_d == 1) & (d == 0), rng.uniform(0.1, 1, n), s)
        new_s = np.where((d == 1) & add, np.minimum(1.0, s + 0.3), new_s)  # or a stronger bullish one
        changed = dict(ev)
        changed[name] = (new_d, np.where(new_d != 0, new_s, 0.0))
        new, _ = score_of(r, changed)
        assert (new >= base - 1e-12).all(), name
        assert (new > base).any(), name


def test_model_prediction_is_monotone_and_explained():
    c = random_walk(400, "1h", seed=4)
    lo = score_latest(c, "1h", "ETH/USDT", prediction=Prediction(-0.5, 0.4, "v6"))
    mid = score_latest(c, "1h", "ETH/USDT", prediction=Prediction(0.2, 0.55, "v7"))
    hi = score_latest(c, "1h", "ETH/USDT", prediction=Prediction(0.9, 0.7, "v7"))
    assert lo.score <= mid.score <= hi.score and lo.score < hi.score
    assert hi.model_version == "v7"
    model = [r for r in hi.reasons if r.component == "model"]
    assert model and model[0].text.startswith("Model +0.90% next bar, p_up 0.70, v7 on 1h: +")
    with pytest.raises(ValueError, match="p_up"):
        Prediction(0.1, 1.5, "v1")


def test_confidence_drops_when_components_disagree():
    rng = np.random.default_rng(7)
    n = 3000
    r = random_readings(rng, n)
    # everything bullish
    agree = dict(r, close_ema20=np.abs(r["close_ema20"]) + .1, ema20_ema50=np.abs(r["ema20_ema50"]) + .1,
                 ema50_ema200=np.abs(r["ema50_ema200"]) + .1, di_spread=np.abs(r["di_spread"]) + .01,
                 macd_hist_atr=np.abs(r["macd_hist_atr"]) + .01, rsi=rng.uniform(5, 29, n),
                 stoch_k=rng.uniform(5, 19, n), vwap_atr=np.abs(r["vwap_atr"]) + .1,
                 obv_flow=np.abs(r["obv_flow"]) + .01, adx=rng.uniform(10, 60, n))
    none = {k: (np.zeros(n, np.int8), np.zeros(n)) for k in EVENTS}
    _, conf_agree = score_of(agree, none)
    for keys in (["macd_hist_atr"], ["close_ema20", "ema20_ema50", "ema50_ema200"], ["obv_flow"],
                 ["di_spread"], ["vwap_atr"]):
        dis = dict(agree)
        for key in keys:   # this component now points the other way
            dis[key] = -agree[key]
        _, conf_dis = score_of(dis, none)
        assert (conf_dis < conf_agree).all(), keys
    dis = dict(agree, rsi=rng.uniform(71, 95, n))
    assert (score_of(dis, none)[1] < conf_agree).all()


def test_confidence_drops_when_data_is_thin():
    c = random_walk(600, "1h", seed=8)
    s = score_series(c, "1h")
    assert s["confidence"].iloc[:30].max() < 0.2     # indicators still warming up
    full = score_series(c.iloc[-300:], "1h")["confidence"].iloc[-1]
    thin = score_series(c.iloc[-100:], "1h")["confidence"].iloc[-1]
    assert thin < full


def test_labels_and_cut_points():
    score = np.array([0, 20, 20.01, 39.99, 40, 60, 60.01, 79.99, 80, 100])
    assert labels_for(score, CFG).tolist() == ["strong sell", "strong sell", "sell", "sell", "neutral",
                                               "neutral", "buy", "buy", "strong buy", "strong buy"]


def test_score_at_t_uses_no_future_bars():
    c = random_walk(450, "15m", seed=12)
    full = score_series(c, "15m")
    for t in [0, 5, 19, 33, 60, 120, 199, 200, 201, 260, 333, 420, 449]:
        part = score_series(c.iloc[: t + 1], "15m").iloc[-1]
        row = full.iloc[t]
        assert part["score"] == pytest.approx(row["score"], abs=1e-9), t
        assert part["confidence"] == pytest.approx(row["confidence"], abs=1e-12), t
        assert part["label"] == row["label"], t


def test_score_latest_matches_series_and_reasons_add_up():
    c = random_walk(500, "1h", seed=13)
    sig = score_latest(c, "1h", "btc/usdt")
    row = score_series(c, "1h").iloc[-1]
    assert sig.symbol == "BTC/USDT" and sig.bar_time == c.index[-1]
    assert sig.score == pytest.approx(row["score"]) and sig.confidence == pytest.approx(row["confidence"])
    assert sig.label == row["label"]
    pts = [r.points for r in sig.reasons]
    assert pts == sorted(pts, key=lambda p: -abs(p))
    if 0 < sig.score < 100:
        assert sum(pts) == pytest.approx(sig.score - 50, abs=0.05 * (len(pts) + 1))
    for r in sig.reasons:
        assert re.search(r" on 1h.*: [+-]\d+\.\d$", r.text), r.text
    d = json.loads(json.dumps(sig.to_dict()))
    assert d["symbol"] == "BTC/USDT" and d["reasons"][0]["text"] == sig.reasons[0].text


def test_oversold_rsi_is_a_reason():
    closes = list(np.linspace(100, 120, 250)) + list(120 * np.exp(-0.012 * np.arange(1, 25)))
    sig = score_latest(from_closes(closes), "1h", "BTC/USDT")
    rsi = [r for r in sig.reasons if r.component == "rsi"]
    assert rsi and re.match(r"RSI\(14\)=\d+\.\d oversold on 1h: \+\d+\.\d$", rsi[0].text)
    assert rsi[0].points > 7


def test_analyze_latest_bounded_tail_equals_full_recompute():
    cfg = ScoringConfig()
    long = random_walk(cfg.history_bars + 3000, "5m", seed=14)
    signals, fused = analyze_latest({"5m": long, "1h": random_walk(300, "1h", seed=15)}, "BTC/USDT", cfg)
    full = score_series(long, "5m", cfg).iloc[-1]
    assert signals["5m"].score == pytest.approx(full["score"], abs=1e-6)
    assert signals["5m"].confidence == pytest.approx(full["confidence"], abs=1e-6)
    assert set(signals) == {"5m", "1h"} and fused.symbol == "BTC/USDT"
    json.dumps(fused.to_dict())


def test_short_history_is_neutral_with_no_confidence():
    one = random_walk(1, "1h", seed=1)
    s = score_series(one, "1h")
    assert s["score"].tolist() == [50.0] and s["confidence"].tolist() == [0.0]
    signals, fused = analyze_latest({"1h": one}, "BTC/USDT")
    assert signals["1h"].label == "neutral" and fused.confidence == 0.0


def test_bad_input_is_refused():
    c = random_walk(100, "1h", seed=1)
    with pytest.raises(ValueError, match="symbol"):
        score_latest(c, "1h", "BTCUSDT")
    with pytest.raises(ValueError, match="timeframe"):
        score_series(c, "3h")
    with pytest.raises(ValueError, match="no candles"):
        score_series(c.iloc[:0], "1h")
    with pytest.raises(ValueError, match="non-empty dict"):
        analyze_latest({}, "BTC/USDT")


def test_config_round_trip_and_validation():
    cfg = ScoringConfig(event_decay=0.5)
    d = json.loads(json.dumps(cfg.to_dict()))
    assert ScoringConfig.from_dict(d) == cfg
    with pytest.raises(ValueError, match=">= 0"):
        ScoringConfig(component_weights={"rsi": -1.0})
    with pytest.raises(ValueError, match="unknown"):
        ScoringConfig.from_dict({"nope": 1})
    with pytest.raises(ValueError, match="label_cuts"):
        ScoringConfig(label_cuts=(40, 20, 60, 80))
    # a zero weight removes the component from the score
    c = random_walk(400, "1h", seed=3)
    w = dict(CFG.component_weights, rsi=0.0, stoch=0.0)
    s = score_series(c, "1h", ScoringConfig(component_weights=w))
    assert (s["pts_rsi"] == 0).all() and (s["pts_stoch"] == 0).all()
