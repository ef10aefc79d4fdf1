"""workers/cron_config.py, the file `rq cron` loads: what it registers."""
from __future__ import annotations

import runpy
from pathlib import Path

import rq.cron

ROOT = Path(__file__).resolve().parents[3]


def _registered(monkeypatch):
    calls = []
    monkeypatch.setattr(rq.cron, "register", lambda func, queue, **kw: calls.append((func, queue, kw)))
    monkeypatch.setenv("WATCHLIST", "BTC/USDT,SOL/USDT")
    monkeypatch.setenv("MARKET_DATA_SOURCE", "demo")
    runpy.run_path(str(ROOT / "workers" / "cron_config.py"))
    return calls


def test_cron_config_registers_one_refresh_dispatch_per_timeframe_with_the_ingest_limits(monkeypatch):
    from workers.queues import POLICIES

    calls = _registered(monkeypatch)
    refreshes = [(f.__module__ + "." + f.__name__, kw["args"], kw["cron"], kw["job_timeout"])
                 for f, q, kw in calls if q == "ingest"]
    assert len(refreshes) == 6
    assert ("workers.ingest.refresh_due", ("5m",), "*/5 * * * *", POLICIES["ingest"].job_timeout) in refreshes


def test_cron_config_registers_the_weekly_retrain_over_the_stored_watch_list(monkeypatch):
    """One small job, not one per ``WATCHLIST`` symbol: the markets are read when it runs (workers.ml.retrain_due)."""
    calls = _registered(monkeypatch)
    retrains = [(f.__module__ + "." + f.__name__, kw.get("args"), kw.get("kwargs"), kw["cron"], kw["job_timeout"])
                for f, q, kw in calls if q == "ml"]
    assert retrains == [("workers.ml.retrain_due", None, None, "0 3 * * 0", 3600)]


def test_cron_config_runs_the_sweeper_every_minute(monkeypatch):
    calls = _registered(monkeypatch)
    sweeps = [(q, kw["cron"], kw["name"]) for f, q, kw in calls if f.__module__ + "." + f.__name__ == "workers.system.sweep"]
    assert sweeps == [("alerts", "* * * * *", "jobs sweep")]
