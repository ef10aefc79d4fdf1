"""SIGKILL the work horse during an ingestion, an analysis and a (tiny) training: the ingest and analysis
jobs are retried by RQ (their queues' ``Retry``) and store each candle and signal once; the training job,
which has no retries, is visibly failed and leaves no model version."""
from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa
from rq.job import Job

from tests.fakes.candles import make_candles
from tests.fakes.exchange import FakeExchange
from tests.faults.conftest import child_env, horse_of, migrated, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]
TINY = {"lookback": 8, "units": 8, "epochs": 2, "batch_size": 64, "patience": 1}


def _kill_mid_job(worker, job_id, conn, timeout=60.0):
    """Wait until RQ says the job started and its horse exists, then SIGKILL the horse."""
    def started():
        return Job.fetch(job_id, connection=conn).get_status().value == "started" and horse_of(worker)

    horse = wait_for(started, timeout, 0.02, what=f"job {job_id} to start")
    horse.kill()
    return horse.pid


def _final(job_id, conn, timeout=120.0) -> Job:
    return wait_for(lambda: (j := Job.fetch(job_id, connection=conn)).get_status().value in ("finished", "failed")
                    and j, timeout, 0.2, what=f"job {job_id} to end")


def test_a_killed_ingest_is_retried_and_stores_every_candle_once(fresh_pg_url, redis_url, workers):
    from app.extensions import db
    from app.hot import redis_connection
    from tests.conftest import dispose
    from workers.queues import enqueue

    now = pd.Timestamp.now(tz="UTC").floor("h")
    bars = make_candles(3 * 24, start=(now - pd.Timedelta(hours=3 * 24)).isoformat(), freq_s=3600)
    with FakeExchange({"BTCUSDT": bars}, base_timeframe="1h") as fake:
        fake.delay_next(1, 6.0, path="/api/v3/klines")  # the first fetch hangs: the horse dies inside it
        server = migrated(fresh_pg_url, redis_url, binance_base_url=fake.base_url)
        conn = redis_connection(redis_url)
        env = child_env(redis_url, fresh_pg_url, BINANCE_BASE_URL=fake.base_url, MARKET_DATA_SOURCE="binance")
        with server.app_context():
            ref = enqueue("ingest", "workers.ingest.refresh", "binance", "BTC/USDT", "1h")
        worker = workers(env, "ingest", scheduler=True)
        wait_for(lambda: fake.requests_to("/api/v3/klines"), 120, 0.05, what="the fetch to start")
        _kill_mid_job(worker, ref.id, conn)
        job = _final(ref.id, conn)
        assert job.get_status().value == "finished", job.latest_result().exc_string if job.latest_result() else None
        assert job.retries_left == 2  # one retry of the ingest policy's three was used
        assert worker.poll() is None
        with server.app_context():
            total, distinct = db.session.execute(sa.text(
                "SELECT count(*), count(DISTINCT c.time) FROM candles c JOIN series s ON s.id = c.series_id "
                "WHERE s.exchange = 'binance' AND s.symbol = 'BTC/USDT' AND s.timeframe = '1h'")).one()
            db.session.remove()
        assert total == distinct and total >= 3 * 24 - 1  # every bar the fake has, once
        dispose(server)


def test_a_killed_analysis_is_retried_and_stores_each_signal_once(fresh_pg_url, redis_url, workers):
    from app.extensions import db
    from app.hot import redis_connection
    from app.market.seed import seed_demo
    from tests.conftest import dispose
    from workers.queues import enqueue

    server = migrated(fresh_pg_url, redis_url, demo_days=30)  # enough bars that the analysis takes a while
    with server.app_context():
        seed_demo(db.session.connection(), server.config["CW_SETTINGS"])
        db.session.commit()
        ref = enqueue("analysis", "workers.analysis.analyze", "demo", "BTC/USDT")
    conn = redis_connection(redis_url)
    worker = workers(child_env(redis_url, fresh_pg_url, DEMO_DAYS="30"), "analysis", scheduler=True)
    _kill_mid_job(worker, ref.id, conn)
    job = _final(ref.id, conn)
    outcomes = [r.type.name for r in job.results()]
    assert job.get_status().value == "finished" and job.retries_left == 1, outcomes  # killed once, retried once
    with server.app_context():
        total, distinct = db.session.execute(sa.text(
            "SELECT count(*), count(DISTINCT (timeframe, bar_time)) FROM signals "
            "WHERE exchange = 'demo' AND symbol = 'BTC/USDT'")).one()
        db.session.remove()
    assert total == distinct and total > 0
    dispose(server)


def test_a_killed_training_is_visibly_failed_and_registers_no_version(fresh_pg_url, redis_url, workers, tmp_path):
    from app.extensions import db
    from app.hot import redis_connection
    from app.market.seed import seed_demo
    from ml.registry import Registry
    from tests.conftest import dispose
    from workers.queues import enqueue

    models = tmp_path / "models"
    server = migrated(fresh_pg_url, redis_url, model_dir=str(models))
    with server.app_context():
        seed_demo(db.session.connection(), server.config["CW_SETTINGS"])
        db.session.commit()
        ref = enqueue("ml", "workers.ml.train", "demo", "BTC/USDT", "5m", TINY, 2)
    conn = redis_connection(redis_url)
    worker = workers(child_env(redis_url, fresh_pg_url, MODEL_DIR=str(models)), "ml")
    wait_for(lambda: (Job.fetch(ref.id, connection=conn).meta or {}).get("phase", "").startswith("walk-forward"),
             180, 0.1, what="training to begin")
    _kill_mid_job(worker, ref.id, conn)
    job = _final(ref.id, conn)
    assert job.get_status().value == "failed"  # the ml queue has no retries: failed in RQ, for the admin to see
    assert "terminated unexpectedly" in (job.latest_result().exc_string or "").lower()
    assert Registry(models).versions("BTC/USDT", "5m") == []
    assert worker.poll() is None
    dispose(server)
