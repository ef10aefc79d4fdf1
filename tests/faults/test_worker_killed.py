"""SIGKILL a worker's work horse mid-job: RQ fails (or retries) the job, the sweeper marks the orphaned row
failed with a message, nothing is stored twice and nothing stays "running"."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from tests.faults.conftest import child_env, horse_of, migrated, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]
PASSWORD = "correct-horse-battery"


def _seed(server):
    from app.auth.users import create_user
    from app.extensions import db
    from app.market.seed import seed_demo

    with server.app_context():
        seed_demo(db.session.connection(), server.config["CW_SETTINGS"])
        db.session.commit()
        return create_user("killed@example.com", PASSWORD).id


def _form(**changes):
    form = {"symbols": ["BTC/USDT"], "timeframe": "15m", "start": "2000-01-01", "end": "2100-01-01",
            "strategy": "score_threshold", "params": {"enter_long": "55, 60, 65, 70", "exit_long": "45, 50"},
            "fee_bps": 4, "slippage_bps": 2, "mode": "walk_forward", "train_bars": 96, "test_bars": 48}
    form.update(changes)
    return form


def _status(server, backtest_id):
    from app.extensions import db

    with server.app_context():
        got = db.session.execute(sa.text("SELECT status, error FROM backtests WHERE id = :i"),
                                 {"i": backtest_id}).one()
        db.session.remove()
        return got


def test_a_backtest_whose_horse_is_killed_is_marked_failed_by_the_sweeper_and_the_next_run_finishes(
        fresh_pg_url, redis_url, workers):
    from app.extensions import db
    from workers import backtests as jobs
    from workers import sweeper
    from workers.queues import fetch_job

    server = migrated(fresh_pg_url, redis_url)
    owner = _seed(server)
    with server.app_context():
        first = jobs.submit(db.session, owner, _form())
    worker = workers(child_env(redis_url, fresh_pg_url), "backtests")
    wait_for(lambda: _status(server, first.ids[0])[0] == "running", 120, 0.02, what="the run to start")
    horse = wait_for(lambda: horse_of(worker), 10, 0.02, what="the work horse")
    horse.kill()  # SIGKILL, as the OOM killer would

    with server.app_context():
        job = wait_for(lambda: (j := fetch_job(first.job_id)) is not None and j.done and j, 60, 0.2,
                       what="RQ to notice the dead horse")
        assert job.status == "failed"  # the backtests queue has no retries: visibly failed in RQ
    assert _status(server, first.ids[0])[0] == "running"  # what the sweeper is for

    with server.app_context():
        report = sweeper.sweep(db.session)
        db.session.remove()
    assert report["failed_rows"] == [first.ids[0]]
    status, error = _status(server, first.ids[0])
    assert status == "failed" and "worker running this backtest stopped" in error and "submit it again" in error
    with server.app_context():
        trades = db.session.execute(sa.text("SELECT count(*) FROM backtest_trades WHERE backtest_id = :i"),
                                    {"i": first.ids[0]}).scalar_one()
        again = sweeper.sweep(db.session)  # idempotent: nothing left to sweep
        db.session.remove()
    assert trades == 0 and again["failed_rows"] == [] and again["requeued_rows"] == []

    # the worker survived its horse and runs the next submission to the end, once
    assert worker.poll() is None
    with server.app_context():
        second = jobs.submit(db.session, owner, _form(mode="single", strategy="ma_cross",
                                                      params={"fast": "5", "slow": "20"}))
    wait_for(lambda: _status(server, second.ids[0])[0] in ("finished", "failed"), 120, 0.2, what="the next run")
    assert _status(server, second.ids[0]) == ("finished", None)
    with server.app_context():
        counts = db.session.execute(sa.text(
            "SELECT count(*), count(DISTINCT seq) FROM backtest_trades WHERE backtest_id = :i"),
            {"i": second.ids[0]}).one()
        db.session.remove()
    assert counts[0] == counts[1] and counts[0] > 0  # every trade once
    from tests.conftest import dispose

    dispose(server)


def test_a_running_row_whose_job_redis_lost_is_failed_and_a_queued_one_goes_back_to_waiting(fresh_pg_url, redis_url,
                                                                                          redis_client):
    """Redis lost the jobs (restarted without AOF, or flushed): the sweeper fails what was running and
    dispatches again what was waiting on the queue, so queued work is not lost."""
    from app.extensions import db
    from workers import backtests as jobs
    from workers import sweeper
    from workers.queues import fetch_job

    server = migrated(fresh_pg_url, redis_url, backtest_max_active_per_user=2)
    owner = _seed(server)
    with server.app_context():
        sub = jobs.submit(db.session, owner, _form(symbols=["BTC/USDT", "ETH/USDT"], mode="single",
                                                   strategy="ma_cross", params={"fast": "5", "slow": "20"}))
        db.session.execute(sa.text("UPDATE backtests SET status = 'running' WHERE id = :i"), {"i": sub.ids[0]})
        db.session.commit()
    redis_client.flushdb()  # every job gone
    with server.app_context():
        report = sweeper.sweep(db.session)
        requeued = fetch_job(f"backtest-{sub.ids[1]}")
        db.session.remove()
    assert report["failed_rows"] == [sub.ids[0]] and report["requeued_rows"] == [sub.ids[1]]
    assert "no longer known to the job queue" in _status(server, sub.ids[0])[1]
    assert requeued is not None and requeued.status == "queued"  # dispatched again
    from tests.conftest import dispose

    dispose(server)


def test_a_job_whose_whole_worker_was_killed_is_handed_to_rqs_cleanup_by_the_sweeper(fresh_pg_url, redis_url,
                                                                                   workers):
    """Worker and horse SIGKILLed together: nobody is left to fail the job, so it would sit in the
    StartedJobRegistry until its timeout (an hour on ``ml``); the sweeper sees its worker silent and RQ's own
    cleanup moves it to the FailedJobRegistry."""
    import os
    import signal

    from rq.job import Job
    from rq.registry import FailedJobRegistry, StartedJobRegistry

    from app.hot import redis_connection
    from workers import sweeper
    from workers.queues import enqueue

    server = migrated(fresh_pg_url, redis_url)
    conn = redis_connection(redis_url)
    with server.app_context():
        ref = enqueue("ml", "workers.system.ping", "long", steps=60, delay_s=1.0)
    worker = workers(child_env(redis_url, fresh_pg_url), "ml")
    horse = wait_for(lambda: Job.fetch(ref.id, connection=conn).get_status().value == "started" and horse_of(worker),
                     60, 0.05, what="the job to start")
    os.killpg(horse.pid, signal.SIGKILL)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert ref.id in StartedJobRegistry("ml", connection=conn).get_job_ids()  # orphaned: still "started"

    assert sweeper.sweep_registries(conn, stale_after=600) == []  # a fresh heartbeat: not judged dead yet
    time.sleep(1.5)
    assert sweeper.sweep_registries(conn, stale_after=1.0) == [ref.id]
    job = Job.fetch(ref.id, connection=conn)
    assert job.get_status().value == "failed" and ref.id in FailedJobRegistry("ml", connection=conn).get_job_ids()
    assert "AbandonedJobError" in (job.latest_result().exc_string or "")
    assert ref.id not in StartedJobRegistry("ml", connection=conn).get_job_ids()
    from tests.conftest import dispose

    dispose(server)
