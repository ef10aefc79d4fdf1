"""app.figures.chart: the trader chart's traces, rows, axes and values, its marks, and what a tick changes."""
import json

import pandas as pd
import pytest

from app.figures.chart import (CANDLES, FORMING, apply_marks, chart_figure, shown_state, tick_update,
                               trace_layout)
from app.market.charts import studies
from tests.fakes.candles import make_candles

SPEC = {"overlays": ["sma", "bb"], "panes": ["volume", "macd"], "sma": 10, "ema": 50}


def _fig(df, spec=SPEC, forming=None, log=False):
    forming = df.iloc[:0] if forming is None else forming
    return json.loads(chart_figure(df, forming, studies.compute(df, "1m", spec), spec, title="X · 1m",
                                   log=log).to_json())


def test_traces_rows_and_values_follow_the_spec():
    df = make_candles(60)
    fig = _fig(df)
    names = [t["name"] for t in fig["data"]]
    assert names == ["price", "forming", "SMA 10", "BB upper", "BB mid", "BB lower", "volume", "MACD", "signal",
                     "histogram"]
    assert trace_layout(SPEC) == {"sma": 2, "bb_upper": 3, "bb_mid": 4, "bb_lower": 5, "volume": 6, "macd": 7,
                                  "macd_signal": 8, "macd_hist": 9}
    assert fig["layout"]["meta"]["rows"] == ["price", "volume", "macd"]
    sma = fig["data"][2]
    assert sma["x"] == [t.isoformat() for t in df.index] and sma["yaxis"] == "y"
    assert fig["data"][0]["text"][3] == f"volume {df['volume'].iloc[3]:,.4g}"  # the readout shows OHLCV
    assert sma["y"][:9] == [None] * 9 and sma["y"][9] == pytest.approx(df["close"].iloc[:10].mean())
    assert fig["data"][6]["yaxis"] == "y2" and fig["data"][6]["y"] == df["volume"].tolist()
    assert {fig["data"][k]["yaxis"] for k in (7, 8, 9)} == {"y3"}
    assert fig["data"][9]["type"] == "bar" and len(fig["data"][9]["marker"]["color"]) == 60
    assert fig["layout"]["yaxis2"]["title"]["text"] == "volume" and fig["layout"]["yaxis3"]["title"]["text"] == "MACD"


def test_navigation_crosshair_hover_and_log_axis():
    fig = _fig(make_candles(30), log=True)
    lay = fig["layout"]
    labels = [b["label"] for b in lay["xaxis"]["rangeselector"]["buttons"]]
    assert labels == ["1D", "1W", "1M", "3M", "all"]
    assert lay["hovermode"] == "x unified" and lay["xaxis"]["showspikes"] and lay["yaxis"]["showspikes"]
    assert lay["xaxis"]["spikemode"] == "across" and lay["yaxis"]["type"] == "log"
    assert _fig(make_candles(30))["layout"]["yaxis"]["type"] == "linear"


def test_the_forming_bar_is_its_own_pale_trace():
    df = make_candles(31)
    fig = _fig(df.iloc[:30], forming=df.iloc[30:])
    assert len(fig["data"][CANDLES]["x"]) == 30 and fig["data"][FORMING]["x"] == [df.index[30].isoformat()]
    assert fig["data"][FORMING]["opacity"] < 1 and len(fig["data"][2]["y"]) == 30  # studies: closed bars only


def test_rsi_and_pup_panes():
    spec = {**SPEC, "overlays": [], "panes": ["rsi", "pup"]}
    fig = _fig(make_candles(40), spec)
    assert [t["name"] for t in fig["data"]] == ["price", "forming", "RSI", "p(up)"]
    assert fig["layout"]["yaxis2"]["range"] == [0, 100] and fig["layout"]["yaxis3"]["range"] == [0, 1]
    assert trace_layout(spec)["pup"] == 3


def test_marks_add_events_levels_firings_trades_and_pup_without_touching_the_shared_figure():
    df = make_candles(40)
    spec = {**SPEC, "panes": ["pup"]}
    fig = _fig(df, spec)
    before = json.dumps(fig, sort_keys=True)
    t = [x.isoformat() for x in df.index]
    marks = {"events": [{"time": t[5], "direction": 1, "event": "hammer", "kind": "pattern", "strength": 0.5},
                        {"time": t[7], "direction": -1, "event": "rsi_ob", "kind": "event", "strength": 1.0},
                        {"time": "1999-01-01T00:00:00+00:00", "direction": 1, "event": "old", "kind": "x",
                         "strength": 1}],
             "levels": [{"id": 3, "name": "breakout", "kind": "price_above", "level": 101.5}],
             "fires": [{"time": t[9], "value": 100.2, "message": "BTC above 100"}],
             "trades": [{"side": "long", "entry_time": t[10], "entry_price": 100.0, "exit_time": t[20],
                         "exit_price": 101.0, "return_pct": 1.0}],
             "pup": [{"time": t[38], "p_up": 0.61}, {"time": t[39], "p_up": 0.4}]}
    out = apply_marks(fig, marks, spec)
    assert json.dumps(fig, sort_keys=True) == before
    names = [d["name"] for d in out["data"]]
    assert names[-5:] == ["bullish event", "bearish event", "alert fired", "trade entry", "trade exit"]
    bull, bear = out["data"][-5], out["data"][-4]
    assert bull["x"] == [t[5]] and bull["y"][0] < df["low"].iloc[5] and bear["y"][0] > df["high"].iloc[7]
    assert out["data"][-3]["y"] == [100.2] and out["data"][-2]["x"] == [t[10]] and out["data"][-1]["y"] == [101.0]
    pup = out["data"][trace_layout(spec)["pup"]]
    assert pup["x"] == [t[38], t[39]] and pup["y"] == [0.61, 0.4]
    assert not [a for a in out["layout"].get("annotations", []) if a.get("name") == "pup-empty"]
    empty = apply_marks(fig, {**marks, "pup": []}, spec)
    assert [a["yref"] for a in empty["layout"]["annotations"] if a.get("name") == "pup-empty"] == ["y2 domain"]
    level = [s for s in out["layout"]["shapes"] if s.get("name") == "alert 3"]
    assert level and level[0]["y0"] == level[0]["y1"] == 101.5 and "breakout" in level[0]["label"]["text"]


def test_tick_update_nothing_new_forming_moved_and_new_closed_bars():
    df = make_candles(40)
    seen = shown_state(df.iloc[:30], df.iloc[30:31])
    assert tick_update(seen, df.iloc[:30], df.iloc[30:31], window=30) == {}
    moved = df.iloc[30:31].assign(close=df["close"].iloc[30] * 1.01)
    up = tick_update(seen, df.iloc[:30], moved, window=30)
    assert len(up["newer"]) == 0 and up["forming"] is moved and up["drop"] == 0
    up = tick_update(seen, df.iloc[20:33], df.iloc[33:34], window=31)
    assert list(up["newer"].index) == list(df.index[30:33]) and up["drop"] == 2
    assert up["shown"] == {"n": 31, "first": None, "last": df.index[32].isoformat(),
                           "forming": shown_state(df, df.iloc[33:34])["forming"]}


@pytest.mark.parametrize("seen", [{"n": 0, "last": None}, {"n": 3, "last": "not a time"}, {"n": True, "last": "x"},
                                  {"n": 10 ** 9, "last": "2024-01-01T00:00:00+00:00"},
                                  {"n": 3, "last": "2024-01-01T00:01:00"}])
def test_tick_update_refuses_what_it_did_not_write(seen):
    df = make_candles(40)
    assert tick_update(seen, df, df.iloc[:0], window=300) is None


def test_tick_update_gives_up_when_the_tail_does_not_reach_the_shown_bar():
    df = make_candles(100)
    assert tick_update(shown_state(df.iloc[:10], df.iloc[:0]), df.iloc[50:], df.iloc[:0], window=300) is None


def test_a_patch_applied_to_the_figure_gives_the_figure_of_the_newer_bars(dash_app):
    """The Patch a tick sends, applied as Dash applies it, turns the shown figure into the full figure of the
    later window (same candles and study values for every shown bar)."""
    from callbacks.live_chart import chart_patch

    df = make_candles(80)
    spec = {"overlays": ["sma", "ema"], "panes": ["volume", "rsi", "macd"], "sma": 10, "ema": 12}
    vals = studies.compute(df, "1m", spec)
    cut = lambda a, b: {k: v[a:b] for k, v in vals.items()}  # noqa: E731
    before = json.loads(chart_figure(df.iloc[20:60], df.iloc[60:61], cut(20, 60), spec).to_json())
    after = json.loads(chart_figure(df.iloc[23:63], df.iloc[63:64], cut(23, 63), spec).to_json())
    up = tick_update(shown_state(df.iloc[20:60], df.iloc[60:61]), df.iloc[40:63], df.iloc[63:64], window=40)
    patch = chart_patch(up, {k: v[60:63] for k, v in vals.items()}, spec).to_plotly_json()
    fig = before
    for op in patch["operations"]:
        *path, last = op["location"]
        node = fig
        for p in path:
            node = node[p]
        if op["operation"] == "Assign":
            node[last] = op["params"]["value"]
        elif op["operation"] == "Extend":
            node[last].extend(op["params"]["value"])
        elif op["operation"] == "Delete":
            del node[last]
        else:
            raise AssertionError(op)
    for k, trace in enumerate(after["data"]):
        for field in ("x", "y", "open", "high", "low", "close", "text"):
            if field in trace:
                assert fig["data"][k][field] == pytest.approx(trace[field], nan_ok=True), (k, field)
        if "marker" in trace and isinstance(trace["marker"].get("color"), list):
            assert fig["data"][k]["marker"]["color"] == trace["marker"]["color"]
