"""SIGKILL the work horse in the middle of a paper-trading step (``workers.paper.step``).

The step is caught mid-way without any sleep hook: the test holds a ``FOR NO KEY UPDATE`` lock on the
second strategy's row, so the horse commits the first strategy, inserts the second one's fills (in its
open transaction; the foreign-key check's ``KEY SHARE`` lock does not conflict) and then blocks on the
``UPDATE paper_strategies`` that records how far it got. The horse is killed there. The ``backtests``
queue has no retries, so RQ fails the job visibly; the first strategy stays stepped, the second keeps
nothing of its half-step, no database transaction or RQ job stays open, and the next step (re-run here,
the next analysis run in production) stores exactly the fills one uninterrupted step stores, none twice.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry

from tests.faults.conftest import child_env, horse_of, migrated, wait_for
from tests.unit.backtest.backtest_candles import random_candles

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]
BARS = random_candles(n=300 + 240, seed=11, start="2025-01-01")
PASSWORD = "correct-horse-battery"


def _ingest(server, symbol):
    from app.extensions import db
    from app.market import store

    with server.app_context():
        sid = store.get_or_create_series(db.session.connection(), "demo", symbol, "1h")
        store.upsert_candles(db.session.connection(), sid, BARS)
        db.session.commit()


def _spec(symbol):
    from app.backtest.config import BacktestConfig
    from app.portfolio import paper

    return paper.make_spec(exchange="demo", symbol=symbol, timeframe="1h", strategy="ma_cross",
                           params={"fast": 5, "slow": 20}, config=BacktestConfig(stop_loss=0.01),
                           start_at=BARS.index[300])


def _enqueue_step(server, symbol) -> str:
    from workers.pipeline import enqueue_paper

    with server.app_context():
        job_id = enqueue_paper("demo", symbol, server.config["CW_SETTINGS"])
    assert job_id is not None
    return job_id


def _final(job_id, conn, timeout=120.0) -> Job:
    return wait_for(lambda: (j := Job.fetch(job_id, connection=conn)).get_status().value in ("finished", "failed")
                    and j, timeout, 0.1, what=f"paper step {job_id} to end")


def _stored(server, strategy_id):
    """(fills as dicts, fill row ids, processed_through, status) as committed, read from a fresh session."""
    from app.extensions import db
    from app.models import PaperStrategy
    from app.portfolio import store

    with server.app_context():
        db.session.expire_all()
        row = db.session.get(PaperStrategy, strategy_id)
        fills = [f.to_dict() for f in store.stored_fills(db.session, strategy_id)]
        ids = db.session.execute(sa.text("SELECT id FROM paper_fills WHERE strategy_id = :s ORDER BY id"),
                                 {"s": strategy_id}).scalars().all()
        out = fills, ids, row.processed_through, row.status
        db.session.remove()
        return out


def test_a_paper_step_killed_mid_strategy_fails_visibly_and_the_next_step_stores_each_fill_once(
        fresh_pg_url, redis_url, workers):
    from app.auth.users import create_user
    from app.extensions import db
    from app.hot import redis_connection
    from app.portfolio import paper, store
    from tests.conftest import dispose

    server = migrated(fresh_pg_url, redis_url)
    _ingest(server, "BTC/USDT")
    _ingest(server, "ETH/USDT")  # the same bars under another symbol: the control strategy's market
    with server.app_context():
        owner = create_user("paper-fault@example.com", PASSWORD).id
        first = store.create_strategy(db.session, owner, _spec("BTC/USDT")).id
        second = store.create_strategy(db.session, owner, _spec("BTC/USDT")).id
        control = store.create_strategy(db.session, owner, _spec("ETH/USDT")).id
        db.session.commit()
    conn = redis_connection(redis_url)
    worker = workers(child_env(redis_url, fresh_pg_url), "backtests")

    # the control: one uninterrupted step of the same strategy over the same bars
    done = _final(_enqueue_step(server, "ETH/USDT"), conn)
    assert done.get_status().value == "finished", done.latest_result().exc_string
    expected, _, expected_through, _ = _stored(server, control)
    assert len(expected) >= 10 and expected_through == BARS.index[-1]
    assert expected == [f.to_dict() for f in paper.fills(paper.run(_spec("ETH/USDT"), BARS))]

    locker = sa.create_engine(fresh_pg_url, poolclass=sa.pool.NullPool)
    lock = locker.connect()
    lock.execute(sa.text("SELECT id FROM paper_strategies WHERE id = :s FOR NO KEY UPDATE"), {"s": second})
    job_id = _enqueue_step(server, "BTC/USDT")

    watcher = sa.create_engine(fresh_pg_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    watch = watcher.connect()  # autocommit: pg_stat_activity is a snapshot per transaction

    def blocked_on_the_second_strategy():
        rows = watch.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query ILIKE 'UPDATE paper_strategies%'")).all()
        return rows and horse_of(worker)

    horse = wait_for(blocked_on_the_second_strategy, 120, 0.05, what="the step to block on the second strategy")
    assert Job.fetch(job_id, connection=conn).get_status().value == "started"
    # mid-step: the first strategy is committed, the second one's fills exist only in the horse's transaction
    fills, _, through, _ = _stored(server, first)
    assert fills == expected and through == expected_through
    assert _stored(server, second)[:3] == ([], [], None)
    horse.kill()
    horse.wait(timeout=10)
    lock.rollback()  # the dead client's backend now runs its UPDATE, cannot answer, and rolls back
    lock.close()

    job = _final(job_id, conn)
    assert job.get_status().value == "failed"  # the backtests queue has no retries: failed, for the admin to see
    assert "terminated unexpectedly" in (job.latest_result().exc_string or "").lower()
    assert job_id in FailedJobRegistry("backtests", connection=conn).get_job_ids()
    assert StartedJobRegistry("backtests", connection=conn).get_job_ids() == []  # nothing stays running
    # the horse's transaction is gone, none of its half-step is left
    wait_for(lambda: watch.execute(sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND (state LIKE 'idle in transaction%' OR wait_event_type = 'Lock' OR state = 'active')")).scalar_one()
             == 0, 30, 0.2, what="the killed horse's transaction to end")
    watch.close()
    watcher.dispose()
    locker.dispose()
    assert _stored(server, second)[:3] == ([], [], None)
    first_fills, first_ids, _, _ = _stored(server, first)

    # the next step catches the second strategy up and adds nothing to the first
    again = _final(_enqueue_step(server, "BTC/USDT"), conn)
    assert again.get_status().value == "finished", again.latest_result().exc_string
    steps = {s["strategy_id"]: s["new_fills"] for s in again.return_value()["steps"]}
    assert steps == {first: 0, second: len(expected)}
    for sid in (first, second):
        fills, ids, through, status = _stored(server, sid)
        assert fills == expected  # exactly the uninterrupted step's fills
        assert through == expected_through and status == "active"
    assert _stored(server, first)[1] == first_ids  # the very same rows: nothing re-inserted
    with server.app_context():
        total, distinct = db.session.execute(sa.text(
            "SELECT count(*), count(DISTINCT (strategy_id, trade_no, leg)) FROM paper_fills")).one()
        db.session.remove()
    assert total == distinct == 3 * len(expected)
    assert StartedJobRegistry("backtests", connection=conn).get_job_ids() == []
    assert worker.poll() is None  # the worker itself survived its horse
    dispose(server)
