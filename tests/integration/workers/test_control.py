"""Emergency stop and resume against a real RQ worker: it stops taking jobs (even one enqueued while it
was already waiting) and takes them again on resume; the schedule enqueues nothing while stopped."""
import time

import pytest
from rq import Worker
from rq.suspension import is_suspended
from tests.waiting import until

pytestmark = pytest.mark.integration


def _until(check, timeout=60.0, what="condition"):
    return until(check, timeout=timeout, what=what, step=0.1)


def test_stop_suspends_a_real_worker_and_resume_restarts_it(pg_app, rq_worker, fresh_pg_url, redis_client):
    import app.hot as hot
    from workers import control
    from workers.queues import enqueue, fetch_job

    settings = pg_app.config["CW_SETTINGS"]
    proc = rq_worker("ingest", database_url=fresh_pg_url)
    with pg_app.app_context():
        warm = enqueue("ingest", "workers.system.ping", "warm-up")
        _until(lambda: fetch_job(warm.id).status == "finished", what="the worker to start")
        # the worker is now blocked waiting for the next job: the case RQ's own check misses
        _until(lambda: [w for w in Worker.all(connection=redis_client) if w.get_state() == "idle"], what="idle")
        doc = control.emergency_stop(settings, "admin@example.com", "exchange outage")
        assert is_suspended(redis_client) and hot.system_state(settings).stopped() == doc
        held = enqueue("ingest", "workers.system.ping", "held")
        time.sleep(4)
        assert fetch_job(held.id).status == "queued"
        [worker] = Worker.all(connection=redis_client)
        assert worker.get_state() == "suspended"
        assert proc.poll() is None
        assert control.resume(settings) is True
        assert not is_suspended(redis_client) and not hot.system_state(settings).is_stopped()
        done = _until(lambda: (j := fetch_job(held.id)).status == "finished" and j, timeout=30, what="the held job")
    assert done.result["pong"] == "held"


def test_the_schedule_enqueues_nothing_while_stopped(pg_app, redis_client):
    from workers import control
    from workers.schedule import enqueue_refreshes

    settings = pg_app.config["CW_SETTINGS"]
    with pg_app.app_context():
        control.emergency_stop(settings, "admin@example.com")
        assert enqueue_refreshes(settings, ["1h"], exchange="demo") == []
        assert redis_client.llen("rq:queue:ingest") == 0
        control.resume(settings)
        jobs = enqueue_refreshes(settings, ["1h"], exchange="demo")
    assert len(jobs) == len(settings.watchlist) and redis_client.llen("rq:queue:ingest") == len(jobs)
