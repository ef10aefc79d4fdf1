"""The ML job on a real RQ worker (PostgreSQL, Redis) and the LSTM strategy in a backtest job."""
from __future__ import annotations

import time

import pandas as pd
import pytest

pytestmark = pytest.mark.integration

TINY = {"lookback": 8, "units": 8, "epochs": 3, "batch_size": 64, "patience": 2}


def _seed(app):
    from app.extensions import db
    from app.market.seed import seed_demo

    with app.app_context():
        seed_demo(db.session.connection(), app.config["CW_SETTINGS"])
        db.session.commit()


def _wait(app, job_id, timeout=240.0):
    from workers.queues import fetch_job

    seen = []
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            job = fetch_job(job_id)
            if job is not None:
                seen.append((job.meta.get("progress"), job.meta.get("phase")))
                if job.done:
                    return job, seen
            time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {seen[-3:]}")


def test_train_job_evaluates_out_of_sample_and_registers_a_version(pg_app, rq_worker, fresh_pg_url):
    from ml.registry import Registry, should_promote
    from workers.queues import enqueue

    _seed(pg_app)
    model_dir = pg_app.config["CW_SETTINGS"].model_dir
    with pg_app.app_context():
        ref = enqueue("ml", "workers.ml.train", "demo", "BTC/USDT", "5m", TINY, 2)
    rq_worker("ml", database_url=fresh_pg_url, env={"MODEL_DIR": model_dir})
    job, seen = _wait(pg_app, ref.id)
    assert job.status == "finished", job.error
    progress = [p for p, _ in seen if p is not None]
    assert progress == sorted(progress) and any(0 < p < 100 for p in progress)
    assert any(ph and ph.startswith("walk-forward fold 2/2") for _, ph in seen)
    out = job.result
    assert out["version"] == 1 and set(out["summary"]) == {"lstm", "base_rate", "persistence"}
    assert out["summary"]["lstm"]["n"] > 100
    assert out["promoted"] == should_promote(out["summary"], None)[0]
    assert out["live"] is None                  # no champion before this run: no live record to report
    stored = Registry(model_dir).versions("BTC/USDT", "5m")
    assert [v.version for v in stored] == [1] and stored[0].meta["data_hash"]
    assert len(stored[0].walk_forward["folds"]) == 2


def test_bad_train_job_fails_with_a_clear_error(pg_app, rq_worker, fresh_pg_url):
    from workers.queues import enqueue

    _seed(pg_app)
    with pg_app.app_context():
        ref = enqueue("ml", "workers.ml.train", "demo", "BTC/USDT", "1d", TINY, 2)
    rq_worker("ml", database_url=fresh_pg_url,
              env={"MODEL_DIR": pg_app.config["CW_SETTINGS"].model_dir})
    job, _ = _wait(pg_app, ref.id)
    assert job.status == "failed" and "need at least 500 1d candles" in job.error


def test_lstm_backtest_trades_only_after_the_models_training_span(pg_app, rq_worker, fresh_pg_url):
    from app.api import downloads
    from app.backtest import results
    from app.backtest import submit as submission
    from workers import backtests as jobs
    from app.auth.users import create_user
    from app.extensions import db
    from app.market import store
    from app.models import Backtest
    from ml.config import TrainConfig
    from ml.registry import Registry
    from ml.training import train

    _seed(pg_app)
    model_dir = pg_app.config["CW_SETTINGS"].model_dir
    with pg_app.app_context():
        owner = create_user("analyst@example.com", "a long password 123").id
        conn = db.session.connection()
        candles = store.load_candles(conn, store.find_series(conn, "demo", "BTC/USDT", "5m"))
        model = train(candles.iloc[:450], TrainConfig(**TINY))
        reg = Registry(model_dir)
        reg.promote("BTC/USDT", "5m", reg.save("BTC/USDT", "5m", model).version)
        sub = jobs.submit(db.session, owner, {
            "symbols": ["BTC/USDT"], "timeframe": "5m", "start": "2000-01-01", "end": "2100-01-01",
            "strategy": "lstm", "params": {"enter_long": "0.5", "exit_long": "0.5", "enter_short": "0.5",
                                           "exit_short": "0.5", "allow_short": True,
                                           # in the market from the first prediction on, whichever side it
                                           # says: with entry=cross a tiny model whose p(up) never crosses
                                           # 0.5 would (rightly) trade nothing
                                           "entry": "state"}})
    rq_worker("backtests", burst=True, database_url=fresh_pg_url, env={"MODEL_DIR": model_dir}).wait(timeout=240)
    with pg_app.app_context():
        row = db.session.get(Backtest, sub.ids[0])
        assert row.status == "finished", row.error
        result, _ = results.rebuild(db.session, row)
    trades = result.trades
    assert len(trades) > 0
    # predictions start after the last bar the model learnt from; orders fill at the next open
    assert trades.entry_time.min() > model.trained_until + pd.Timedelta("5min")
    assert (result.positions.loc[:model.trained_until + pd.Timedelta("5min")] == 0).all().all()

