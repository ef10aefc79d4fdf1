"""The one enqueue API: real RQ workers on the real Redis, and the in-process runner."""
import time

import pytest

pytestmark = pytest.mark.integration


def _wait(fetch, job_id, timeout=60.0, until=lambda j: j.done):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        job = fetch(job_id)
        if job is not None:
            seen.append((job.status, job.meta.get("progress")))
            if until(job):
                return job, seen
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish; seen {seen[-5:]}")


def test_job_runs_on_a_real_rq_worker_with_progress(pg_app, rq_worker, fresh_pg_url):
    import os

    from workers.queues import enqueue, fetch_job, runner

    server = pg_app
    with server.app_context():
        assert runner().mode == "rq"
        job = enqueue("ingest", "workers.system.ping", "hello", steps=4, delay_s=0.4)
        assert job.status == "queued"
    worker = rq_worker("ingest", database_url=fresh_pg_url)
    with server.app_context():
        running, _ = _wait(fetch_job, job.id, until=lambda j: 0 < j.meta.get("progress", 0) < 100)
        assert running.status == "started" and running.meta["phase"].startswith("step")
        done, seen = _wait(fetch_job, job.id)
    assert done.status == "finished", done.error
    assert done.result["pong"] == "hello"
    assert done.result["pid"] not in (os.getpid(), None)  # ran in another process: the worker
    assert done.meta["progress"] == 100 and done.meta["phase"] == "done"
    assert worker.poll() is None


def test_failed_job_reports_its_error(pg_app, rq_worker, fresh_pg_url):
    from workers.queues import enqueue, fetch_job

    with pg_app.app_context():
        job = enqueue("backtests", "workers.system.ping", "x", steps="not-a-number")
    rq_worker("backtests", burst=True, database_url=fresh_pg_url).wait(timeout=60)
    with pg_app.app_context():
        done = fetch_job(job.id)
    assert done.status == "failed"
    assert "TypeError" in done.error


def test_unknown_queue_is_refused(pg_app):
    from workers.queues import enqueue

    with pg_app.app_context(), pytest.raises(ValueError, match="unknown queue"):
        enqueue("nope", "workers.system.ping")


def test_inprocess_runner_runs_the_same_job(app):
    from workers.queues import enqueue, fetch_job, runner

    with app.app_context():
        assert runner().mode == "inprocess"
        job = enqueue("ingest", "workers.system.ping", "local", steps=2)
        runner().wait(10)
        done = fetch_job(job.id)
    assert done.status == "finished" and done.result["pong"] == "local"
    assert done.meta["progress"] == 100


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the SystemExit we caused
def test_inprocess_runner_survives_a_killed_worker_thread(app):
    """A worker thread stopped from outside (dash.testing's runner raises SystemExit in every thread it
    did not start) is replaced at the next enqueue, so jobs keep running."""
    import ctypes

    from workers.queues import enqueue, fetch_job, runner

    with app.app_context():
        enqueue("ingest", "workers.system.ping", "first", steps=1)
        runner().wait(10)
        victim = runner().threads[0]
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(victim.ident), ctypes.py_object(SystemExit))
        runner().tasks.put(None)  # wake the idle victim so the exception is raised in it
        victim.join(timeout=10)
        assert not victim.is_alive()
        job = enqueue("ingest", "workers.system.ping", "after", steps=1)
        runner().wait(10)
        assert fetch_job(job.id).status == "finished"
        assert runner().threads and all(t.is_alive() for t in runner().threads)
