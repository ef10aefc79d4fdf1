"""app.api.v1.candle_window: the encoded window slices to exactly the rows and bytes a direct encoding gives,
and a page is served from it only when the window holds every bar the page needs."""
from __future__ import annotations

import json

import numpy as np
import pytest

from app.api.v1 import candle_window as w
from tests.fakes.candles import make_candles


@pytest.fixture(scope="module")
def frame():
    return make_candles(300, start="2026-01-01T00:00:00Z", price=40_000.0)


def test_slices_equal_a_direct_encoding_of_the_same_rows(frame):
    win = w.decode(w.encode(frame, has_older=True))
    assert win.has_older is True and (win.times == frame.index.as_unit("us").asi8).all()
    for i, j in ((0, 300), (0, 1), (299, 300), (17, 211), (5, 5)):
        assert win.json_slice(i, j) == w.json_rows(frame.iloc[i:j])[1:-1], (i, j)
        direct = w.table(frame.iloc[i:j]).to_csv(index=False, lineterminator="\n").encode()
        assert b"time,open,high,low,close,volume\n" + win.csv_slice(i, j) == direct, (i, j)
    rows = json.loads(b"[" + win.json_slice(0, 300) + b"]")
    assert [r["close"] for r in rows] == pytest.approx(frame["close"].tolist(), rel=1e-14)
    assert rows[0]["time"] == "2026-01-01T00:00:00+00:00" and rows[-1]["time"] == "2026-01-01T04:59:00+00:00"


def test_an_empty_window_encodes_and_serves_an_empty_page():
    empty = make_candles(1, start="2026-01-01T00:00:00Z").iloc[:0]
    win = w.decode(w.encode(empty, has_older=False))
    assert len(win.times) == 0 and win.json_slice(0, 0) == b""
    assert w.page(win.times, False, None, None, 100) == (0, 0, False)


T = np.arange(100, dtype="int64") * 60_000_000  # 100 one-minute bars, epoch microseconds


@pytest.mark.parametrize("has_older,start,end,limit,expected", [
    (False, None, None, 30, (70, 100, True)),            # the latest page, more before it
    (False, None, int(T[70]), 30, (40, 70, True)),       # the next page (a cursor's end)
    (False, None, int(T[20]), 30, (0, 20, False)),       # the last page: nothing older anywhere
    (True, None, int(T[30]), 30, (0, 30, True)),         # exactly the window's first rows; older bars follow
    (True, None, int(T[20]), 30, None),                  # needs bars older than the window
    (False, int(T[50]), None, 10, (90, 100, True)),      # a range inside the window
    (True, int(T[50]), None, 100, (50, 100, False)),     # all of a range inside the window
    (True, int(T[0]), None, 100, (0, 100, False)),       # starts at the window's first bar: nothing older in range
    (True, int(T[0]) - 1, None, 100, None),              # may hold older bars: unknown here
    (True, int(T[0]) - 1, None, 40, (60, 100, True)),    # the page itself is inside the window
    (False, int(T[99]) + 1, None, 10, (100, 100, False)),  # after the last bar: empty
    (True, None, int(T[0]), 10, None),                   # before the window
])
def test_page_selection(has_older, start, end, limit, expected):
    assert w.page(T, has_older, start, end, limit) == expected


def test_paging_through_the_window_returns_every_bar_once():
    seen, end = [], None
    while True:
        i, j, more = w.page(T, False, None, end, 7)
        seen = list(T[i:j]) + seen
        if not more:
            break
        end = int(T[i])
    assert seen == list(T)


def test_the_etag_changes_with_the_version_and_every_request_choice():
    base = w.request_etag("v1", 3, None, None, 100, "json")
    assert base == w.request_etag("v1", 3, None, None, 100, "json")
    for other in (w.request_etag("v2", 3, None, None, 100, "json"), w.request_etag("v1", 4, None, None, 100, "json"),
                  w.request_etag("v1", 3, 0, None, 100, "json"), w.request_etag("v1", 3, None, 5, 100, "json"),
                  w.request_etag("v1", 3, None, None, 99, "json"), w.request_etag("v1", 3, None, None, 100, "csv")):
        assert other != base


def test_each_process_keeps_the_latest_decoded_windows_by_series_and_version(frame, monkeypatch):
    monkeypatch.setattr(w, "_LOCAL", type(w._LOCAL)())
    win = w.decode(w.encode(frame, has_older=False))
    w.keep(1, "r5w10000", win)
    assert w.local(1, "r5w10000") is win
    assert w.local(1, "r6w10000") is None  # another version of the same series is never served
    assert w.local(2, "r5w10000") is None
    for sid in range(2, 2 + w.LOCAL_MAX):  # the least recently used window goes first
        w.keep(sid, "r1w10000", win)
    assert w.local(1, "r5w10000") is None and len(w._LOCAL) == w.LOCAL_MAX
    w.local(2, "r1w10000")  # used: kept over the next one
    w.keep(99, "r1w10000", win)
    assert w.local(2, "r1w10000") is win and w.local(3, "r1w10000") is None


def test_numbers_are_sent_in_their_shortest_form_and_parse_back_exactly():
    import pandas as pd

    idx = pd.date_range("2026-01-01", periods=3, freq="1min", tz="UTC", name="time")
    frame = pd.DataFrame({"open": [40039.89, 0.1, 123456789.12], "high": [40040.0, 0.30000000000000004, 1e-07],
                          "low": [1.0, 2.5, 3.0], "close": [40039.891234567891, 0.2, 7.0],
                          "volume": [0.00001, 12.5, 1e21]}, index=idx)
    body = w.json_rows(frame)
    assert b'"open":40039.89,' in body and b'"open":123456789.12,' in body and b"9999" not in body
    rows = json.loads(body)
    for col in ("open", "high", "low", "close", "volume"):
        assert [r[col] for r in rows] == frame[col].tolist()  # exactly, not approximately
    assert [r["time"] for r in rows] == [t.isoformat() for t in idx]
    with pytest.raises(ValueError, match="finite"):
        w.json_rows(frame.assign(close=[1.0, float("nan"), 2.0]))


def test_a_page_body_is_built_once_per_window_and_only_the_latest_few_are_kept(frame):
    win = w.decode(w.encode(frame, has_older=False))
    built = []

    def build(tag):
        def _b():
            built.append(tag)
            return f"body-{tag}".encode()
        return _b

    assert win.body((0, 300, "json"), build("a")) == b"body-a"
    assert win.body((0, 300, "json"), build("again")) == b"body-a"  # the same page: the kept bytes
    assert built == ["a"]
    for k in range(w.BODIES_MAX + 1):
        win.body((k, 300, "csv"), build(f"csv{k}"))
    assert len(win.bodies) == w.BODIES_MAX and (0, 300, "json") not in win.bodies  # oldest dropped
    fresh = w.decode(w.encode(frame, has_older=False))  # a new version starts with no bodies
    assert fresh.bodies == {} and fresh.body((0, 300, "json"), build("b")) == b"body-b"
