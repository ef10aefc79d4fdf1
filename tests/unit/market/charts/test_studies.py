"""app.market.charts.studies: the chart's series come from app.analysis.indicators, on closed bars only."""
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from app.analysis.indicators import compute_indicators
from app.market.charts import studies
from tests.fakes.candles import make_candles

ALL = {"overlays": ["sma", "ema", "bb", "vwap"], "panes": ["volume", "rsi", "macd", "atr", "pup"], "sma": 20,
       "ema": 50}


def test_series_follow_the_spec_in_drawing_order():
    assert studies.series_names(ALL) == ["sma", "ema", "bb_upper", "bb_mid", "bb_lower", "vwap", "volume", "rsi",
                                         "macd", "macd_signal", "macd_hist", "atr"]
    assert studies.series_names({**ALL, "overlays": [], "panes": ["pup"]}) == []


def test_values_are_the_signal_indicators_values():
    df = make_candles(600)
    ref = compute_indicators(df, "1m")
    out = studies.compute(df, "1m", ALL)
    for ours, theirs in (("sma", "sma_20"), ("ema", "ema_50"), ("bb_upper", "bb_upper"), ("bb_lower", "bb_lower"),
                         ("vwap", "vwap"), ("rsi", "rsi_14"), ("macd", "macd"), ("macd_hist", "macd_hist"),
                         ("atr", "atr_14")):
        np.testing.assert_allclose(out[ours], ref[theirs].to_numpy(), equal_nan=True)
    np.testing.assert_array_equal(out["volume"], df["volume"].to_numpy())


def test_edited_periods_are_used():
    df = make_candles(100)
    out = studies.compute(df, "1m", {**ALL, "sma": 7, "ema": 9})
    assert np.isnan(out["sma"][5]) and out["sma"][6] == pytest.approx(df["close"].iloc[:7].mean())
    assert np.isnan(out["ema"][7]) and out["ema"][8] == pytest.approx(df["close"].iloc[:9].mean())


def test_vwap_is_empty_on_daily_bars():
    df = make_candles(30, freq_s=86400)
    assert np.isnan(studies.compute(df, "1d", {**ALL, "overlays": ["vwap"], "panes": []})["vwap"]).all()


def test_forming_bar_is_split_off_and_no_value_uses_it():
    df = make_candles(50)
    now = df.index[-1] + timedelta(seconds=30)
    closed, forming = studies.split_forming(df, "1m", now.to_pydatetime())
    assert len(closed) == 49 and list(forming.index) == [df.index[-1]]
    moved = df.copy()
    moved.iloc[-1, moved.columns.get_loc("close")] *= 2  # the forming bar moves: closed values do not
    a = studies.compute(closed, "1m", ALL)
    b = studies.compute(studies.split_forming(moved, "1m", now.to_pydatetime())[0], "1m", ALL)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    closed, forming = studies.split_forming(df, "1m", (df.index[-1] + pd.Timedelta(minutes=1)).to_pydatetime())
    assert len(closed) == 50 and len(forming) == 0


def test_a_tick_context_gives_the_full_figures_values_for_the_newest_bars():
    df = make_candles(1600)
    spec = {**ALL, "sma": 30, "ema": 80}
    full = studies.compute(df, "1m", spec)
    n = studies.context_bars(spec, "1m", df.index[-1])
    assert n == 5 * 80 + 20  # the session began 159 bars ago: VWAP needs fewer
    tick = studies.compute(df.iloc[-(n + 3):], "1m", spec)
    for k in full:
        np.testing.assert_allclose(tick[k][-3:], full[k][-3:], rtol=1e-6, err_msg=k)
    assert studies.context_bars({**ALL, "overlays": [], "panes": []}, "1m", df.index[-1]) == 0
