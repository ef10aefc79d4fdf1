"""A paper strategy on a real RQ worker over a sequence of ingested bars: exactly the fills the backtest
predicts, stored in PostgreSQL; a worker killed mid-sequence and restarted gives the same fills with none
doubled; the emergency stop halts it."""
import signal
import time

import pandas as pd
import pytest

from tests.unit.backtest.backtest_candles import random_candles

pytestmark = pytest.mark.integration
BARS = random_candles(n=300 + 120, seed=11, start="2025-01-01")


def _ingest(app, frame):
    from app.extensions import db
    from app.market import store

    with app.app_context():
        sid = store.get_or_create_series(db.session.connection(), "demo", "BTC/USDT", "1h")
        store.upsert_candles(db.session.connection(), sid, frame)
        db.session.commit()


def _run_step(app, timeout=120.0):
    from workers.pipeline import enqueue_paper
    from workers.queues import fetch_job

    with app.app_context():
        job_id = enqueue_paper("demo", "BTC/USDT", app.config["CW_SETTINGS"])
        assert job_id is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = fetch_job(job_id)
            if job is not None and job.done:
                assert job.status == "finished", job
                return job_id
            time.sleep(0.1)
        try:
            why = _diagnosis(job_id)
        except Exception as exc:  # noqa: BLE001 - the timeout is the failure; the diagnosis only helps
            why = f"(no diagnosis: {exc!r})"
        raise AssertionError(f"paper step {job_id} not done: {why}")


def _diagnosis(job_id: str) -> str:
    """What a step that never finished was doing: its RQ status and the database sessions of the test's
    database (waiting ones show the lock), so a timeout says why."""
    from flask import current_app
    from rq import Worker

    import app.hot as hot
    from app.extensions import db
    from workers.queues import fetch_job

    job = fetch_job(job_id)
    rows = db.session.execute(db.text(
        "SELECT pid, state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all()
    db.session.rollback()
    status = None if job is None else (job.status, job.meta, (job.error or "")[-400:])
    r = hot.redis_connection(current_app.config["CW_SETTINGS"].redis_url)
    workers = [(w.name, w.state, w.queue_names(), w.get_current_job_id()) for w in Worker.all(connection=r)]
    return f"job {status}; workers {workers}; sessions {[tuple(r) for r in rows]}"


def _state(app, strategy_id):
    from app.extensions import db
    from app.models import PaperStrategy
    from app.portfolio import store

    with app.app_context():
        db.session.expire_all()
        row = db.session.get(PaperStrategy, strategy_id)
        out = (store.stored_fills(db.session, strategy_id), row.processed_through)
        db.session.rollback()
        return out


def test_paper_strategy_on_a_real_worker_matches_the_backtest(pg_app, rq_worker, fresh_pg_url):
    import app.hot as hot
    from app.auth.users import create_user
    from app.backtest.config import BacktestConfig
    from app.extensions import db
    from app.portfolio import paper, stepper, store
    from app.models import PaperFill, PaperStrategy
    from workers.queues import fetch_job

    start = BARS.index[300]
    spec = paper.make_spec(exchange="demo", symbol="BTC/USDT", timeframe="1h", strategy="ma_cross",
                           params={"fast": 5, "slow": 20}, config=BacktestConfig(stop_loss=0.01), start_at=start)
    with pg_app.app_context():
        owner = create_user("paper@example.com", "correct-horse-battery").id
        sid = store.create_strategy(db.session, owner, spec).id
        db.session.commit()

    cuts = [330, 350, 370, 390, 420]
    _ingest(pg_app, BARS.iloc[:cuts[0]])
    worker = rq_worker("backtests", database_url=fresh_pg_url)
    _run_step(pg_app)
    first, through = _state(pg_app, sid)
    assert through == BARS.index[cuts[0] - 1]

    # a step killed while it runs, bars keep arriving while the worker is down
    _ingest(pg_app, BARS.iloc[cuts[0]:cuts[1]])
    with pg_app.app_context():
        from workers.pipeline import enqueue_paper

        job_id = enqueue_paper("demo", "BTC/USDT", pg_app.config["CW_SETTINGS"])
        deadline = time.monotonic() + 60
        while fetch_job(job_id).status not in ("started", "finished", "failed") and time.monotonic() < deadline:
            time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    _ingest(pg_app, BARS.iloc[cuts[1]:cuts[2]])

    rq_worker("backtests", database_url=fresh_pg_url)           # restarted: catches up in order
    _run_step(pg_app)
    _run_step(pg_app)                                           # a replay adds nothing
    _ingest(pg_app, BARS.iloc[cuts[2]:cuts[3]])
    _run_step(pg_app)
    fills, through = _state(pg_app, sid)
    assert through == BARS.index[cuts[3] - 1]

    predicted = paper.fills(paper.run(spec, BARS.iloc[:cuts[3]]))
    assert len(predicted) >= 6
    assert [f.to_dict() for f in sorted(fills, key=lambda f: f.key)] == \
           [f.to_dict() for f in sorted(predicted, key=lambda f: f.key)]
    assert [f.to_dict() for f in first] == [f.to_dict() for f in fills if f.time <= BARS.index[cuts[0] - 1]]
    with pg_app.app_context():
        n = db.session.query(PaperFill).filter_by(strategy_id=sid).count()
        assert n == len(predicted)                               # none doubled
        report = stepper.reconcile_strategy(db.session, db.session.get(PaperStrategy, sid))
        assert report["match_rate"] == 100.0 and report["total"] == len(predicted)
        db.session.rollback()

    # the emergency stop halts it: new bars, no step
    with pg_app.app_context():
        hot.system_state(pg_app.config["CW_SETTINGS"]).stop("admin@example.com", "test")
    _ingest(pg_app, BARS.iloc[cuts[3]:cuts[4]])
    _run_step(pg_app)
    halted, through = _state(pg_app, sid)
    assert through == BARS.index[cuts[3] - 1] and len(halted) == len(fills)
    with pg_app.app_context():
        hot.system_state(pg_app.config["CW_SETTINGS"]).resume()
    _run_step(pg_app)
    resumed, through = _state(pg_app, sid)
    assert through == BARS.index[cuts[4] - 1]
    assert len(resumed) == len(paper.fills(paper.run(spec, BARS)))
