"""resample_candles against hand-computed bars; alignment and the complete-bars-only rule."""
from __future__ import annotations

import pandas as pd
import pytest

from app.market.resample import resample_candles, resample_many
from tests.fakes.candles import make_candles


def minutes(rows, start="2024-01-01T00:00Z"):
    idx = pd.date_range(start, periods=len(rows), freq="1min", name="time")
    return pd.DataFrame(rows, columns=["open", "high", "low", "close", "volume"], index=idx)


# Ten 1m bars, computed by hand into two 5m bars below.
TEN = minutes([
    [10, 11, 9, 10.5, 1], [10.5, 12, 10, 11, 2], [11, 11.5, 8, 9, 3], [9, 10, 8.5, 9.5, 4], [9.5, 9.8, 9.1, 9.7, 5],
    [9.7, 9.9, 9.0, 9.2, 1], [9.2, 13, 9.2, 12, 1], [12, 12.5, 11, 11.5, 1], [11.5, 11.6, 7, 8, 1], [8, 8.5, 7.5, 8.2, 1],
])


def test_five_minute_bars_match_hand_computed_values():
    out = resample_candles(TEN, "1m", "5m")
    assert list(out.index) == [pd.Timestamp("2024-01-01T00:00Z"), pd.Timestamp("2024-01-01T00:05Z")]
    assert out.iloc[0].tolist() == [10, 12, 8, 9.7, 15]
    assert out.iloc[1].tolist() == [9.7, 13, 7, 8.2, 5]
    assert out.index.name == "time" and str(out.index.tz) == "UTC"


def test_partial_trailing_bar_is_excluded():
    out = resample_candles(TEN.iloc[:8], "1m", "5m")  # 00:05 bar has only 3 of 5 minutes
    assert list(out.index) == [pd.Timestamp("2024-01-01T00:00Z")]
    both = resample_candles(TEN.iloc[:8], "1m", "5m", include_incomplete=True)
    assert both.iloc[1].tolist() == [9.7, 13, 9.0, 11.5, 3]


def test_bar_with_a_hole_is_excluded():
    out = resample_candles(TEN.drop(TEN.index[2]), "1m", "5m")
    assert list(out.index) == [pd.Timestamp("2024-01-01T00:05Z")]


def test_bars_align_to_utc_epoch_boundaries():
    # Start at 02:30: the first complete 4h bar is 04:00-08:00, not 02:30-06:30.
    df = make_candles(60 * 10, start="2024-01-01T02:30Z")
    out = resample_candles(df, "1m", "4h")
    assert list(out.index) == [pd.Timestamp("2024-01-01T04:00Z"), pd.Timestamp("2024-01-01T08:00Z")]
    window = df.loc["2024-01-01T04:00Z":"2024-01-01T07:59Z"]
    assert out.iloc[0].tolist() == pytest.approx([window.open.iloc[0], window.high.max(), window.low.min(),
                                                 window.close.iloc[-1], window.volume.sum()])


def test_daily_bars_open_at_midnight_utc():
    df = make_candles(60 * 24 * 2 + 30, start="2024-03-01T00:00Z")
    out = resample_candles(df, "1m", "1d")
    assert list(out.index) == [pd.Timestamp("2024-03-01T00:00Z"), pd.Timestamp("2024-03-02T00:00Z")]


def test_chained_resampling_agrees_with_direct():
    df = make_candles(60 * 24 * 3)
    direct = resample_candles(df, "1m", "4h")
    via_hour = resample_candles(resample_candles(df, "1m", "1h"), "1h", "4h")
    pd.testing.assert_frame_equal(direct, via_hour)
    many = resample_many(df, "1m", ["5m", "15m", "1h", "4h", "1d"])
    assert [len(many[k]) for k in ("5m", "15m", "1h", "4h", "1d")] == [864, 288, 72, 18, 3]


def test_invalid_requests_are_refused():
    with pytest.raises(ValueError, match="whole multiple"):
        resample_candles(TEN, "5m", "1m")
    with pytest.raises(ValueError, match="not aligned to 5m"):
        resample_candles(TEN, "5m", "15m")
    with pytest.raises(ValueError, match="duplicate"):
        resample_candles(pd.concat([TEN, TEN.iloc[:1]]), "1m", "5m")
    assert resample_candles(TEN.iloc[:0], "1m", "5m").empty
