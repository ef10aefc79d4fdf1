"""Backtests in embedded mode (SQLite, in-process jobs): same service path, failures recorded, owners separated."""
from datetime import datetime, timezone

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(app, make_user):
    from app.extensions import db
    from app.market.seed import seed_demo

    with app.app_context():
        seed_demo(db.session.connection(), app.config["CW_SETTINGS"])
        db.session.commit()
    return make_user("a@example.com"), make_user("b@example.com")


FORM = {"symbols": ["BTC/USDT"], "timeframe": "15m", "start": "2000-01-01", "end": "2100-01-01",
        "strategy": "rsi_reversion", "params": {"length": "14"}}


def test_inprocess_run_and_history_is_per_user(app, seeded):
    from app.api import downloads
    from app.backtest import results
    from app.backtest import submit as submission
    from workers import backtests as jobs
    from app.extensions import db
    from workers.queues import fetch_job, runner

    a, b = seeded
    with app.app_context():
        sub = jobs.submit(db.session, a, FORM)
        runner().wait(60)
        job = fetch_job(sub.job_id)
        assert job.status == "finished", job.error
        assert job.meta["progress"] == 100 and job.meta["phase"] == "done"
        db.session.rollback()
        assert [r.id for r in results.list_runs(db.session, a)] == sub.ids
        assert results.list_runs(db.session, b) == []
        with pytest.raises(results.RunNotFound):
            results.run_view(db.session, b, sub.ids[0])
        view = results.run_view(db.session, a, sub.ids[0])
        assert view.result.n_bars == view.row.n_bars and len(view.candles) > 0
        # rebuilt from what was stored, the metrics come out the same
        from app.backtest.metrics import compute_metrics

        assert results.clean_metrics(compute_metrics(view.result)) == view.row.metrics
        assert results.clean_metrics(compute_metrics(view.benchmark)) == view.row.benchmark_metrics


def test_a_failing_run_is_marked_failed_with_its_message(app, seeded):
    from app.api import downloads
    from app.backtest import results
    from app.backtest import submit as submission
    from workers import backtests as jobs
    from app.backtest.config import BacktestConfig
    from app.backtest.requests import RunSpec
    from app.extensions import db
    from workers.queues import enqueue, fetch_job, runner

    a, _ = seeded
    empty = RunSpec("demo", "BTC/USDT", "15m", datetime(2001, 1, 1, tzinfo=timezone.utc),
                    datetime(2001, 2, 1, tzinfo=timezone.utc), "ma_cross", {"fast": 5, "slow": 20}, BacktestConfig())
    with app.app_context():
        rows, _ = submission.create_rows(db.session, a, [empty])
        db.session.commit()
        job = enqueue("backtests", "workers.backtests.run", rows[0].id, job_id=rows[0].job_id)
        runner().wait(30)
        assert fetch_job(job.id).status == "failed"
        db.session.rollback()
        row = results.get_run(db.session, a, rows[0].id)
        assert row.status == "failed" and "no 15m candles for BTC/USDT" in row.error
        with pytest.raises(results.RunNotFound):
            downloads.render_report(db.session, a, row.id, "trades.csv")


def test_backtests_page_needs_a_login(client):
    resp = client.get("/backtests")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.get("/backtests/1/download/trades.csv").status_code == 302
