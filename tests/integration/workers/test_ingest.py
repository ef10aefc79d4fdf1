"""Ingestion end to end: fake exchange -> refresh/backfill -> database -> live cache, and a scheduled
refresh run by `rq cron` + a real RQ worker into PostgreSQL."""
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.fakes.candles import make_candles
from tests.fakes.exchange import FakeExchange

pytestmark = pytest.mark.integration


def _recent(n=600, symbol_seed=1, price=100.0):
    """``n`` closed 1m bars ending at the last closed minute (so a worker's real clock agrees)."""
    end = pd.Timestamp.now(tz="UTC").floor("min")
    start = end - pd.Timedelta(minutes=n)
    return make_candles(n, start=start.isoformat(), seed=symbol_seed, price=price)


@pytest.fixture
def fake():
    now = pd.Timestamp("2024-01-03T00:00:30Z")
    with FakeExchange({"BTCUSDT": make_candles(2 * 1440, start="2024-01-01T00:00:00Z")}, now=now) as ex:
        yield ex


def _source(fake, settings):
    from app.market.sources import make_source

    return make_source("binance", settings.with_(binance_base_url=fake.base_url), sleep=lambda s: None,
                       clock=lambda: fake.now.to_pydatetime())


def test_refresh_is_idempotent_and_fills_gaps(app, settings, fake):
    from app.extensions import db
    from app.market import store
    from app.market.ingest import refresh_series

    source = _source(fake, settings)
    now = fake.now.to_pydatetime()
    with app.app_context():
        first, new = refresh_series(db.session.connection(), source, "BTC/USDT", "1m", now=now)
        db.session.commit()
        assert first.written == 1000 and first.new_closed_bars == 1000  # FIRST_FETCH_BARS of history
        sid = store.find_series(db.session.connection(), "binance", "BTC/USDT", "1m")
        stored = store.load_candles(db.session.connection(), sid)
        expected = fake.candles["BTCUSDT"].loc[stored.index]
        assert (stored[["open", "high", "low", "close", "volume"]].to_numpy() == expected.to_numpy()).all()

        second, new = refresh_series(db.session.connection(), source, "BTC/USDT", "1m", now=now)
        db.session.commit()
        assert second.written == 0 and second.new_closed_bars == 0
        assert store.count_candles(db.session.connection(), sid) == 1000

        # punch a hole of 30 bars in the middle; the next refresh finds and backfills it
        hole_start = stored.index[400]
        db.session.execute(db.text("DELETE FROM candles WHERE series_id = :s AND time >= :a AND time < :b"),
                           {"s": sid, "a": hole_start.to_pydatetime().replace(tzinfo=None),
                            "b": (hole_start + timedelta(minutes=30)).to_pydatetime().replace(tzinfo=None)})
        db.session.commit()
        assert store.count_candles(db.session.connection(), sid) == 970
        third, _ = refresh_series(db.session.connection(), source, "BTC/USDT", "1m", now=now)
        db.session.commit()
        assert third.gaps_filled == 1 and third.written == 30
        assert store.count_candles(db.session.connection(), sid) == 1000


def test_refresh_of_unknown_symbol_writes_nothing(app, settings, fake):
    from app.extensions import db
    from app.market import store
    from app.market.ingest import refresh_series
    from app.market.sources.errors import UnknownSymbolError

    with app.app_context():
        with pytest.raises(UnknownSymbolError, match="NOPE/USDT"):
            refresh_series(db.session.connection(), _source(fake, settings), "NOPE/USDT", "1m",
                           now=fake.now.to_pydatetime())
        db.session.rollback()
        assert store.find_series(db.session.connection(), "binance", "NOPE/USDT", "1m") is None


def test_backfill_reports_progress_and_uses_bulk_path(app, settings, fake):
    from app.extensions import db
    from app.market import store
    from app.market.ingest import backfill_series

    seen = []
    with app.app_context():
        result = backfill_series(db.session.connection(), _source(fake, settings), "BTC/USDT", "5m",
                                 pd.Timestamp("2024-01-01T00:00Z").to_pydatetime(),
                                 pd.Timestamp("2024-01-02T00:00Z").to_pydatetime(),
                                 progress=lambda p, phase: seen.append(p), chunk_bars=100)
        db.session.commit()
        assert result.written == 288
        conn = db.session.connection()
        assert store.count_candles(conn, store.find_series(conn, "binance", "BTC/USDT", "5m")) == 288
    assert seen == sorted(seen) and seen[-1] == 100.0 and len(seen) == 3


def test_scheduled_refresh_runs_on_rq_worker_into_postgres(pg_app, rq_worker, fresh_pg_url, redis_url, tmp_path):
    """`rq cron` enqueues the refresh on its schedule; a real worker fetches from the fake exchange,
    writes PostgreSQL and the Redis live cache."""
    import redis

    from app.extensions import db
    from app.market import store
    from app.hot.live import LiveCache

    with FakeExchange({"BTCUSDT": _recent()}) as ex:
        config = tmp_path / "cron_test_config.py"
        config.write_text(
            "from rq import cron\n"
            "from workers.ingest import refresh\n"
            "cron.register(refresh, 'ingest', args=('binance', 'BTC/USDT', '1m'), interval=2, job_timeout=60)\n")
        env = {"BINANCE_BASE_URL": ex.base_url, "MARKET_DATA_SOURCE": "binance"}
        import os

        cron = subprocess.Popen([str(Path(sys.executable).parent / "rq"), "cron", "--url", redis_url, str(config)],
                                cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT), **env),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            rq_worker("ingest", "analysis", env=env, database_url=fresh_pg_url)
            deadline = time.monotonic() + 60
            count = 0
            with pg_app.app_context():
                while time.monotonic() < deadline:
                    conn = db.session.connection()
                    sid = store.find_series(conn, "binance", "BTC/USDT", "1m")
                    count = store.count_candles(conn, sid) if sid else 0
                    db.session.rollback()
                    if count:
                        break
                    time.sleep(0.5)
        finally:
            cron.terminate()
            cron.wait(timeout=10)
        assert ex.requests_to("/api/v3/klines"), "the worker never called the exchange"
    assert count >= 590  # ~600 closed bars of history
    cached = LiveCache(redis.Redis.from_url(redis_url)).read_candles("binance", "BTC/USDT", "1m")
    assert cached is not None and len(cached) >= 490
    ticker = LiveCache(redis.Redis.from_url(redis_url)).read_ticker("binance", "BTC/USDT")
    assert ticker is not None and ticker.price > 0
