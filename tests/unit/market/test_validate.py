"""validate_candles: each rule, strict vs partial mode, duplicates and ordering."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.market.validate import CandleValidationError, validate_candles
from tests.fakes.candles import make_candles


def frame(rows, start="2024-01-01T00:00Z", freq="1min", index=None):
    idx = index if index is not None else pd.date_range(start, periods=len(rows), freq=freq, name="time")
    return pd.DataFrame(rows, columns=["open", "high", "low", "close", "volume"], index=idx)


GOOD = [10.0, 12.0, 9.0, 11.0, 5.0]


def test_valid_frame_passes_unchanged():
    df = make_candles(50)
    res = validate_candles(df, "1m")
    pd.testing.assert_frame_equal(res.valid, df, check_freq=False, check_index_type=False)
    assert res.rejected == [] and res.duplicates == 0


@pytest.mark.parametrize("row, reason", [
    ([10, 12, 10.5, 11, 5], "low 10.5 is above min(open, close) 10"),
    ([10, 10.5, 9, 11, 5], "high 10.5 is below max(open, close) 11"),
    ([10, 12, 9, 11, -1], "volume -1 is negative"),
    ([np.nan, 12, 9, 11, 5], "open is missing"),
    ([10, np.inf, 9, 11, 5], "high is inf, not a finite number"),
    ([0, 12, 9, 11, 5], "prices must be > 0"),
])
def test_each_rule_rejects_with_a_reason(row, reason):
    df = frame([GOOD, row, GOOD])
    with pytest.raises(CandleValidationError, match=reason.replace("(", r"\(").replace(")", r"\)")) as ei:
        validate_candles(df, "1m")
    (rej,) = ei.value.rejections
    assert rej.row == 1 and rej.time == df.index[1]
    res = validate_candles(df, "1m", partial=True)
    assert len(res.valid) == 2 and df.index[1] not in res.valid.index
    assert reason in res.rejected[0].reason


def test_strict_mode_lists_every_bad_row():
    df = frame([GOOD, [10, 9, 9, 11, 5], GOOD, [10, 12, 9, 11, -3]])
    with pytest.raises(CandleValidationError) as ei:
        validate_candles(df, "1m")
    assert [r.row for r in ei.value.rejections] == [1, 3]
    assert "2 invalid 1m candle(s)" in str(ei.value)
    assert "2024-01-01T00:03:00+00:00: volume -3 is negative" in str(ei.value)


def test_unaligned_open_time_is_rejected():
    idx = pd.DatetimeIndex(["2024-01-01T00:00Z", "2024-01-01T00:05Z", "2024-01-01T00:07Z"], name="time")
    res = validate_candles(frame([GOOD] * 3, index=idx), "5m", partial=True)
    assert list(res.valid.index) == list(idx[:2])
    assert res.rejected[0].reason == "open time is not aligned to a 5m boundary"


def test_out_of_order_input_is_sorted():
    df = make_candles(10)
    shuffled = df.iloc[[3, 1, 0, 9, 2, 8, 4, 7, 6, 5]]
    res = validate_candles(shuffled, "1m")
    pd.testing.assert_frame_equal(res.valid, df, check_freq=False, check_index_type=False)


def test_duplicates_keep_the_last_occurrence():
    idx = pd.DatetimeIndex(["2024-01-01T00:00Z", "2024-01-01T00:01Z", "2024-01-01T00:00Z"], name="time")
    newer = [10.0, 13.0, 9.0, 12.0, 7.0]
    res = validate_candles(frame([GOOD, GOOD, newer], index=idx), "1m")
    assert res.duplicates == 1
    assert len(res.valid) == 2
    assert res.valid.iloc[0].tolist() == newer
    assert res.valid.index.is_monotonic_increasing


def test_other_time_zones_are_converted_and_naive_refused():
    idx = pd.date_range("2024-01-01T01:00", periods=2, freq="1min", tz="Europe/Paris", name="time")
    res = validate_candles(frame([GOOD, GOOD], index=idx), "1m")
    assert str(res.valid.index.tz) == "UTC" and res.valid.index[0] == pd.Timestamp("2024-01-01T00:00Z")
    naive = pd.date_range("2024-01-01", periods=2, freq="1min", name="time")
    with pytest.raises(ValueError, match="timezone-naive"):
        validate_candles(frame([GOOD, GOOD], index=naive), "1m")


def test_structural_problems_raise_value_error():
    with pytest.raises(ValueError, match="missing column"):
        validate_candles(frame([GOOD]).drop(columns="volume"), "1m")
    with pytest.raises(ValueError, match="DatetimeIndex"):
        validate_candles(frame([GOOD]).reset_index(drop=True), "1m")
    with pytest.raises(ValueError, match="unknown timeframe"):
        validate_candles(frame([GOOD]), "3m")


def test_output_is_float64_canonical():
    df = frame([[10, 12, 9, 11, 5]]).astype("int64")
    res = validate_candles(df, "1m")
    assert all(res.valid.dtypes == "float64") and res.valid.index.name == "time"


def test_a_bar_time_past_2262_is_a_refused_row_not_an_out_of_bounds_error():
    """A garbled seconds-unit index a nanosecond index cannot hold (found by fuzzing)."""
    from app.marketdata import OHLCV

    frame = pd.DataFrame({c: [1.0, 1.0] for c in OHLCV},
                         index=pd.DatetimeIndex(pd.to_datetime([0, 9_224_000_000], unit="s", utc=True), name="time"))
    result = validate_candles(frame, "1m", partial=True)
    assert len(result.valid) == 1 and "outside the years 1677-2262" in result.rejected[0].reason
    with pytest.raises(CandleValidationError):
        validate_candles(frame, "1m", partial=False)
