"""Market's interval ticks over HTTP: nothing sent when nothing changed, a Patch for a new bar, the whole
figure built once per version for everyone, and no transaction held while a figure is built."""
import json
import uuid

import pytest

from tests.conftest import login
from tests.fakes.candles import make_candles
from tests.integration.callbacks.ticks import dash_call, seed_series, upsert

SLOTS = range(4)


def _cid(thing, k):
    return f"market-{thing}" if k == 0 else f"market-{thing}-{k}"


_OUTS = [("market-chart", "figure"), ("market-source-badge", "children"), ("market-status", "children"),
         ("market-error", "children"), ("market-error", "is_open"), ("market-chart-seen", "data")]
for _k in SLOTS[1:]:
    _OUTS += [(_cid("chart", _k), "figure"), (_cid("status", _k), "children"), (_cid("chart-seen", _k), "data")]
CHART = ".." + "...".join(f"{c}.{p}" for c, p in _OUTS) + ".."


def _tick(client, seen, n=1, timeframe="1m", symbol=None, overlays=None, panes=("volume",), relayout=None,
          changed=None):
    def i(cid, prop, value):
        return {"id": cid, "property": prop, "value": value}

    inputs = [i("market-symbol", "value", symbol or _tick.symbol), i("market-timeframe", "value", timeframe),
              i("market-interval", "n_intervals", n), i("market-count", "value", 1), i("market-log", "value", False)]
    for k in SLOTS:
        if k:
            inputs += [i(_cid("symbol", k), "value", None), i(_cid("timeframe", k), "value", None)]
        inputs += [i(_cid("overlays", k), "value", list(overlays or []) if k == 0 else []),
                   i(_cid("panes", k), "value", list(panes) if k == 0 else ["volume"]),
                   i(_cid("sma", k), "value", 20), i(_cid("ema", k), "value", 50),
                   i(_cid("view", k), "data", relayout if k == 0 else None)]
    state = [i(_cid("chart-seen", k), "data", seen if k == 0 else None) for k in SLOTS]
    state.append(i("market-marks-src", "data", {"backtest": None}))
    return dash_call(client, CHART, inputs, state, changed=changed or ["market-interval.n_intervals"])


@pytest.fixture
def series(dash_server):
    """A series of this test's own (a fresh symbol), so tests do not see each other's bars."""
    _tick.symbol = f"TK{uuid.uuid4().hex[:6].upper()}/USDT"
    return seed_series(dash_server, _tick.symbol)


@pytest.fixture
def trader(dash_server, make_dash_user, series):
    client = dash_server.test_client()
    email, _ = make_dash_user("ticks")
    assert login(client, email).status_code == 302
    return client


def test_unchanged_tick_sends_nothing_and_a_new_bar_sends_only_that_bar(dash_server, trader, series):
    first = _tick(trader, None, overlays=["sma"], panes=["volume", "rsi"])
    assert first.status_code == 200
    out = first.get_json()["response"]
    fig, seen = out["market-chart"]["figure"], out["market-chart-seen"]["data"]
    assert len(fig["data"][0]["x"]) == 320 and fig["data"][0]["x"][-1] == series.index[-1].isoformat()
    assert [t["name"] for t in fig["data"][:5]] == ["price", "forming", "SMA 20", "volume", "RSI"]
    assert seen["view"] == f"demo|{_tick.symbol}|1m|sma|volume.rsi|s20e50|lin" and seen["n"] == 320
    assert "market-chart-1" not in out  # the hidden charts send nothing
    full_bytes = len(first.get_data())

    again = _tick(trader, seen, n=2, overlays=["sma"], panes=["volume", "rsi"])
    assert (again.status_code, again.get_data()[:200]) == (204, b""), again.headers  # nothing changed: nothing sent

    new = make_candles(322, start="2025-01-01T00:00:00Z", seed=len(_tick.symbol)).iloc[-2:]
    new = new.assign(close=new["close"] * 1.01, high=new["high"] * 1.02)
    upsert(dash_server, _tick.symbol, new)
    moved = _tick(trader, seen, n=3, overlays=["sma"], panes=["volume", "rsi"])
    assert moved.status_code == 200
    out = moved.get_json()["response"]
    patch = out["market-chart"]["figure"]
    assert patch["__dash_patch_update"] == "__dash_patch_update"
    ops = {(op["operation"], tuple(op["location"])): op["params"].get("value") for op in patch["operations"]}
    assert ops[("Extend", ("data", 0, "x"))] == [t.isoformat() for t in new.index]
    assert ops[("Extend", ("data", 3, "y"))] == new["volume"].tolist()
    closes = list(series["close"]) + list(new["close"])
    assert ops[("Extend", ("data", 2, "y"))] == pytest.approx([sum(closes[-21:-1]) / 20, sum(closes[-20:]) / 20])
    assert not [op for op in patch["operations"] if op["operation"] == "Delete"]  # 322 bars: nothing slides out
    assert out["market-chart-seen"]["data"]["last"] == new.index[-1].isoformat()
    assert len(moved.get_data()) * 20 < full_bytes
    assert _tick(trader, out["market-chart-seen"]["data"], n=4, overlays=["sma"],
                 panes=["volume", "rsi"]).status_code == 204

    rebuilt = _tick(trader, out["market-chart-seen"]["data"], n=5, overlays=["sma", "ema"], panes=["volume", "rsi"],
                    changed=["market-overlays.value"]).get_json()["response"]["market-chart"]["figure"]
    assert [t["name"] for t in rebuilt["data"][:4]] == ["price", "forming", "SMA 20", "EMA 50"]  # new selection


def test_scrolling_back_loads_older_bars_bounded(dash_server, trader):
    _tick.symbol = f"TK{uuid.uuid4().hex[:6].upper()}/USDT"
    df = seed_series(dash_server, _tick.symbol, n=1200)
    seen = _tick(trader, None).get_json()["response"]["market-chart-seen"]["data"]
    assert seen["n"] == 500 and seen["first"] == df.index[700].isoformat()
    view = {"xaxis.range[0]": "2025-01-01 11:00:00", "xaxis.range[1]": "2025-01-01 13:00:00"}
    assert _tick(trader, seen, n=2, relayout={"xaxis.range[0]": df.index[800].strftime("%Y-%m-%d %H:%M:%S")},
                 changed=["market-view.data"]).status_code == 204  # inside what is shown
    out = _tick(trader, seen, n=2, relayout=view, changed=["market-view.data"]).get_json()["response"]
    fig, seen = out["market-chart"]["figure"], out["market-chart-seen"]["data"]
    assert seen["n"] == 1000 and seen["bars"] == 1000 and fig["data"][0]["x"][0] == df.index[200].isoformat()
    out = _tick(trader, seen, n=3, relayout={"xaxis.range[0]": "2024-12-31 00:00:00"},
                changed=["market-view.data"]).get_json()["response"]
    assert out["market-chart-seen"]["data"]["n"] == 1200 and out["market-chart-seen"]["data"]["bars"] == 1500
    assert _tick(trader, out["market-chart-seen"]["data"], n=4, relayout={"xaxis.range[0]": "2024-12-30 00:00:00"},
                 changed=["market-view.data"]).status_code == 204  # every stored bar is shown: nothing more to load


def test_an_alert_level_appears_on_the_next_tick_after_a_rule_is_created(dash_server, make_dash_user, series):
    from app.extensions import db
    from app.models import AlertRule

    client = dash_server.test_client()
    email, uid = make_dash_user("levels")
    login(client, email)
    seen = _tick(client, None).get_json()["response"]["market-chart-seen"]["data"]
    assert _tick(client, seen, n=2).status_code == 204
    with dash_server.app_context():
        db.session.add(AlertRule(user_id=uid, name="breakout", exchange="demo", symbol=_tick.symbol, timeframe="1m",
                                 kind="price_above", params={"level": 123.5}, channels=["inapp"]))
        db.session.commit()
    fig = _tick(client, seen, n=3).get_json()["response"]["market-chart"]["figure"]
    levels = [s for s in fig["layout"]["shapes"] if s.get("name", "").startswith("alert ")]
    assert [s["y0"] for s in levels] == [123.5]
    other = dash_server.test_client()  # another user's chart does not show it
    login(other, make_dash_user("levels-other")[0])
    fig = _tick(other, None).get_json()["response"]["market-chart"]["figure"]
    assert not [s for s in fig["layout"].get("shapes", []) if s.get("name", "").startswith("alert ")]


def test_whole_figure_is_built_once_per_version_and_served_to_every_user(dash_server, trader, make_dash_user,
                                                                         series, monkeypatch):
    import callbacks.market as market

    first = _tick(trader, None, timeframe="1m").get_json()["response"]["market-chart"]["figure"]

    def must_not_build(*a, **k):
        raise AssertionError("the shared chart was rebuilt although its version had not changed")

    monkeypatch.setattr(market, "chart_figure", must_not_build)
    other = dash_server.test_client()
    email, _ = make_dash_user("ticks-other")
    login(other, email)
    served = _tick(other, None).get_json()["response"]["market-chart"]["figure"]
    assert served == first


def test_a_new_bars_studies_are_worked_out_once_for_every_tab(dash_server, trader, make_dash_user, series,
                                                               monkeypatch):
    import callbacks.market as market

    spec = dict(overlays=["sma", "ema"], panes=["volume", "rsi"])
    seen = _tick(trader, None, **spec).get_json()["response"]["market-chart-seen"]["data"]
    new = make_candles(321, start="2025-01-01T00:00:00Z", seed=len(_tick.symbol)).iloc[-1:]
    upsert(dash_server, _tick.symbol, new)
    first = _tick(trader, seen, n=2, **spec).get_json()["response"]["market-chart"]["figure"]
    assert first["__dash_patch_update"] == "__dash_patch_update"

    def must_not_compute(*a, **k):
        raise AssertionError("the new bar's studies were computed again for the same version")

    monkeypatch.setattr(market.studies, "compute", must_not_compute)
    other = dash_server.test_client()
    email, _ = make_dash_user("ticks-tab")
    login(other, email)
    assert _tick(other, seen, n=2, **spec).get_json()["response"]["market-chart"]["figure"] == first

    corrected = new.assign(close=new["close"] * 1.01, high=new["high"] * 1.02)  # another version of the bar
    upsert(dash_server, _tick.symbol, corrected)
    with pytest.raises(AssertionError, match="computed again"):
        _tick(other, seen, n=3, **spec)


def test_no_transaction_is_open_while_the_figure_is_built_or_encoded(dash_server, trader, series, monkeypatch):
    import callbacks.market as market
    from app.extensions import db

    seen_open = []
    real = market.chart_figure

    def checked(*a, **k):
        seen_open.append(db.session().in_transaction())
        return real(*a, **k)

    monkeypatch.setattr(market, "chart_figure", checked)
    monkeypatch.setattr(market.hot, "view_cache", lambda: _NoViews())  # force a build
    assert _tick(trader, None).status_code == 200
    assert seen_open == [False]


class _NoViews:
    def read(self, *a):
        return None

    def write(self, *a):
        pass

    def single_flight(self, view, key, version, build, **_):
        import json

        return json.loads(build())


def test_unknown_series_still_names_what_exists(trader):
    r = _tick(trader, None, timeframe="4h")
    assert r.status_code == 200
    out = r.get_json()["response"]
    assert f"No '4h' candles for {_tick.symbol}" in out["market-error"]["children"] and out["market-error"]["is_open"]


def test_the_pup_pane_without_a_champion_says_so(trader):
    out = _tick(trader, None, panes=["pup"]).get_json()["response"]
    fig = out["market-chart"]["figure"]
    assert [t["name"] for t in fig["data"][:3]] == ["price", "forming", "p(up)"] and fig["data"][2]["x"] == []
    assert [a["text"] for a in fig["layout"]["annotations"] if a.get("name") == "pup-empty"]


def _by_id(component, found=None):
    found = {} if found is None else found
    cid = getattr(component, "id", None)
    if cid is not None:
        found[cid] = component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            _by_id(child, found)
    return found


def test_the_page_opens_a_linked_layout_and_a_bad_link_with_the_defaults_and_a_message(dash_server, series):
    import base64
    import json as _json

    from app.market.charts import layouts
    from pages import market

    lay = layouts.default_layout()
    lay["count"] = 4
    lay["charts"][2].update(symbol=_tick.symbol, timeframe="1m", overlays=["vwap"])
    with dash_server.test_request_context("/"):
        ids = _by_id(market.layout(layout=layouts.to_url(lay)))
        assert ids["market-count"].value == 4 and ids["market-slot-3"].className == "col-12 col-xl-6"
        assert ids["market-overlays-2"].value == ["vwap"] and ids["market-symbol-2"].value == _tick.symbol
        assert not ids["market-error"].is_open
        ids = _by_id(market.layout(layout="not-a-layout"))
        assert "The layout in the link" in ids["market-error"].children and ids["market-error"].is_open
        assert ids["market-count"].value == 1 and ids["market-slot-1"].className == "d-none"
        old = base64.urlsafe_b64encode(_json.dumps({**lay, "v": 0}).encode()).decode().rstrip("=")
        ids = _by_id(market.layout(layout=old))
        assert "version 0" in ids["market-error"].children and "default layout" in ids["market-error"].children


def _statements(server):
    """A list that collects the SQL each statement through ``server``'s engine sends, and a remover."""
    from sqlalchemy import event

    from app.extensions import db

    sent: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    with server.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", note)
    return sent, lambda: event.remove(engine, "after_cursor_execute", note)


CHART_TABLES = ("candles", "alert_rules", "alert_events", "signals", "predictions", "paper_fills", "backtest_trades")


def test_an_unchanged_tick_reads_nothing_a_chart_shows_until_a_write_or_the_full_check_is_due(dash_server, trader,
                                                                                              series):
    """The tick gate: with the change counters as its last check saw them, a tick reads none of the chart's
    tables; a committed write to one of them, or a last check FULL_CHECK_S ago, makes the next tick look."""
    from app.hot.changes import FULL_CHECK_S

    seen = _tick(trader, None).get_json()["response"]["market-chart-seen"]["data"]
    assert isinstance(seen["stamp"], str) and isinstance(seen["checked"], float)
    sent, stop = _statements(dash_server)
    try:
        assert _tick(trader, seen, n=2).status_code == 204
        assert not [s for s in sent if any(t in s for t in CHART_TABLES)], sent
        stale = {**seen, "checked": seen["checked"] - FULL_CHECK_S - 1}
        looked = _tick(trader, stale, n=3)  # too long since the last full check: the data is read again
        assert any("candles" in s for s in sent)
        assert looked.status_code == 200 and set(looked.get_json()["response"]) == {"market-chart-seen"}
        renewed = looked.get_json()["response"]["market-chart-seen"]["data"]
        assert renewed["checked"] > seen["checked"] and renewed["last"] == seen["last"]  # only the stamp moved
        sent.clear()
        assert _tick(trader, renewed, n=4).status_code == 204 and not [s for s in sent if "candles" in s]
    finally:
        stop()
    new = make_candles(321, start="2025-01-01T00:00:00Z", seed=len(_tick.symbol)).iloc[-1:]
    upsert(dash_server, _tick.symbol, new)  # a committed write bumps the candles counter
    out = _tick(trader, renewed, n=5).get_json()["response"]
    assert out["market-chart-seen"]["data"]["last"] == new.index[-1].isoformat()
    assert out["market-chart"]["figure"]["__dash_patch_update"] == "__dash_patch_update"
