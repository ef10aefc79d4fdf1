"""Issue 10, finding 4: a per-user quota on queued runs and fair turns between users on the shared queue
(real PostgreSQL, Redis and `rq worker`)."""
import time

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration
PASSWORD = "correct-horse-battery"


def _setup(app, **settings):
    from app.auth.users import create_user
    from app.extensions import db
    from app.market.seed import seed_demo

    app.config["CW_SETTINGS"] = app.config["CW_SETTINGS"].with_(**settings)
    with app.app_context():
        seed_demo(db.session.connection(), app.config["CW_SETTINGS"])
        db.session.commit()
        trader = create_user("trader@example.com", PASSWORD).id
        admin = create_user("admin@example.com", PASSWORD, role="admin").id
    return trader, admin


def _form(**changes):
    form = {"symbols": ["BTC/USDT", "ETH/USDT"], "timeframe": "15m", "start": "2000-01-01", "end": "2100-01-01",
            "strategy": "ma_cross", "params": {"fast": "5, 8", "slow": "20"}, "fee_bps": 4, "slippage_bps": 2}
    form.update(changes)
    return form


def _rows(app):
    from app.extensions import db
    from app.models import Backtest

    with app.app_context():
        rows = db.session.execute(sa.select(Backtest).order_by(Backtest.id)).scalars().all()
        for r in rows:
            db.session.expunge(r)
        return rows


def _queued_job_ids(app):
    from rq import Queue

    from workers.queues import runner

    with app.app_context():
        return Queue("backtests", connection=runner().connection).job_ids


def test_finding_4_quota_refuses_a_request_over_the_limit_and_writes_nothing(pg_app):
    from app.backtest.fairness import QuotaExceeded
    from app.backtest.requests import InvalidRequest
    from app.extensions import db
    from workers import backtests as jobs

    trader, admin = _setup(pg_app, backtest_max_queued_per_user=6, backtest_max_active_per_user=2)
    with pg_app.app_context():
        first = jobs.submit(db.session, trader, _form())  # 4 runs
        with pytest.raises(QuotaExceeded) as err:
            jobs.submit(db.session, trader, _form())  # 4 more: 8 > 6
        assert isinstance(err.value, InvalidRequest)  # the page and an API show it like any form message
        msg = err.value.errors[0]
        assert "you have 4 run(s) queued or running" in msg and "adds 4" in msg and "limit is 6 per user" in msg
        assert "Submit at most 2 more now" in msg
        db.session.rollback()
        # the quota is per user: the admin is not refused because the trader is busy
        other = jobs.submit(db.session, admin, _form(symbols=["BTC/USDT"], params={"fast": "5", "slow": "20"}))
    rows = _rows(pg_app)
    assert [r.id for r in rows if r.user_id == trader] == first.ids  # nothing of the refused request was written
    assert [r.id for r in rows if r.user_id == admin] == other.ids
    # only each user's window is on the queue; the trader's other runs wait their turn in the database
    assert sorted(_queued_job_ids(pg_app)) == sorted([f"backtest-{i}" for i in first.ids[:2]] + [other.job_id])
    assert [r.phase for r in rows if r.user_id == trader] == ["enqueued", "enqueued", "waiting", "waiting"]


def test_finding_4_quota_message_on_the_backtests_page(dash_server, make_dash_user):
    """The page's submit callback answers over the quota with the message, and starts nothing."""
    from flask_login import login_user

    from app.extensions import db
    from app.models import Backtest, User
    from callbacks import backtests as page

    from app.market.seed import seed_demo

    _, trader = make_dash_user("quota")
    with dash_server.app_context():  # the same demo data the browser tests seed (idempotent)
        seed_demo(db.session.connection(), dash_server.config["CW_SETTINGS"])
        db.session.commit()
    f = _form()
    saved = dash_server.config["CW_SETTINGS"]
    dash_server.config["CW_SETTINGS"] = saved.with_(backtest_max_queued_per_user=3)
    try:
        with dash_server.test_request_context("/backtests"):
            login_user(db.session.get(User, trader))
            out = page.submit(
                1, f["symbols"], f["timeframe"], f["start"], f["end"], f["strategy"], ["5, 8", "20"],
                [{"type": "bt-param", "index": "fast"}, {"type": "bt-param", "index": "slow"}], 4, 2, None, None,
                None, None, None, None, "single", None, None, None)
            n = db.session.execute(sa.select(sa.func.count()).select_from(Backtest)
                                   .where(Backtest.user_id == trader)).scalar_one()
    finally:
        dash_server.config["CW_SETTINGS"] = saved
    alert = out[0]
    assert alert.id == "bt-form-errors" and "Not started" in str(alert), alert
    assert "limit is 3 per user" in str(alert) and "this request adds 4" in str(alert)
    assert n == 0


def test_finding_4_a_second_users_run_is_not_starved_by_anothers_batches(pg_app, rq_worker, fresh_pg_url):
    """Two batches from a trader (8 runs), then one run from an admin, one worker: the admin's run goes
    next after the trader's first, not after all eight (the old fan-out put all eight ahead of it)."""
    from app.extensions import db
    from workers import backtests as jobs

    trader, admin = _setup(pg_app, backtest_max_active_per_user=1)
    with pg_app.app_context():
        batches = [jobs.submit(db.session, trader, _form()) for _ in range(2)]
        single = jobs.submit(db.session, admin, _form(symbols=["BTC/USDT"], params={"fast": "5", "slow": "20"}))
    trader_ids = [i for b in batches for i in b.ids]
    assert len(trader_ids) == 8
    assert _queued_job_ids(pg_app) == [f"backtest-{trader_ids[0]}", single.job_id]

    worker = rq_worker("backtests", database_url=fresh_pg_url, env={"BACKTEST_MAX_ACTIVE_PER_USER": "1"})
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        rows = _rows(pg_app)
        if all(r.status in ("finished", "failed") for r in rows):
            break
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
        time.sleep(0.25)
    else:
        raise AssertionError(f"runs not done: {[(r.id, r.status, r.phase) for r in _rows(pg_app)]}")
    rows = {r.id: r for r in _rows(pg_app)}
    assert all(r.status == "finished" for r in rows.values()), [(r.id, r.error) for r in rows.values()]
    mine = rows[single.ids[0]]
    started_before = [i for i in trader_ids if rows[i].started_at < mine.started_at]
    assert started_before == [trader_ids[0]]  # one trader run (the one already running), not eight
    # and the trader's runs kept their own order, each dispatched when the previous one ended
    starts = [rows[i].started_at for i in trader_ids]
    assert starts == sorted(starts)
    assert all(rows[a].finished_at <= rows[b].started_at for a, b in zip(trader_ids, trader_ids[1:]))


def test_finding_4_the_window_holds_and_a_dead_job_stops_holding_a_place(app, make_user):
    """claim_next on SQLite (embedded mode): at most ``window`` runs enqueued per user, oldest first; a run
    whose job died without finishing its row is marked failed and frees its place."""
    from datetime import datetime, timezone

    from app.backtest import fairness
    from app.backtest.config import BacktestConfig
    from app.backtest.requests import RunSpec
    from app.backtest.submit import create_rows
    from app.extensions import db
    from app.models import Backtest

    user = make_user("w@example.com")
    spec = RunSpec("demo", "BTC/USDT", "15m", datetime(2024, 1, 1, tzinfo=timezone.utc),
                   datetime(2024, 2, 1, tzinfo=timezone.utc), "ma_cross", {"fast": 5, "slow": 20}, BacktestConfig())
    with app.app_context():
        rows, _ = create_rows(db.session, user, [spec, spec, spec])
        db.session.commit()
        ids = [r.id for r in rows]
        first = fairness.claim_next(db.session, user, window=1)
        db.session.commit()
        assert [r.id for r in first] == ids[:1]
        assert fairness.claim_next(db.session, user, window=1) == []  # the window is full
        db.session.commit()
        nxt = fairness.claim_next(db.session, user, window=1,
                                  job_failed=lambda job_id: "worker killed" if job_id == f"backtest-{ids[0]}" else None)
        db.session.commit()
        assert [r.id for r in nxt] == ids[1:2]
        dead = db.session.get(Backtest, ids[0])
        assert dead.status == "failed" and dead.error == "worker killed"
        assert fairness.open_runs(db.session, user) == 2
