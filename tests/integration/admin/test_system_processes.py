"""The system panel's additions against real services: a real RQ worker reports its CPU and memory with
its heartbeat, a real `rq cron` process's jobs show with their next run, and each exchange's circuit
breaker shows the state pybreaker keeps in Redis."""
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.waiting import until

pytestmark = pytest.mark.integration


def _until(check, timeout=45.0, what="condition"):
    return until(check, timeout=timeout, what=what, step=0.2)


def test_workers_cron_jobs_and_breakers_show_in_the_panel(dash_app, pg_app, rq_worker, fresh_pg_url, redis_url, redis_client,
                                                          tmp_path):
    import app.hot as hot
    from app.hot.processes import ProcessStats
    from app.market.sources.breaker import CircuitBreaker
    from callbacks.admin_system import _breakers, _cron, _jobs
    from workers import inspect
    from workers.queues import enqueue, fetch_job

    settings = pg_app.config["CW_SETTINGS"]
    config = tmp_path / "cron_panel_config.py"
    config.write_text("from rq import cron\nfrom workers.system import ping\n"
                      "cron.register(ping, 'ingest', cron='*/5 * * * *', name='panel ping', job_timeout=60)\n")
    cron = subprocess.Popen([str(Path(sys.executable).parent / "rq"), "cron", "--url", redis_url, str(config)],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        rq_worker("ingest", database_url=fresh_pg_url)
        with pg_app.app_context():
            job = enqueue("ingest", "workers.system.ping", "panel")
            _until(lambda: fetch_job(job.id).status == "finished", what="the ping")
            [worker] = inspect.workers(redis_client)
            report = _until(lambda: (d := ProcessStats(redis_client).read_all().get(worker.name))
                            and d.get("cpu_percent") is not None and d, what="the worker's process report")
            assert report["rss_mb"] > 20 and report["pid"] > 0 and report["cpu_percent"] >= 0
            workers_view = str(_jobs(settings)[1])
            assert worker.name in workers_view and f"{report['rss_mb']} MB" in workers_view

            [scheduled] = _until(lambda: inspect.cron_jobs(redis_client), what="rq cron's registry")
            now = datetime.now(timezone.utc)
            assert (scheduled.name, scheduled.queue, scheduled.cron) == ("panel ping", "ingest", "*/5 * * * *")
            assert now < scheduled.next_run and scheduled.next_run.minute % 5 == 0
            table = str(_cron(settings))
            assert "panel ping" in table and f"{scheduled.next_run:%Y-%m-%d %H:%M:%S}" in table

            breaker = CircuitBreaker("kraken", failure_threshold=2, storage=hot.breaker_storage("kraken", settings))
            for _ in range(2):
                breaker._storage.increment_counter()
            breaker._storage.state = "open"
            view = str(_breakers(settings))
            assert "kraken" in view and "'open'" in view and "binance" in view and "'closed'" in view
    finally:
        cron.terminate()
        cron.wait(timeout=10)
