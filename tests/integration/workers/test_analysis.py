"""Signals end to end: seeded candles -> ingest -> `analyze` on a real RQ worker -> PostgreSQL rows + Redis
snapshot; idempotent re-runs, coalesced enqueueing, unknown symbols, the embedded (SQLite, no Redis) path."""
import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
import redis
import sqlalchemy as sa

pytestmark = pytest.mark.integration


def _seed(app, end=None):
    from app.extensions import db
    from app.market.seed import seed_demo

    with app.app_context():
        settings = app.config["CW_SETTINGS"]
        seed_demo(db.session.connection(), settings, end=end)
        db.session.commit()


def _rows(app, symbol="BTC/USDT"):
    from app.extensions import db

    with app.app_context():
        rows = db.session.execute(sa.text(
            "SELECT timeframe, bar_time, score, confidence, label, reasons, details FROM signals "
            "WHERE symbol = :s ORDER BY timeframe, bar_time"), {"s": symbol}).all()
        db.session.rollback()
    return rows


def _latest_per_tf(rows):
    latest = {}
    for r in rows:
        latest[r.timeframe] = r
    return latest


def _wait_exit(proc, timeout=120):
    try:
        out, _ = proc.communicate(timeout=timeout)
    except Exception:
        proc.kill()
        raise
    return out


def test_analysis_job_on_real_rq_worker_writes_rows_and_snapshot(pg_app, rq_worker, fresh_pg_url, redis_url):
    from workers.pipeline import enqueue_analysis
    from workers.queues import fetch_job

    _seed(pg_app)
    settings = pg_app.config["CW_SETTINGS"]
    with pg_app.app_context():
        job, enqueued = enqueue_analysis("demo", "BTC/USDT", settings)
    assert enqueued
    out = _wait_exit(rq_worker("analysis", burst=True, database_url=fresh_pg_url))
    with pg_app.app_context():
        done = fetch_job(job.id)
    assert done.status == "finished", (done.error, out[-2000:])
    assert done.result["symbol"] == "BTC/USDT" and done.result["quality_refreshed"] is True

    rows = _rows(pg_app)
    latest = _latest_per_tf(rows)
    assert set(latest) == {"1m", "5m", "15m", "1h", "4h", "1d", "fused"}
    fused = latest["fused"]
    assert 0 <= fused.score <= 100 and fused.label == done.result["label"]
    assert fused.bar_time.tzinfo is not None and fused.bar_time == latest["1m"].bar_time
    assert latest["1h"].reasons and all({"text", "points", "component"} <= set(r) for r in latest["1h"].reasons)

    r = redis.Redis.from_url(redis_url)
    raw = r.get("cw:signals:BTC/USDT")
    assert raw is not None and 0 < r.ttl("cw:signals:BTC/USDT") <= 3600
    snap = json.loads(raw)
    assert snap["fused"]["score"] == pytest.approx(fused.score, abs=0.01)
    assert snap == fused.details  # the same document in Redis and in the fused row
    assert set(snap["timeframes"]) == {"1m", "5m", "15m", "1h", "4h", "1d"}

    # re-running is idempotent: same rows, same values
    with pg_app.app_context():
        again, _ = enqueue_analysis("demo", "BTC/USDT", settings)
    _wait_exit(rq_worker("analysis", burst=True, database_url=fresh_pg_url))
    with pg_app.app_context():
        assert fetch_job(again.id).status == "finished"
    rows2 = _rows(pg_app)
    assert len(rows2) == len(rows)
    assert [(r.timeframe, r.bar_time, round(r.score, 9)) for r in rows2] == \
           [(r.timeframe, r.bar_time, round(r.score, 9)) for r in rows]


def test_ingest_enqueues_analysis_on_real_workers(pg_app, rq_worker, fresh_pg_url):
    """A refresh that stores new closed bars hands on to `analyze`; one burst worker runs both queues."""
    from workers.queues import enqueue, fetch_job

    _seed(pg_app, end=datetime.now(timezone.utc) - timedelta(minutes=30))
    assert _rows(pg_app) == []
    with pg_app.app_context():
        job = enqueue("ingest", "workers.ingest.refresh", "demo", "BTC/USDT", "1m")
    out = _wait_exit(rq_worker("ingest", "analysis", burst=True, database_url=fresh_pg_url))
    with pg_app.app_context():
        done = fetch_job(job.id)
    assert done.status == "finished", (done.error, out[-2000:])
    assert done.result["new_closed_bars"] >= 25
    latest = _latest_per_tf(_rows(pg_app))
    assert "fused" in latest, out[-2000:]
    # the analysis saw the freshly ingested bars: its 1m row is at the newest stored bar
    from app.extensions import db

    with pg_app.app_context():
        newest = db.session.execute(sa.text(
            "SELECT max(c.time) FROM candles c JOIN series s ON s.id = c.series_id "
            "WHERE s.symbol = 'BTC/USDT' AND s.timeframe = '1m'")).scalar_one()
        db.session.rollback()
    assert latest["1m"].bar_time == newest
    assert latest["1m"].bar_time > datetime.now(timezone.utc) - timedelta(minutes=5)


def test_a_burst_of_new_bars_enqueues_one_analysis(pg_app):
    from rq import Queue

    from workers.pipeline import after_ingest
    from workers.queues import runner

    settings = pg_app.config["CW_SETTINGS"]
    with pg_app.app_context():
        for tf in ("1m", "5m", "15m", "1h", "4h", "1d"):
            after_ingest("demo", "BTC/USDT", tf, 1, settings)
        after_ingest("demo", "ETH/USDT", "1m", 1, settings)
        assert after_ingest("demo", "ETH/USDT", "5m", 0, settings) is None  # no new closed bars: nothing
        queue = Queue("analysis", connection=runner().connection)
        jobs = queue.get_jobs()
    assert sorted(j.args for j in jobs) == [("demo", "BTC/USDT"), ("demo", "ETH/USDT")]


def test_unknown_symbol_is_a_clear_error(app):
    from workers.analysis import analyze
    from workers.queues import enqueue, fetch_job, runner

    _seed(app)
    with app.app_context():
        with pytest.raises(ValueError, match=r"No candles stored for DOGE/USDT on exchange 'demo'.*BTC/USDT"):
            analyze("demo", "DOGE/USDT")
        job = enqueue("analysis", "workers.analysis.analyze", "demo", "DOGE/USDT")
        runner().wait(30)
        failed = fetch_job(job.id)
        with pytest.raises(ValueError, match="symbol"):
            analyze("demo", "not a symbol")
    assert failed.status == "failed" and "No candles stored for DOGE/USDT" in failed.error
    assert _rows(app, "DOGE/USDT") == []


def test_embedded_mode_stores_rows_and_the_page_reads_the_database(app):
    from app.analysis import reads
    from app.extensions import db
    from workers.pipeline import enqueue_analysis
    from workers.queues import fetch_job, runner

    _seed(app)
    with app.app_context():
        job, _ = enqueue_analysis("demo", "ETH/USDT", app.config["CW_SETTINGS"])
        runner().wait(60)
        assert fetch_job(job.id).status == "finished", fetch_job(job.id).error
        snaps = reads.snapshots(db.session, None, {"ETH/USDT": "demo", "BTC/USDT": "demo"})
        history = reads.score_history(db.session, "demo", "ETH/USDT")
        report, meta = reads.quality_report(db.session, "demo", "ETH/USDT")
    assert snaps["BTC/USDT"] is None  # never analysed
    assert snaps["ETH/USDT"]["symbol"] == "ETH/USDT" and snaps["ETH/USDT"]["exchange"] == "demo"
    # history has depth from the first run (stored per-timeframe scores), fused has one point
    assert (history["timeframe"] == "fused").sum() == 1 and (history["timeframe"] == "5m").sum() == 300
    assert history["bar_time"].is_monotonic_increasing
    assert set(meta) == {"1m", "5m", "15m", "1h", "4h", "1d"} and meta["1m"]["bars"] == 3 * 1440
    one = report[(report["timeframe"] == "1m") & (report["horizon"] == 1)]
    assert one.loc[one["label"] == "all", "count"].item() == 3 * 1440 - 200 - 1  # warm-up and last bar dropped
    assert one.loc[one["label"] != "all", "count"].sum() == one.loc[one["label"] == "all", "count"].item()


def test_stored_signal_uses_only_bars_up_to_its_bar(app):
    """No look-ahead: the stored 1h row equals score_latest on the stored bars cut at that bar, and bars
    stored later do not change it."""
    from app.analysis.analyze import analyze_symbol
    from app.analysis.config import ScoringConfig
    from app.analysis.scoring import score_latest
    from app.extensions import db
    from app.market import store

    end = datetime.now(timezone.utc) - timedelta(hours=3)
    _seed(app, end=end)
    with app.app_context():
        snap = analyze_symbol(db.session, "demo", "BTC/USDT")
        db.session.commit()
        sid = store.find_series(db.session.connection(), "demo", "BTC/USDT", "1h")
        candles = store.load_candles(db.session.connection(), sid)
        bar = pd.Timestamp(snap["timeframes"]["1h"]["bar_time"])
        expected = score_latest(candles.loc[:bar].iloc[-ScoringConfig().history_bars:], "1h", "BTC/USDT")
        assert snap["timeframes"]["1h"]["score"] == pytest.approx(round(expected.score, 2))
        before = {(r.timeframe, r.bar_time): r.score for r in _rows(app)}
        # three more hours of bars arrive; the earlier rows keep their scores
        settings = app.config["CW_SETTINGS"]
        from app.market.seed import seed_demo

        seed_demo(db.session.connection(), settings)
        analyze_symbol(db.session, "demo", "BTC/USDT")
        db.session.commit()
    after = {(r.timeframe, r.bar_time): r.score for r in _rows(app)}
    assert len(after) > len(before)
    assert all(after[k] == pytest.approx(v) for k, v in before.items())


def test_analysis_enqueues_every_stage_of_the_pipeline_that_follows_it(app, monkeypatch):
    """The stages after analysis are listed in workers.pipeline.AFTER_ANALYSIS (no import probing):
    each is called with the analysed symbol and its job id lands in the result."""
    from workers import pipeline
    from workers.analysis import analyze

    seen = []

    def stage(exchange, symbol, settings):
        seen.append((exchange, symbol))
        return f"job-{symbol}"

    _seed(app)
    with app.app_context():
        first = analyze("demo", "BTC/USDT")
        assert first["ml_job"] is None  # no champion model: no prediction job
        monkeypatch.setattr(pipeline, "AFTER_ANALYSIS", (*pipeline.AFTER_ANALYSIS, ("next_job", stage)))
        result = analyze("demo", "BTC/USDT")
    assert result["next_job"] == "job-BTC/USDT" and seen == [("demo", "BTC/USDT")]
    assert result["quality_refreshed"] is False  # the report from the first run is still fresh
