"""Incremental analysis (app.analysis.incremental): reusing an unchanged timeframe's result gives exactly
what a full recompute gives, minute after minute on random data, and a revised bar is recomputed."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.analysis.config import ScoringConfig
from app.analysis.incremental import FrameMemo, fingerprint
from app.analysis.scoring import analyze_frames
from tests.fakes.candles import make_candles

CONFIG = ScoringConfig(history_bars=300)


def _same(a, b):
    sig_a, fused_a, ev_a = a
    sig_b, fused_b, ev_b = b
    assert sig_a == sig_b
    assert fused_a == fused_b
    assert ev_a.keys() == ev_b.keys()
    for tf in ev_a:
        pd.testing.assert_frame_equal(ev_a[tf], ev_b[tf])


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_minute_by_minute_the_memo_equals_a_full_recompute(seed):
    rng = np.random.default_rng(seed)
    minutes = make_candles(300 + 240, start="2025-03-01T00:00:00Z", freq_s=60, seed=seed)
    hours = make_candles(300, start="2025-02-01T00:00:00Z", freq_s=3600, seed=seed + 1)
    days = make_candles(280, start="2024-05-01T00:00:00Z", freq_s=86400, seed=seed + 2)
    memo = FrameMemo()
    for step in range(12):
        end = 300 + step * int(rng.integers(1, 20))
        frames = {"1m": minutes.iloc[:end], "1h": hours.iloc[: 290 + step // 4], "1d": days}
        full = analyze_frames(frames, "BTC/USDT", CONFIG, events_bars=100)
        fast = analyze_frames(frames, "BTC/USDT", CONFIG, events_bars=100, memo=memo, memo_key="demo|BTC/USDT")
        _same(full, fast)
    assert memo.hits >= 12 + 8  # 1d every step after the first, 1h on most steps
    assert memo.misses >= 12  # 1m changed every step


def test_a_revised_bar_with_the_same_times_is_recomputed():
    hours = make_candles(300, start="2025-02-01T00:00:00Z", freq_s=3600, seed=3)
    memo = FrameMemo()
    before = analyze_frames({"1h": hours}, "ETH/USDT", CONFIG, events_bars=50, memo=memo)
    revised = hours.copy()
    last = revised.index[-1]
    revised.loc[last, "close"] = revised["close"].iloc[-1] * 1.08
    revised.loc[last, "high"] = max(revised.loc[last, "high"], revised.loc[last, "close"])
    fast = analyze_frames({"1h": revised}, "ETH/USDT", CONFIG, events_bars=50, memo=memo)
    full = analyze_frames({"1h": revised}, "ETH/USDT", CONFIG, events_bars=50)
    _same(full, fast)
    assert fast[0]["1h"] != before[0]["1h"]  # a memo keyed by the last bar time alone would have served this


def test_the_fingerprint_covers_every_bar_and_the_inputs_besides_the_bars():
    df = make_candles(50, seed=5)
    base = fingerprint(df, "1m", "BTC/USDT", CONFIG, None, 10)
    older = df.copy()
    older.iloc[3, older.columns.get_loc("volume")] += 1.0
    assert fingerprint(older, "1m", "BTC/USDT", CONFIG, None, 10) != base
    assert fingerprint(df, "1m", "ETH/USDT", CONFIG, None, 10) != base
    assert fingerprint(df, "1m", "BTC/USDT", ScoringConfig(history_bars=301), None, 10) != base
    assert fingerprint(df, "1m", "BTC/USDT", CONFIG, None, 10) == base


def test_memo_bounds_and_bad_size():
    memo = FrameMemo(maxsize=2)
    for k in "abc":
        memo.put(k, "fp", k)
    assert memo.get("a", "fp") is None and memo.get("c", "fp") == "c" and memo.get("c", "other") is None
    with pytest.raises(ValueError, match="maxsize"):
        FrameMemo(maxsize=0)
