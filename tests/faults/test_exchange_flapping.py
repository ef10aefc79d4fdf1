"""A slow, flapping exchange (the local fake adding latency, connection resets and garbage): the breaker
opens and then fails fast without calling the exchange, its state is shared in Redis, and the pages served
by gunicorn meanwhile answer as fast as before."""
from __future__ import annotations

import statistics
import threading
import time

import pandas as pd
import pytest

from tests.fakes.candles import make_candles
from tests.fakes.exchange import FakeExchange
from tests.faults.conftest import child_env, migrated

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]
PASSWORD = "correct-horse-battery"


def _latencies(session, url, n):
    out = []
    for _ in range(n):
        started = time.monotonic()
        assert session.get(url, timeout=15).status_code == 200
        out.append(time.monotonic() - started)
    return out


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
    web = gunicorn(child_env(redis_url, fresh_pg_url))
    browser = web.signed_in("flapping@example.com", PASSWORD)
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

    # the web process never waits on the exchange: the page is as fast as before
    p50_before, p50_during = statistics.median(before), statistics.median(during)
    assert max(during) < 2.0, during
    assert p50_during < 3 * p50_before + 0.25, (before, during)
    dispose(server)
