"""workers/cron_config.py, the file `rq cron` loads: what it registers."""
from __future__ import annotations

import runpy
from pathlib import Path

import rq.cron

ROOT = Path(__file__).resolve().parents[2]


def test_cron_config_registers_refreshes_and_the_weekly_retrain(monkeypatch):
    calls = []
    monkeypatch.setattr(rq.cron, "register", lambda func, queue, **kw: calls.append((func, queue, kw)))
    monkeypatch.setenv("WATCHLIST", "BTC/USDT,SOL/USDT")
    monkeypatch.setenv("MARKET_DATA_SOURCE", "demo")
    runpy.run_path(str(ROOT / "workers" / "cron_config.py"))
    refreshes = [(kw["args"], kw["cron"]) for f, q, kw in calls if q == "ingest"]
    assert len(refreshes) == 2 * 6
    assert (("demo", "SOL/USDT", "5m"), "*/5 * * * *") in refreshes
    retrains = [(f.__module__ + "." + f.__name__, kw["args"], kw["cron"], kw["job_timeout"])
                for f, q, kw in calls if q == "ml"]
    assert retrains == [("workers.ml.train", ("demo", "BTC/USDT", "1h"), "0 3 * * 0", 3600),
                        ("workers.ml.train", ("demo", "SOL/USDT", "1h"), "0 3 * * 0", 3600)]
