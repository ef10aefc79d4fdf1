"""Benchmark: what one refresh of the Admin page's system panel costs, and what its newer parts add.

Run from the repo root (needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379):

    .venv/bin/python bench/system_panel.py

Production mode on a throwaway PostgreSQL database and Redis database 13 (emptied): 40 stored series,
two real ``rq worker`` processes (they report CPU and memory with their heartbeat) and one real
``rq cron`` process with six scheduled jobs. Timed with the panel's own functions
(``callbacks.admin_system``), median of ``RUNS`` refreshes, in the same run:

* reference: the figures, queues, workers and data-freshness parts (what the panel showed before);
* additions: the scheduled jobs (RQ's cron registry), the circuit breakers (one MGET) and the
  workers' process reports (one HGETALL).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/13"
RUNS = 30
SECRET = "bench-secret-key-0123456789"


def _median_ms(func) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        func()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def main() -> None:
    import redis
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app import create_app
    from app.settings import Settings

    name = f"cw_bench_panel_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    conn = redis.Redis.from_url(REDIS_URL)
    conn.flushdb()
    env = dict(os.environ, PYTHONPATH=str(ROOT), REDIS_URL=REDIS_URL, DATABASE_URL=url, SECRET_KEY=SECRET,
               CANDLEWISE_ENV="testing", MARKET_DATA_SOURCE="demo", CREATE_DEMO_USERS="0")
    procs = []
    config = Path(tempfile.mkdtemp()) / "bench_cron.py"
    config.write_text("from rq import cron\nfrom workers.system import ping\n" + "".join(
        f"cron.register(ping, 'ingest', cron='{m} * * * *', name='bench {m}', job_timeout=60)\n"
        for m in range(0, 60, 10)))
    try:
        web = create_app(Settings(env="testing", secret_key=SECRET, database_url=url, redis_url=REDIS_URL,
                                  market_source="demo", create_demo_users=False))
        server = web.server
        with server.app_context():
            upgrade()
            from app.extensions import db
            from app.market import store

            c = db.session.connection()
            for k in range(40):
                store.get_or_create_series(c, "demo", f"S{k}/USDT", "1h")
            db.session.commit()
        rq = str(Path(sys.executable).parent / "rq")
        for _ in range(2):
            procs.append(subprocess.Popen([rq, "worker", "--url", REDIS_URL, "--worker-class", "workers.worker.Worker",
                                           "ingest"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen([rq, "cron", "--url", REDIS_URL, str(config)], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from app.hot.processes import ProcessStats
        from callbacks import admin_system as panel
        from workers import inspect

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (len(ProcessStats(conn).read_all()) < 2
                                               or not inspect.cron_jobs(conn)):
            time.sleep(0.2)
        print(f"workers reporting: {len(ProcessStats(conn).read_all())}, cron jobs: {len(inspect.cron_jobs(conn))}")
        settings = server.config["CW_SETTINGS"]
        with server.app_context():
            def reference():
                panel._stats(settings)
                panel._jobs(settings)
                panel._freshness()

            def additions():
                panel._cron(settings)
                panel._breakers(settings)
                ProcessStats(conn, settings.redis_prefix).read_all()

            reference(), additions()  # warm
            ref_ms, add_ms = _median_ms(reference), _median_ms(additions)
        print(f"reference parts {ref_ms:.2f} ms, new parts {add_ms:.2f} ms (median of {RUNS})")
        print(f"RESULT system_panel_reference_ms {ref_ms:.2f} ms")
        print(f"RESULT system_panel_additions_ms {add_ms:.2f} ms")
        print(f"RESULT system_panel_additions_share {100 * add_ms / (ref_ms + add_ms):.1f} %")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        conn.flushdb()
        with admin.connect() as c:
            c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                              "AND pid <> pg_backend_pid()"), {"n": name})
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


if __name__ == "__main__":
    main()
