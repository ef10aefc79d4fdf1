"""Market's interval ticks over HTTP: nothing sent when nothing changed, a Patch for a new bar, the whole
figure built once per version for everyone, and no transaction held while a figure is built."""
import json
import uuid

import pytest

from tests.conftest import login
from tests.fakes.candles import make_candles
from tests.integration.callbacks.ticks import dash_call, seed_series, upsert

CHART = "..market-chart.figure...market-source-badge.children...market-status.children...market-error.children" \
        "...market-error.is_open...market-chart-seen.data.."


def _tick(client, seen, n=1, timeframe="1m", symbol=None):
    inputs = [{"id": "market-symbol", "property": "value", "value": symbol or _tick.symbol},
              {"id": "market-timeframe", "property": "value", "value": timeframe},
              {"id": "market-interval", "property": "n_intervals", "value": n}]
    return dash_call(client, CHART, inputs, [{"id": "market-chart-seen", "property": "data", "value": seen}])


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
    first = _tick(trader, None)
    assert first.status_code == 200
    out = first.get_json()["response"]
    fig, seen = out["market-chart"]["figure"], out["market-chart-seen"]["data"]
    assert len(fig["data"][0]["x"]) == 300 and fig["data"][0]["x"][-1] == series.index[-1].isoformat()
    assert seen["view"] == f"demo|{_tick.symbol}|1m" and seen["n"] == 300
    full_bytes = len(first.get_data())

    again = _tick(trader, seen, n=2)
    assert (again.status_code, again.get_data()[:200]) == (204, b""), again.headers  # nothing changed: nothing sent

    new = make_candles(322, start="2025-01-01T00:00:00Z", seed=len(_tick.symbol)).iloc[-2:]
    new = new.assign(close=new["close"] * 1.01, high=new["high"] * 1.02)
    upsert(dash_server, _tick.symbol, series.iloc[-1:].assign(close=series["close"].iloc[-1] * 0.99,
                                                           low=series["low"].iloc[-1] * 0.98))
    upsert(dash_server, _tick.symbol, new)
    moved = _tick(trader, seen, n=3)
    assert moved.status_code == 200
    out = moved.get_json()["response"]
    patch = out["market-chart"]["figure"]
    assert patch["__dash_patch_update"] == "__dash_patch_update"
    ops = {(op["operation"], tuple(op["location"])): op["params"].get("value") for op in patch["operations"]}
    assert ops[("Assign", ("data", 0, "close", 299))] == pytest.approx(series["close"].iloc[-1] * 0.99)
    assert ops[("Extend", ("data", 0, "x"))] == [t.isoformat() for t in new.index]
    assert sum(1 for op in patch["operations"] if op["operation"] == "Delete") == 2 * 8  # slid by two bars
    assert out["market-chart-seen"]["data"]["last"] == new.index[-1].isoformat()
    assert len(moved.get_data()) < full_bytes / 5
    assert _tick(trader, out["market-chart-seen"]["data"], n=4).status_code == 204


def test_whole_figure_is_built_once_per_version_and_served_to_every_user(dash_server, trader, make_dash_user,
                                                                         series, monkeypatch):
    import callbacks.market as market

    first = _tick(trader, None, timeframe="1m").get_json()["response"]["market-chart"]["figure"]

    def must_not_build(*a, **k):
        raise AssertionError("the shared chart was rebuilt although its version had not changed")

    monkeypatch.setattr(market, "candlestick_figure", must_not_build)
    other = dash_server.test_client()
    email, _ = make_dash_user("ticks-other")
    login(other, email)
    served = _tick(other, None).get_json()["response"]["market-chart"]["figure"]
    assert served == first


def test_no_transaction_is_open_while_the_figure_is_built_or_encoded(dash_server, trader, series, monkeypatch):
    import callbacks.market as market
    from app.extensions import db

    seen_open = []
    real = market.candlestick_figure

    def checked(*a, **k):
        seen_open.append(db.session().in_transaction())
        return real(*a, **k)

    monkeypatch.setattr(market, "candlestick_figure", checked)
    monkeypatch.setattr(market.hot, "view_cache", lambda: _NoViews())  # force a build
    assert _tick(trader, None).status_code == 200
    assert seen_open == [False]


class _NoViews:
    def read(self, *a):
        return None

    def write(self, *a):
        pass


def test_unknown_series_still_names_what_exists(trader):
    r = _tick(trader, None, timeframe="4h")
    assert r.status_code == 200
    out = r.get_json()["response"]
    assert f"No '4h' candles for {_tick.symbol}" in out["market-error"]["children"] and out["market-error"]["is_open"]
