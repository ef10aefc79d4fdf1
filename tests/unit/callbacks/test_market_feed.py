"""callbacks.market_feed: a chart's store read for its freshness line, and the feed-status callback over HTTP
(the session's embedded Dash app: no Redis, so the breakers are unknown unless a test says otherwise)."""
import time
from datetime import datetime, timezone

import pytest

from tests.conftest import login
from tests.integration.callbacks.ticks import dash_call

NOW = datetime(2026, 12, 2, 10, 30, tzinfo=timezone.utc).timestamp()
VIEW = "binance|BTC/USDT|1h|-|volume|s20e50|lin"
SLOTS = range(4)


def _cid(thing, k):
    return f"market-{thing}" if k == 0 else f"market-{thing}-{k}"


def _seen(last="2026-12-02T09:00:00+00:00", view=VIEW, **more):
    return {"view": view, "origin": "database", "bars": 500, "marks": "x", "n": 500,
            "first": "2026-11-11T12:00:00+00:00", "last": last, "forming": "sig", **more}


def test_seen_series_reads_what_the_chart_callback_stores():
    from callbacks.market_feed import seen_series

    assert seen_series(_seen()) == ("binance", "1h", datetime(2026, 12, 2, 9, tzinfo=timezone.utc).timestamp())
    assert seen_series(_seen(last="2026-12-02T09:00:00Z"))[2] == seen_series(_seen())[2]
    assert seen_series(_seen(last=None, n=0)) == ("binance", "1h", None)  # a chart with no bars


@pytest.mark.parametrize("seen", [
    None, [], "binance|BTC/USDT|1h", 7, True, {}, {"view": None}, {"view": ["binance", "BTC/USDT", "1h"]},
    {"view": "binance"}, {"view": "binance|BTC/USDT|2h"}, {"view": "|BTC/USDT|1h", "last": None},
    _seen(last="2026-12-02T09:00:00"),  # no offset: the browser would read it in its own time zone
    _seen(last="yesterday+00:00"), _seen(last="2026-13-45T09:00:00+00:00"), _seen(last=12345),
    _seen(last=["2026-12-02T09:00:00+00:00"]), _seen(last="2026-12-02T09:00:00+00:00" + " " * 40),
    _seen(last="2026-12-02T09:00:00+00:00\n"),
])
def test_a_store_this_code_did_not_write_gives_an_empty_line_not_an_error(seen):
    from callbacks.market_feed import describe_seen, seen_series
    from pages.market import FRESH_CLASS

    assert seen_series(seen) is None
    assert describe_seen(seen, {"breakers": {"binance": "open"}}, NOW) == ("", FRESH_CLASS)


def test_describe_seen_uses_the_chart_exchange_breaker_and_its_origin():
    from callbacks.market_feed import describe_seen
    from pages.market import FRESH_CLASS, STALE_CLASS

    assert describe_seen(_seen(), {"breakers": {"binance": "closed"}}, NOW) == ("data 30 min old", FRESH_CLASS)
    assert describe_seen(_seen(), {"breakers": None}, NOW) == ("data 30 min old", FRESH_CLASS)  # unknown
    text, cls = describe_seen(_seen(), {"breakers": {"binance": "open", "kraken": "closed"}}, NOW)
    assert cls == STALE_CLASS and text == ("data 30 min old — binance feed unavailable (circuit open), "
                                           "showing stored bars")
    assert describe_seen(_seen(), {"breakers": {"kraken": "open"}}, NOW)[1] == FRESH_CLASS  # another exchange's
    for feeds in (None, [], "open", {"breakers": ["open"]}, {"breakers": {"binance": 3}}):
        assert describe_seen(_seen(), feeds, NOW) == ("data 30 min old", FRESH_CLASS)
    demo = _seen(view="demo|BTC/USDT|1h|-|volume|s20e50|lin", last="2026-12-02T06:00:00+00:00")
    assert describe_seen(demo, {"breakers": {"demo": "open"}}, NOW)[0].endswith(
        "no new 1h bar from the demo feed for 2+ periods, showing stored bars")  # demo has no breaker to read


# -- the callback over HTTP ------------------------------------------------------------------------------

_OUTS = [("market-feeds", "data")] + [(_cid("freshness", k), p) for k in SLOTS for p in ("children", "className")]
FEED = ".." + "...".join(f"{c}.{p}" for c, p in _OUTS) + ".."


def _poll(client, seen: list):
    state = [{"id": _cid("chart-seen", k), "property": "data", "value": seen[k]} for k in SLOTS]
    return dash_call(client, FEED, [{"id": "market-feed-poll", "property": "n_intervals", "value": 3}], state)


@pytest.fixture
def trader(dash_server, make_dash_user):
    client = dash_server.test_client()
    assert login(client, make_dash_user("feeds")[0]).status_code == 302
    return client


def test_feed_status_answers_each_chart_line_and_the_feeds_state(trader, monkeypatch):
    import callbacks.market_feed as feed
    from pages.market import FRESH_CLASS, STALE_CLASS

    monkeypatch.setattr(feed, "now_s", lambda: NOW)
    old = _seen(last="2026-12-02T05:00:00+00:00")
    resp = _poll(trader, [_seen(), old, ["not", "a", "store"], None])
    assert resp.status_code == 200, resp.get_data()[:300]
    out = resp.get_json()["response"]
    assert out["market-feeds"]["data"] == {"now": NOW, "breakers": None}
    assert (out["market-freshness"]["children"], out["market-freshness"]["className"]) == ("data 30 min old",
                                                                                           FRESH_CLASS)
    assert out["market-freshness-1"]["className"] == STALE_CLASS
    assert out["market-freshness-1"]["children"] == ("data 4 h 30 min old — no new 1h bar from binance for 2+ "
                                                     "periods, showing stored bars")
    assert out["market-freshness-2"] == out["market-freshness-3"] == {"children": "", "className": FRESH_CLASS}

    seen_states = []
    monkeypatch.setattr(feed.hot, "breaker_states", lambda exchanges: seen_states.append(exchanges) or
                        {"binance": "open", "coinbase": "closed", "kraken": "half-open"})
    out = _poll(trader, [_seen(), None, None, None]).get_json()["response"]
    assert seen_states == [("binance", "coinbase", "kraken")]  # one read for every exchange behind a breaker
    assert out["market-freshness"]["className"] == STALE_CLASS
    assert out["market-freshness"]["children"] == ("data 30 min old — binance feed unavailable (circuit open), "
                                                   "showing stored bars")
    assert out["market-feeds"]["data"]["breakers"]["kraken"] == "half-open"


def test_feed_status_reads_no_database_and_is_cheap(trader, dash_server):
    """The poll's work is one hot-state read: no query of its own (the request's session check aside)."""
    from sqlalchemy import event

    from app.extensions import db

    _poll(trader, [_seen(), None, None, None])  # warm
    statements = []
    with dash_server.app_context():
        engine = db.engine
    listener = lambda *a, **k: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        started = time.perf_counter()
        resp = _poll(trader, [_seen(), _seen(), _seen(), _seen()])
        took = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert resp.status_code == 200
    assert not [s for s in statements if "candles" in s or "series" in s], statements
    assert took < 1.0
