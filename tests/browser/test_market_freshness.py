"""The Market chart's data age in a browser (headless Chromium): old data shows the stale warning, the age
keeps counting in the browser without a request, and the browser's rule (app/assets/freshness.js) gives
the same answers as the server's (app.market.freshness, callbacks.market_feed)."""
import re
import uuid

import pandas as pd
import pytest

from tests.browser.polling import wait_script
from tests.browser.test_ticks import fast_ticks
from tests.fakes.candles import make_candles

pytestmark = pytest.mark.browser

LINE = ("const el = document.querySelector('#%s'); "
        "return el ? {text: el.textContent, cls: el.className, border: getComputedStyle(el).borderLeftStyle} : null")


def _line(duo, chart="market-freshness", check=lambda v: True, timeout=20, what="freshness line"):
    return wait_script(duo, LINE % chart, check, timeout=timeout, what=what)


def _old_series(app) -> str:
    """A demo series of this test's own whose newest bar is from 2025: its data is long out of date."""
    import app.hot as hot
    from app.extensions import db
    from app.market import store

    symbol = f"ST{uuid.uuid4().hex[:6].upper()}/USDT"
    with app.server.app_context():
        sid = store.get_or_create_series(db.session.connection(), "demo", symbol, "1h")
        store.upsert_candles(db.session.connection(), sid, make_candles(300, start="2025-01-01T00:00:00Z",
                                                                         freq_s=3600, seed=7))
        db.session.commit()
        hot.catalog_cache().invalidate()
    return symbol


def test_old_data_shows_the_stale_warning_and_fresh_data_does_not(signed_in, browser_app):
    symbol = _old_series(browser_app)
    duo = signed_in("trader@example.com", path=f"/?symbol={symbol}%26tf=1h")  # & inside ?next=
    duo.wait_for_element("#market-chart .main-svg", timeout=30)
    line = _line(duo, check=lambda v: "market-stale" in v["cls"], what="stale warning")
    # 300 1h bars from 2025-01-01: the newest closed at 2025-01-13 12:00 UTC, long over two periods ago
    assert re.fullmatch(r"data \d+ d \d+ h old — no new 1h bar from the demo feed for 2\+ periods, "
                        r"showing stored bars", line["text"]), line
    assert "text-warning" in line["cls"] and line["border"] == "solid"  # the warning style (app/assets/freshness.css)
    days = int(line["text"].split()[1])
    assert days == (pd.Timestamp.now(tz="UTC") - pd.Timestamp("2025-01-13T12:00:00Z")).days

    duo.driver.get(f"{duo.server.url}/?symbol=BTC/USDT&tf=1h")  # the seeded demo set is current
    duo.wait_for_element("#market-chart .main-svg", timeout=30)
    line = _line(duo, check=lambda v: v["text"].startswith("data "), what="fresh line")
    assert re.fullmatch(r"data (<1|\d+) min old", line["text"]), line
    assert "market-stale" not in line["cls"] and line["border"] != "solid"
    assert not [e for e in duo.get_logs() if e.get("level") == "SEVERE" and "favicon" not in e["message"]]


def test_the_age_keeps_counting_in_the_browser_while_no_request_is_made(signed_in, browser_app):
    with fast_ticks(browser_app, 700):
        duo = signed_in("trader@example.com", path="/?symbol=BTC/USDT%26tf=1h")
        duo.wait_for_element("#market-chart .main-svg", timeout=30)
        _line(duo, check=lambda v: v["text"].startswith("data ") and "market-stale" not in v["cls"], what="fresh")
        # from now on: record every callback request that asks for a freshness line, and move the clock on
        duo.driver.execute_script("""
            window.__freshnessRequests = [];
            const fetch0 = window.fetch;
            window.fetch = function (input, init) {
                const body = (init && typeof init.body === 'string') ? init.body : '';
                if (body.indexOf('market-freshness') !== -1) { window.__freshnessRequests.push(body); }
                return fetch0.apply(this, arguments);
            };
            const now0 = Date.now;
            Date.now = function () { return now0() + 3 * 86400 * 1000; };
        """)
        line = _line(duo, check=lambda v: "market-stale" in v["cls"], timeout=12, what="stale after 3 days")
        assert re.fullmatch(r"data 3 d 0 h old — no new 1h bar from the demo feed for 2\+ periods, "
                            r"showing stored bars", line["text"]), line
        assert duo.driver.execute_script("return window.__freshnessRequests") == []  # the browser did it alone


# -- the browser's rule is the server's rule --------------------------------------------------------------

TFS = ("1m", "5m", "15m", "1h", "4h", "1d")
FEEDS = [("binance", "live"), ("coinbase", "live"), ("kraken", "live"), ("demo", "demo"), ("csv", "import")]
BREAKERS = (None, "closed", "open", "half-open", "weird")
NOW_S = pd.Timestamp("2026-12-02T10:30:17Z").timestamp()


def _rule_cases():
    from app.marketdata import timeframe_seconds

    cases = []
    for tf in TFS:
        p = timeframe_seconds(tf)
        for exchange, origin in FEEDS:
            for breaker in BREAKERS:
                for k in (None, -1.0, 0.0, 0.5, 1.0, 1.99, 2.0, 2.0001, 3.0, 47.0, 400.0, 5000.0):
                    last = None if k is None else NOW_S - p - k * p
                    cases.append([last, tf, exchange, origin, breaker, NOW_S])
    return cases


def _seen_cases():
    view = "{}|BTC/USDT|{}|-|volume|s20e50|lin"
    good = [{"view": view.format(ex, tf), "n": 3, "last": last}
            for ex, _ in FEEDS for tf in ("1m", "1h", "1d")
            for last in ("2026-12-02T09:00:00+00:00", "2026-11-02T09:00:00Z", "2026-12-02T10:29:00+00:00", None)]
    bad = [None, [], "x", 7, True, {}, {"view": None}, {"view": "binance"}, {"view": "binance|BTC/USDT|2h"},
           {"view": "|BTC/USDT|1h"}, {"view": view.format("binance", "1h"), "last": "2026-12-02T09:00:00"},
           {"view": view.format("binance", "1h"), "last": "yesterday+00:00"},
           {"view": view.format("binance", "1h"), "last": "2026-13-45T09:00:00+00:00"},
           {"view": view.format("binance", "1h"), "last": 12345},
           {"view": view.format("binance", "1h"), "last": "2026-12-02T09:00:00+00:00" + " " * 40},
           {"view": view.format("hasOwnProperty", "constructor")}]
    feeds = [None, [], {"breakers": None}, {"breakers": {"binance": "open", "kraken": "half-open", "demo": "open",
                                                         "csv": "open"}}, {"breakers": {"binance": 3}},
             {"now": NOW_S, "breakers": {"coinbase": "closed", "binance": "closed"}}]
    return [[s, f, NOW_S] for s in good + bad for f in feeds]


def test_the_browser_rule_gives_the_server_rule_answers(signed_in):
    from app.market.freshness import chart_freshness
    from app.market.origins import LIVE_EXCHANGES, origin
    from callbacks.market_feed import describe_seen

    duo = signed_in("trader@example.com")
    duo.wait_for_element("#market-chart .main-svg", timeout=30)
    js = "window.dash_clientside.cw_freshness"
    rules = _rule_cases()
    got = duo.driver.execute_script(f"return arguments[0].map(c => {js}.chartFreshness.apply(null, c))", rules)
    want = [dict(vars(chart_freshness(*c))) for c in rules]
    assert len(got) == len(want) > 1000
    diffs = [(c, g, w) for c, g, w in zip(rules, got, want) if g != w]
    assert not diffs, diffs[:5]

    seen = _seen_cases()
    got = duo.driver.execute_script(f"return arguments[0].map(c => {js}.describeSeen.apply(null, c))", seen)
    want = [list(describe_seen(*c)) for c in seen]
    diffs = [(c, g, w) for c, g, w in zip(seen, got, want) if g != w]
    assert not diffs, diffs[:5]
    assert sum("market-stale" in w[1] for w in want) > 10 and sum(w[0] == "" for w in want) > 10

    names = [*LIVE_EXCHANGES, "demo", "csv", "nasdaq"]
    assert duo.driver.execute_script(f"return arguments[0].map(e => {js}.originOf(e))", names) == \
        [origin(n) for n in names]
    # the clock offset: the server's clock minus the browser's, measured when the feeds' state arrives
    offset = duo.driver.execute_script(f"return {js}.clock({{now: Date.now() / 1000 + 3600}}).offset_ms")
    assert 3_590_000 < offset < 3_610_000
    assert duo.driver.execute_script(f"return [{js}.clock(null), {js}.clock({{now: 'x'}})]") == \
        [{"offset_ms": 0}, {"offset_ms": 0}]
