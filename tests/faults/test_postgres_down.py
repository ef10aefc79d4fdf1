"""PostgreSQL stops for a few seconds under gunicorn: requests fail fast with a clear 503 (no 30-second
hang), an ingest job that fails meanwhile is retried by RQ with its backoff, and the pool recovers when
the database is back without any process being restarted."""
from __future__ import annotations

import time

import pytest
import requests

from tests.faults.conftest import child_env, migrated, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]
PASSWORD = "correct-horse-battery"


def _timed(session, url):
    started = time.monotonic()
    resp = session.get(url, timeout=30)
    return resp, time.monotonic() - started


def test_requests_fail_fast_jobs_retry_and_the_pool_recovers(own_pg, redis_url, gunicorn, workers):
    from rq.job import Job

    from app.auth.users import create_user
    from app.extensions import db
    from app.hot import redis_connection
    from app.market.seed import seed_demo
    from tests.conftest import dispose
    from workers.queues import enqueue

    server = migrated(own_pg.url, redis_url)
    with server.app_context():
        seed_demo(db.session.connection(), server.config["CW_SETTINGS"])
        db.session.commit()
        create_user("pg-fault@example.com", PASSWORD)
    dispose(server)
    env = child_env(redis_url, own_pg.url)
    web = gunicorn(env)
    pids = web.worker_pids()
    browser = web.signed_in("pg-fault@example.com", PASSWORD)
    assert _timed(browser, web.base + "/_dash-layout")[0].status_code == 200
    workers(env, "ingest", scheduler=True)

    own_pg.stop()
    # a page that reads the database (the session check itself may be answered from hot state)
    resp, seconds = _timed(browser, web.base + "/account/tokens")
    assert resp.status_code == 503 and seconds < 8, (resp.status_code, seconds)
    assert resp.json()["message"].startswith("The database is unavailable right now")
    assert own_pg.url.split("@")[1] not in resp.text  # no connection details leak
    ready, seconds = _timed(requests, web.base + "/readyz")
    assert ready.status_code == 503 and ready.json()["failed"] == ["database"] and seconds < 8

    with server.app_context():
        ref = enqueue("ingest", "workers.ingest.refresh", "demo", "BTC/USDT", "1h")
    conn = redis_connection(redis_url)
    job = wait_for(lambda: (j := Job.fetch(ref.id, connection=conn)).get_status().value == "scheduled" and j,
                   60, 0.2, what="the failed ingest to be scheduled for a retry")
    assert job.retries_left == 2  # one of three retries used, the next one 5 s later (the ingest policy)

    own_pg.start()
    resp, _ = _timed(browser, web.base + "/account/tokens")
    assert resp.status_code == 200  # the first request after the outage: the pool pre-pings and reconnects
    assert web.worker_pids() == pids  # no gunicorn worker was restarted
    done = wait_for(lambda: (j := Job.fetch(ref.id, connection=conn)).get_status().value == "finished" and j,
                    90, 0.5, what="the retried ingest to finish")
    assert done.return_value()["symbol"] == "BTC/USDT"
    assert requests.get(web.base + "/readyz", timeout=10).json()["status"] == "ready"
