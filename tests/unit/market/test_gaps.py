"""find_gaps: missing runs as half-open ranges, bounds, alignment."""
from __future__ import annotations

import pandas as pd
import pytest

from app.market.gaps import closed_until, find_gaps, floor_time, missing_count


def ts(s):
    return pd.Timestamp(s, tz="UTC")


IDX = pd.DatetimeIndex([ts("2024-01-01 00:00"), ts("2024-01-01 00:01"), ts("2024-01-01 00:04"),
                        ts("2024-01-01 00:05"), ts("2024-01-01 00:07")], name="time")


def test_inner_gaps_as_half_open_ranges():
    assert find_gaps(IDX, "1m") == [(ts("2024-01-01 00:02"), ts("2024-01-01 00:04")),
                                    (ts("2024-01-01 00:06"), ts("2024-01-01 00:07"))]
    assert missing_count(find_gaps(IDX, "1m"), "1m") == 3


def test_leading_and_trailing_gaps_with_explicit_bounds():
    gaps = find_gaps(IDX, "1m", start=ts("2023-12-31 23:58"), end=ts("2024-01-01 00:10"))
    assert gaps[0] == (ts("2023-12-31 23:58"), ts("2024-01-01 00:00"))
    assert gaps[-1] == (ts("2024-01-01 00:08"), ts("2024-01-01 00:10"))
    assert missing_count(gaps, "1m") == 2 + 3 + 2


def test_bounds_restrict_the_search():
    assert find_gaps(IDX, "1m", start=ts("2024-01-01 00:04"), end=ts("2024-01-01 00:06")) == []
    assert find_gaps(IDX, "1m", start=ts("2024-01-01 00:03"), end=ts("2024-01-01 00:07")) == [
        (ts("2024-01-01 00:03"), ts("2024-01-01 00:04")), (ts("2024-01-01 00:06"), ts("2024-01-01 00:07"))]


def test_unaligned_start_rounds_up_and_end_is_exclusive():
    gaps = find_gaps(pd.DatetimeIndex([], tz="UTC"), "1h", start=ts("2024-01-01 00:30"),
                     end=ts("2024-01-01 03:00"))
    assert gaps == [(ts("2024-01-01 01:00"), ts("2024-01-01 03:00"))]
    assert missing_count(gaps, "1h") == 2


def test_complete_and_empty_inputs():
    full = pd.date_range("2024-01-01", periods=100, freq="1min", tz="UTC")
    assert find_gaps(full, "1m") == []
    assert find_gaps(pd.DatetimeIndex([], tz="UTC"), "1m") == []
    assert find_gaps(full.append(full[:3]), "1m") == []  # duplicates and order do not matter


def test_closed_until_excludes_the_forming_bar():
    now = ts("2024-01-01 05:17:42")
    assert closed_until(now, "1h") == ts("2024-01-01 05:00")
    assert floor_time(now, "4h") == ts("2024-01-01 04:00")
    assert floor_time(now, "1d") == ts("2024-01-01 00:00")
    gaps = find_gaps(pd.DatetimeIndex([ts("2024-01-01 02:00")]), "1h", end=closed_until(now, "1h"))
    assert gaps == [(ts("2024-01-01 03:00"), ts("2024-01-01 05:00"))]


def test_bad_inputs():
    with pytest.raises(ValueError, match="not aligned"):
        find_gaps(pd.DatetimeIndex([ts("2024-01-01 00:00:30")]), "1m")
    with pytest.raises(ValueError, match="naive"):
        find_gaps(pd.DatetimeIndex(["2024-01-01"]), "1m")
    with pytest.raises(ValueError, match="naive"):
        find_gaps(IDX, "1m", start=pd.Timestamp("2024-01-01"))
