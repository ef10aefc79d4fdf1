"""Interval ticks in the browser: a closed bar reaches the open page, an unchanged tick redraws nothing and
keeps the trader's zoom (headless Chromium)."""
import time
from contextlib import contextmanager

import pandas as pd
import pytest

pytestmark = pytest.mark.browser

GRAPH = "document.querySelector('#{id} .js-plotly-plot')"


@contextmanager
def fast_ticks(app, ms: int = 700):
    """The page's interval at ``ms`` for this test (the shared app ticks once a minute otherwise)."""
    config = app.server.config
    before = config["CW_SETTINGS"]
    config["CW_SETTINGS"] = before.with_(refresh_ms=ms)
    try:
        yield
    finally:
        config["CW_SETTINGS"] = before


def _close_a_bar(app, symbol: str, timeframe: str) -> pd.Timestamp:
    """Store the next bar of a demo series, as an ingest job would; returns its open time."""
    from app.extensions import db
    from app.market import store
    from app.marketdata import timeframe_seconds

    with app.server.app_context():
        conn = db.session.connection()
        sid = store.find_series(conn, "demo", symbol, timeframe)
        last = store.load_candles(conn, sid, limit=1)
        bar = last.copy()
        bar.index = last.index + pd.Timedelta(seconds=timeframe_seconds(timeframe))
        bar.index.name = last.index.name
        bar["close"] = bar["close"] * 1.003
        bar["high"] = bar[["high", "close"]].max(axis=1)
        store.upsert_candles(conn, sid, bar)
        db.session.commit()
    return bar.index[-1]


def _snapshot_versions(app) -> dict:
    """What the heat-map's version is made of: each watched symbol's stored snapshot version."""
    import app.hot as hot
    from app.analysis import reads
    from app.extensions import db
    from callbacks.signals import snapshot_version

    with app.server.app_context():
        settings = app.server.config["CW_SETTINGS"]
        snaps = reads.snapshots(db.session, hot.signal_cache(), {s: "demo" for s in settings.watchlist})
        return {s: snapshot_version(v) for s, v in snaps.items()}


def _watch(duo, graph_id: str) -> None:
    duo.driver.execute_script(
        f"const gd = {GRAPH.format(id=graph_id)}; window.__plots = window.__plots || {{}};"
        f"window.__plots['{graph_id}'] = 0; gd.on('plotly_afterplot', () => window.__plots['{graph_id}']++);")


def _plots(duo, graph_id: str) -> int:
    return duo.driver.execute_script(f"return window.__plots['{graph_id}']")


def _state(duo, graph_id: str) -> dict:
    return duo.driver.execute_script(
        f"const gd = {GRAPH.format(id=graph_id)}; const f = gd.data[1].type === 'candlestick' ? gd.data[1].x : [];"
        # bars: the candles and the Market chart's forming bar (its trace 1, drawn apart); the newest of them
        f"return {{n: gd.data[0].x.length + f.length, last: [gd.data[0].x.at(-1), f.at(-1)].filter(Boolean).sort().at(-1),"
        f"range: gd.layout.xaxis.range, auto: gd.layout.xaxis.autorange}};")


def _zoom(duo, graph_id: str) -> list:
    state = _state(duo, graph_id)
    assert state["n"] > 20
    x = duo.driver.execute_script(f"return {GRAPH.format(id=graph_id)}.data[0].x")
    duo.driver.execute_script(f"Plotly.relayout({GRAPH.format(id=graph_id)}, {{'xaxis.range': arguments[0]}})",
                              [x[-20], x[-1]])
    time.sleep(0.5)
    return _state(duo, graph_id)["range"]


def _wait(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, what
        time.sleep(0.2)


def _check_ticks(duo, app, graph_id: str, symbol: str, timeframe: str):
    duo.wait_for_element(f"#{graph_id} g.trace.boxes", timeout=30)
    time.sleep(1.5)  # the first ticks settle (they fill this tab's stores)
    zoomed = _zoom(duo, graph_id)
    before = _state(duo, graph_id)
    _watch(duo, graph_id)
    time.sleep(3)  # about four ticks with nothing new
    assert _plots(duo, graph_id) == 0, "an unchanged tick redrew the chart"
    assert _state(duo, graph_id)["range"] == zoomed, "an unchanged tick lost the zoom"
    new = _close_a_bar(app, symbol, timeframe)
    _wait(lambda: _state(duo, graph_id)["last"].startswith(new.strftime("%Y-%m-%dT%H:%M")), 15,
          "the closed bar never reached the open page")
    after = _state(duo, graph_id)
    assert after["n"] == min(before["n"] + 1, 300)  # one more bar (the window slides once it is full)
    assert after["range"] == zoomed, "the new bar reset the zoom"
    assert _plots(duo, graph_id) >= 1


def test_market_chart_gets_the_closed_bar_and_keeps_zoom_on_unchanged_ticks(signed_in, browser_app):
    with fast_ticks(browser_app):
        duo = signed_in("trader@example.com", path="/?symbol=ETH/USDT")
        duo.wait_for_contains_text("#market-chart .gtitle", "ETH/USDT", timeout=30)
        _check_ticks(duo, browser_app, "market-chart", "ETH/USDT", "1h")
        duo.wait_for_contains_text("#market-status", "bars from the database", timeout=10)


def test_signals_chart_gets_the_closed_bar_and_nothing_redraws_on_unchanged_ticks(signed_in, browser_app):
    with fast_ticks(browser_app):
        duo = signed_in("trader@example.com", path="/signals")
        duo.wait_for_contains_text("#signals-chart .gtitle", "BTC/USDT", timeout=30)
        duo.wait_for_element("#signals-heatmap .main-svg", timeout=20)
        browser_app.server.extensions["cw_jobs"].wait(120)  # earlier tests' analysis jobs store new snapshots
        before = _snapshot_versions(browser_app)
        time.sleep(1.5)  # a tick that saw a job's last snapshot draws it now, before the watch starts
        _watch(duo, "signals-heatmap")
        _check_ticks(duo, browser_app, "signals-chart", "BTC/USDT", "1h")
        if _snapshot_versions(browser_app) == before:  # a snapshot a late job stored may redraw it, rightly
            assert _plots(duo, "signals-heatmap") == 0, "an unchanged snapshot redrew the heat-map"
        duo.wait_for_contains_text("#signals-summary", "fused", timeout=10)
