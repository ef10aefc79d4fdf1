"""Indicators against independent textbook computations and between engines."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.analysis.indicators import INDICATOR_COLUMNS, WARMUP_BARS, compute_indicators, tail_start

from tests.unit.analysis.analysis_synth import random_walk


def wilder_rsi(close: np.ndarray, n: int = 14) -> np.ndarray:
    d = np.diff(close)
    gain, loss = np.clip(d, 0, None), np.clip(-d, 0, None)
    out = np.full(len(close), np.nan)
    ag, al = gain[:n].mean(), loss[:n].mean()
    out[n] = 100 - 100 / (1 + ag / al)
    for i in range(n, len(d)):
        ag = (ag * (n - 1) + gain[i]) / n
        al = (al * (n - 1) + loss[i]) / n
        out[i + 1] = 100 - 100 / (1 + ag / al)
    return out


def wilder_atr(h, l, c, n=14):
    tr = np.maximum.reduce([h[1:] - l[1:], np.abs(h[1:] - c[:-1]), np.abs(l[1:] - c[:-1])])
    out = np.full(len(c), np.nan)
    a = tr[:n].mean()
    out[n] = a
    for i in range(n, len(tr)):
        a = (a * (n - 1) + tr[i]) / n
        out[i + 1] = a
    return out


def textbook_ema(c, n):
    out = np.full(len(c), np.nan)
    e = c[:n].mean()
    out[n - 1] = e
    k = 2 / (n + 1)
    for i in range(n, len(c)):
        e = c[i] * k + e * (1 - k)
        out[i] = e
    return out


@pytest.fixture(scope="module")
def candles():
    return random_walk(600, "1h", seed=3)


@pytest.fixture(scope="module")
def ind(candles):
    return compute_indicators(candles, "1h")


def test_columns_and_index(candles, ind):
    assert list(ind.columns) == INDICATOR_COLUMNS
    assert ind.index.equals(candles.index)
    assert (ind.dtypes == "float64").all()


def test_rsi_is_wilders(candles, ind):
    np.testing.assert_allclose(ind["rsi_14"].to_numpy(), wilder_rsi(candles["close"].to_numpy()), rtol=1e-10,
                               equal_nan=True)


def test_sma_and_ema_textbook(candles, ind):
    c = candles["close"]
    for n in (20, 50, 200):
        np.testing.assert_allclose(ind[f"sma_{n}"], c.rolling(n).mean(), rtol=1e-10, equal_nan=True)
        np.testing.assert_allclose(ind[f"ema_{n}"], textbook_ema(c.to_numpy(), n), rtol=1e-10, equal_nan=True)


def test_bollinger_uses_population_std(candles, ind):
    c = candles["close"]
    mid, sd0 = c.rolling(20).mean(), c.rolling(20).std(ddof=0)
    np.testing.assert_allclose(ind["bb_upper"], mid + 2 * sd0, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(ind["bb_lower"], mid - 2 * sd0, rtol=1e-9, equal_nan=True)
    width = (ind["bb_upper"] - ind["bb_lower"]).dropna()
    sample_width = (4 * c.rolling(20).std(ddof=1)).dropna()
    # the sample (ddof=1) convention is sqrt(20/19) wider: clearly not what we compute
    np.testing.assert_allclose(sample_width / width, np.sqrt(20 / 19), rtol=1e-6)
    pct = (c - ind["bb_lower"]) / (ind["bb_upper"] - ind["bb_lower"])
    np.testing.assert_allclose(ind["bb_percent"], pct, rtol=1e-9, equal_nan=True)


def test_obv_changes_are_signed_volume(candles, ind):
    c, v = candles["close"].to_numpy(), candles["volume"].to_numpy()
    expected = np.sign(np.diff(c)) * v[1:]
    np.testing.assert_allclose(np.diff(ind["obv"].to_numpy()), expected, rtol=1e-9)


def test_atr_is_wilders(candles, ind):
    h, l, c = (candles[k].to_numpy() for k in ("high", "low", "close"))
    np.testing.assert_allclose(ind["atr_14"].to_numpy(), wilder_atr(h, l, c), rtol=1e-10, equal_nan=True)


def test_stochastic_14_3_3(candles, ind):
    ll, hh = candles["low"].rolling(14).min(), candles["high"].rolling(14).max()
    raw = 100 * (candles["close"] - ll) / (hh - ll)
    k = raw.rolling(3).mean()
    d = k.rolling(3).mean()
    np.testing.assert_allclose(ind["stoch_k"].iloc[40:], k.iloc[40:], rtol=1e-8)
    np.testing.assert_allclose(ind["stoch_d"].iloc[40:], d.iloc[40:], rtol=1e-8)


def test_volume_z_excludes_current_bar(candles, ind):
    v = candles["volume"].to_numpy()
    t = 100
    window = v[t - 20:t]
    assert ind["volume_z"].iloc[t] == pytest.approx((v[t] - window.mean()) / window.std(ddof=0), rel=1e-9)


def test_vwap_resets_at_utc_midnight():
    idx = pd.date_range("2024-03-01 22:00", periods=4, freq="1h", tz="UTC", name="time")
    c = pd.DataFrame({"open": [10, 11, 12, 13.0], "high": [12, 13, 14, 15.0], "low": [8, 9, 10, 11.0],
                      "close": [10, 11, 12, 13.0], "volume": [1, 3, 2, 2.0]}, index=idx)
    vw = compute_indicators(c, "1h")["vwap"].to_numpy()
    tp = np.array([10, 11, 12, 13.0])
    assert vw[0] == pytest.approx(10.0)
    assert vw[1] == pytest.approx((10 * 1 + 11 * 3) / 4)
    assert vw[2] == pytest.approx(12.0)          # new session at 00:00 UTC
    assert vw[3] == pytest.approx((12 * 2 + 13 * 2) / 4)
    assert tp.shape == vw.shape
    assert compute_indicators(c, "1d")["vwap"].isna().all()  # not applicable on daily bars


def test_talib_fast_path_matches_pandas_ta():
    c = random_walk(1500, "15m", seed=11)
    fast = compute_indicators(c, "15m")
    ref = compute_indicators(c, "15m", engine="pandas_ta")
    for col in INDICATOR_COLUMNS:
        a, b = fast[col].to_numpy(), ref[col].to_numpy()
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=col)
        if col in ("plus_di_14", "minus_di_14"):
            # pandas-ta has no +DI/-DI on its TA-Lib path; ours agree once the seed decayed
            np.testing.assert_allclose(a[300:], b[300:], atol=1e-6, err_msg=col)
        elif col in ("vwap", "volume_z"):
            np.testing.assert_allclose(a, b, rtol=1e-9, equal_nan=True, err_msg=col)
        else:
            np.testing.assert_array_equal(a, b, err_msg=col)  # the same TA-Lib kernels


def test_bounded_tail_agrees_with_full_recompute():
    c = random_walk(WARMUP_BARS + 4000, "5m", seed=5)
    full = compute_indicators(c, "5m")
    last = 500
    tail = compute_indicators(c, "5m", last=last)
    assert tail.index.equals(c.index[-last:])
    ref = full.iloc[-last:]
    for col in INDICATOR_COLUMNS:
        if col == "obv":  # level depends on the anchor; its changes do not
            np.testing.assert_allclose(np.diff(tail[col]), np.diff(ref[col]), rtol=1e-9)
            continue
        scale = max(1.0, float(np.nanmax(np.abs(ref[col]))))
        assert np.nanmax(np.abs(tail[col] - ref[col])) <= 1e-8 * scale, col
    start = tail_start(c.index, last)
    assert c.index[start] == c.index[start].floor("D")  # starts on a UTC session boundary
    assert len(c) - start >= last + WARMUP_BARS


def test_values_use_no_future_bars(candles, ind):
    for t in (30, 120, 250, 599):
        part = compute_indicators(candles.iloc[: t + 1], "1h")
        np.testing.assert_allclose(part.iloc[-1].to_numpy(), ind.iloc[t].to_numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("mutate, message", [
    (lambda df: df.tz_localize(None), "UTC"),
    (lambda df: df.drop(columns="volume"), "missing column"),
    (lambda df: df.iloc[::-1], "strictly increasing"),
    (lambda df: df["close"], "DataFrame"),
    (lambda df: df.assign(close=df["close"].where(df.index != df.index[50])), "NaN"),
])
def test_bad_candles_are_refused(candles, mutate, message):
    with pytest.raises(ValueError, match=message):
        compute_indicators(mutate(candles), "1h")


def test_bad_arguments_are_refused(candles):
    with pytest.raises(ValueError, match="unknown timeframe"):
        compute_indicators(candles, "2h")
    with pytest.raises(ValueError, match="engine"):
        compute_indicators(candles, "1h", engine="numba")
    with pytest.raises(ValueError, match="last"):
        compute_indicators(candles, "1h", last=0)
