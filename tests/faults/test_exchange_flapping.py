"""A slow, flapping exchange (the local fake adding latency, connection resets and garbage): the breaker
opens and then fails fast without calling the exchange, its state is shared in Redis, the pages served
by gunicorn meanwhile answer as fast as before, and the Market page says the feed is down and how old
the bars it shows are."""
from __future__ import annotations

import re
import statistics
import threading
import time

import pandas as pd
import pytest

from tests.fakes.candles import make_candles
from tests.fakes.exchange import FakeExchange
from tests.faults.conftest import child_env, migrated
from tests.integration.admin.dash_calls import dash_post

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]
PASSWORD = "correct-horse-battery"


def _latencies(session, url, n):
    out = []
    for _ in range(n):
        started = time.monotonic()
        assert session.get(url, timeout=15).status_code == 200
        out.append(time.monotonic() - started)
    return out


class _Http:
    """A signed-in ``requests`` session on gunicorn, shaped like the Flask test client ``dash_post`` takes."""

    def __init__(self, session, base: str):
        self.session, self.base = session, base

    def _answer(self, resp):
        resp.get_json = resp.json
        return resp

    def get(self, path):
        return self._answer(self.session.get(self.base + path, timeout=15))

    def post(self, path, data, content_type):
        return self._answer(self.session.post(self.base + path, data=data, timeout=15,
                                              headers={"Content-Type": content_type}))


def _seed_binance_series(server, symbol: str) -> pd.Timestamp:
    """Stored 1h bars of ``symbol`` on binance up to the last closed hour (current data); returns its open."""
    import app.hot as hot
    from app.extensions import db
    from app.market import store

    last = pd.Timestamp.now(tz="UTC").floor("1h") - pd.Timedelta(hours=1)
    bars = make_candles(200, start=(last - pd.Timedelta(hours=199)).isoformat(), freq_s=3600, seed=3)
    with server.app_context():
        sid = store.get_or_create_series(db.session.connection(), "binance", symbol, "1h")
        store.upsert_candles(db.session.connection(), sid, bars)
        db.session.commit()
        hot.catalog_cache().invalidate()
    return last


def _market_freshness(http, symbol: str) -> tuple[dict, dict]:
    """The Market page as the browser asks for it: the chart of ``symbol`` 1h (its store), then the feed
    status poll with that store; returns (the first chart's freshness output, the feeds' state)."""
    chart = dash_post(http, "market-chart-seen.data", {"market-symbol.value": symbol, "market-timeframe.value": "1h",
                                                       "market-count.value": 1, "market-panes.value": ["volume"]},
                      changed=["market-symbol.value"])
    assert chart.status_code == 200, chart.text[:300]
    seen = chart.json()["response"]["market-chart-seen"]["data"]
    assert seen["view"].startswith(f"binance|{symbol}|1h|")
    started = time.monotonic()
    feed = dash_post(http, "market-feeds.data", {"market-feed-poll.n_intervals": 1, "market-chart-seen.data": seen},
                     changed=["market-feed-poll.n_intervals"])
    took = time.monotonic() - started
    assert feed.status_code == 200, feed.text[:300]
    assert took < 2.0, took  # one Redis read, never a wait on the exchange
    out = feed.json()["response"]
    return out["market-freshness"], out["market-feeds"]["data"]


def test_the_breaker_opens_on_a_flapping_exchange_and_pages_do_not_slow_down(fresh_pg_url, redis_url, gunicorn):
    from app.auth.users import create_user
    from app.extensions import db
    from app.hot import breaker_storage, redis_connection
    from app.hot.breakers import read_states
    from app.market.seed import seed_demo
    from app.market.sources import make_source
    from app.market.sources.breaker import CircuitBreaker
    from app.market.sources.errors import CircuitOpenError
    from app.market.sources.http import RetryPolicy
    from tests.conftest import dispose

    server = migrated(fresh_pg_url, redis_url)
    settings = server.config["CW_SETTINGS"]
    with server.app_context():
        seed_demo(db.session.connection(), settings)
        db.session.commit()
        create_user("flapping@example.com", PASSWORD)
    last_bar = _seed_binance_series(server, "FLAP/USDT")
    web = gunicorn(child_env(redis_url, fresh_pg_url))
    browser = web.signed_in("flapping@example.com", PASSWORD)
    http = _Http(browser, web.base)
    line, feeds = _market_freshness(http, "FLAP/USDT")  # before: the feed is up and the data current
    assert feeds["breakers"] == {"binance": "closed", "coinbase": "closed", "kraken": "closed"}
    assert re.fullmatch(r"data (<1|\d+) min old", line["children"]), line
    assert "market-stale" not in line["className"]
    page = web.base + "/_dash-layout"
    _latencies(browser, page, 3)  # warm
    before = _latencies(browser, page, 10)

    now = pd.Timestamp("2024-01-02T00:00:30Z")
    with FakeExchange({"BTCUSDT": make_candles(1440, start="2024-01-01T00:00:00Z")}, now=now) as fake:
        for _ in range(8):  # a flapping exchange: a reset, garbage, a hang, in turn
            fake.reset_next(1)
            fake.garbage_next(1)
            fake.delay_next(1, 2.0)
        breaker = CircuitBreaker("binance", failure_threshold=5, reset_timeout_s=60,
                                 storage=breaker_storage("binance", settings))
        source = make_source("binance", settings.with_(binance_base_url=fake.base_url, http_timeout_s=0.5),
                             retry=RetryPolicy(max_retries=1, backoff_base_s=0.01, backoff_max_s=0.05),
                             breaker=breaker, clock=lambda: now.to_pydatetime())
        errors: list[BaseException] = []

        def hammer():
            for _ in range(12):
                try:
                    source.fetch_candles("BTC/USDT", "1h", now.to_pydatetime() - pd.Timedelta(hours=6),
                                         now.to_pydatetime())
                except Exception as exc:  # noqa: BLE001 - every kind of failure is what we collect
                    errors.append(exc)
                    if isinstance(exc, CircuitOpenError):
                        return

        worker = threading.Thread(target=hammer, name="flapping-exchange")
        worker.start()
        during = _latencies(browser, page, 10)
        worker.join(timeout=120)
        assert not worker.is_alive()

        assert errors and isinstance(errors[-1], CircuitOpenError), [type(e).__name__ for e in errors]
        assert len(errors) == 6  # five failures open it, the sixth call fails fast
        state = read_states(redis_connection(redis_url), settings.redis_prefix, ["binance"])[0]
        assert state.state == "open" and state.opened_at is not None  # every process sees it open
        asked = len(fake.requests)
        started = time.monotonic()
        with pytest.raises(CircuitOpenError):
            source.fetch_candles("BTC/USDT", "1h", now.to_pydatetime() - pd.Timedelta(hours=6), now.to_pydatetime())
        assert time.monotonic() - started < 0.5 and len(fake.requests) == asked  # no call reached the exchange

        # the Market page (through gunicorn) says the feed is down and how old the bars it shows are
        line, feeds = _market_freshness(http, "FLAP/USDT")
        assert feeds["breakers"]["binance"] == "open"
        assert "market-stale" in line["className"] and "text-warning" in line["className"]
        age = re.fullmatch(r"data (<1|\d+) min old — binance feed unavailable \(circuit open\), showing stored bars",
                           line["children"])
        assert age, line
        expected_min = (pd.Timestamp.now(tz="UTC") - (last_bar + pd.Timedelta(hours=1))).total_seconds() // 60
        assert age.group(1) == ("<1" if expected_min < 1 else str(int(expected_min))) or \
            abs(int(age.group(1).replace("<1", "0")) - expected_min) <= 1, (line, expected_min)

    # the web process never waits on the exchange: the page is as fast as before
    p50_before, p50_during = statistics.median(before), statistics.median(during)
    assert max(during) < 2.0, during
    assert p50_during < 3 * p50_before + 0.25, (before, during)
    dispose(server)
