"""app.figures.market: the candlestick figure and the updates that move it by a bar."""
import json

import pandas as pd

from app.figures.market import bar_columns, bar_signature, candlestick_figure, shown, tail_update
from tests.fakes.candles import make_candles


def _fig(df):
    return json.loads(candlestick_figure(df, title="X · 1m").to_json())


def test_figure_arrays_are_plain_lists_so_they_can_be_patched():
    df = make_candles(5)
    data = _fig(df)["data"]
    assert data[0]["x"] == [t.isoformat() for t in df.index]
    assert data[0]["close"] == df["close"].tolist() and data[1]["y"] == df["volume"].tolist()
    assert data[1]["marker"]["color"] == bar_columns(df)["color"]


def test_signature_changes_when_the_forming_bar_moves_or_a_bar_opens():
    df = make_candles(10)
    moved = df.copy()
    moved.iloc[-1, moved.columns.get_loc("close")] += 0.01
    assert bar_signature(df) == bar_signature(df.copy())
    assert bar_signature(moved) != bar_signature(df)
    assert bar_signature(make_candles(11)) != bar_signature(df)
    assert bar_signature(df.iloc[:0]) == "empty"


def test_tail_update_replaces_the_forming_bar_appends_new_ones_and_slides_the_window():
    full = make_candles(40)
    seen = shown(full.iloc[:30])
    moved = full.copy()
    moved.iloc[29, moved.columns.get_loc("close")] += 1.0  # the shown last bar moved, three more opened
    up = tail_update(seen, moved.iloc[20:33], window=31)
    index, bar = up["set"]
    assert index == 29 and bar["close"] == [moved["close"].iloc[29]]
    assert up["append"]["x"] == [t.isoformat() for t in moved.index[30:33]]
    assert up["drop"] == 2 and up["shown"] == {"n": 31, "last": moved.index[32].isoformat(),
                                                "sig": bar_signature(moved.iloc[:33])}


def test_tail_update_gives_up_when_the_tail_does_not_reach_the_shown_bar():
    full = make_candles(100)
    assert tail_update(shown(full.iloc[:10]), full.iloc[50:], window=300) is None
    assert tail_update({"n": 0, "last": None}, full, window=300) is None
    assert tail_update({"n": 3, "last": "not a time"}, full, window=300) is None
    assert tail_update({"n": 3, "last": "2024-01-01T00:01:00"}, full, window=300) is None  # naive: refused


def test_a_forged_bar_count_from_the_browser_gets_the_figure_not_a_huge_patch():
    full = make_candles(40)
    seen = shown(full.iloc[:30])
    assert tail_update({**seen, "n": 10 ** 9}, full, window=300) is None
    assert tail_update({**seen, "n": True}, full, window=300) is None
    assert tail_update({**seen, "n": 301}, full, window=300) is None
    assert tail_update(seen, full, window=300)["drop"] == 0


def apply_patch(figure: dict, patch: dict) -> dict:
    """What the browser does with a dash.Patch (Assign, Extend, Delete), for the test."""
    for op in patch["operations"]:
        *path, last = op["location"]
        target = figure
        for part in path:
            target = target[part]
        if op["operation"] == "Assign":
            target[last] = op["params"]["value"]
        elif op["operation"] == "Extend":
            target[last].extend(op["params"]["value"])
        elif op["operation"] == "Delete":
            del target[last]
        else:
            raise AssertionError(op["operation"])
    return figure


def test_patched_figure_equals_the_figure_built_from_the_new_window(dash_app):
    from callbacks.live_chart import candle_patch

    full = make_candles(60)
    moved = full.copy()
    moved.iloc[49, moved.columns.get_loc("open")] -= 0.5
    moved.iloc[49, moved.columns.get_loc("close")] += 0.5
    before = full.iloc[:50]
    after = moved.iloc[5:55]  # the window slid by five bars
    up = tail_update(shown(before), moved.iloc[30:55], window=50)
    patched = apply_patch(_fig(before), candle_patch(up).to_plotly_json())
    expected = _fig(after)
    for trace in (0, 1):
        for key in ("x", "open", "high", "low", "close", "y"):
            assert patched["data"][trace].get(key) == expected["data"][trace].get(key), (trace, key)
    assert patched["data"][1]["marker"]["color"] == expected["data"][1]["marker"]["color"]
    assert patched["layout"]["uirevision"] == expected["layout"]["uirevision"]
    assert up["shown"] == shown(after)


def test_no_bars_is_an_empty_chart_not_an_error():
    empty = make_candles(3).iloc[:0]
    assert shown(empty) == {"n": 0, "last": None, "sig": "empty"}
    assert _fig(empty)["data"][0]["x"] == []
    assert isinstance(pd.Timestamp(shown(make_candles(3))["last"]).tzinfo, type(pd.Timestamp.now("UTC").tzinfo))
