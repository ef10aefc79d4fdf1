"""app.marketdata: the checked candle frame — checked once, canonical, and never inherited by derived frames."""
import numpy as np
import pandas as pd
import pytest

from app.marketdata import CheckedCandles, candles_from_arrays, checked, is_checked


def _frame(n=5, tz="UTC", unit="ns"):
    idx = pd.date_range("2026-01-01", periods=n, freq="1h", tz=tz, name="t").as_unit(unit)
    base = np.arange(100.0, 100.0 + n)
    return pd.DataFrame({"open": base, "high": base + 1, "low": base - 1, "close": base, "volume": np.ones(n),
                         "extra": 1}, index=idx)


def test_checked_canonicalises_the_frame():
    df = checked(_frame(tz="Europe/Paris"), timeframe="1h")
    assert isinstance(df, CheckedCandles) and is_checked(df) and df.timeframe == "1h"
    assert list(df.columns) == ["open", "high", "low", "close", "volume"]
    assert str(df.index.tz) == "UTC" and df.index.unit == "us" and df.index.name == "time"
    assert checked(df) is df  # already checked: returned as is


def test_operations_on_a_checked_frame_give_plain_frames():
    df = checked(_frame())
    for derived in (df.iloc[1:], df.copy(), df * 2, df.iloc[::-1], df.sort_index()):
        assert type(derived) is pd.DataFrame and not is_checked(derived)


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.iloc[::-1], "strictly increasing"),
    (lambda f: pd.concat([f, f.iloc[-1:]]), "strictly increasing"),
    (lambda f: f.assign(close=[1.0, np.nan, 1.0, 1.0, 1.0]), "missing or infinite value"),
    (lambda f: f.drop(columns="volume"), "missing column"),
    (lambda f: f.tz_localize(None), "timezone-naive"),
])
def test_bad_frames_are_refused_with_the_reason(mutate, message):
    with pytest.raises(ValueError, match=message):
        checked(mutate(_frame()))


def test_candles_from_arrays_builds_a_checked_frame_without_copying_checks():
    times = np.array([0, 60_000_000], dtype="int64")
    df = candles_from_arrays(times, np.ones((2, 5)), "1m")
    assert is_checked(df) and df.index[1] == pd.Timestamp("1970-01-01 00:01", tz="UTC") and df.timeframe == "1m"
