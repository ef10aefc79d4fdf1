"""The system panel's view of RQ (queues, workers, failed jobs) and the requeue/delete actions, on a
real Redis with a real worker; database and Redis figures from the real services."""
import pytest

pytestmark = pytest.mark.integration


def test_failed_job_is_listed_requeued_and_deleted(pg_app, rq_worker, fresh_pg_url, redis_client):
    from workers import inspect
    from workers.queues import enqueue

    with pg_app.app_context():
        job = enqueue("backtests", "workers.system.ping", "x", steps="not-a-number")
    rq_worker("backtests", burst=True, database_url=fresh_pg_url).wait(timeout=60)
    [failed] = inspect.failed_jobs(redis_client)
    assert (failed.id, failed.queue, failed.func) == (job.id, "backtests", "workers.system.ping")
    assert "TypeError" in failed.traceback
    depth = {q.name: q for q in inspect.queues(redis_client)}
    assert (depth["backtests"].queued, depth["backtests"].failed) == (0, 1)
    inspect.requeue(redis_client, "backtests", job.id)
    depth = {q.name: q for q in inspect.queues(redis_client)}
    assert (depth["backtests"].queued, depth["backtests"].failed) == (1, 0)
    with pytest.raises(ValueError, match="not in the failed jobs"):
        inspect.delete(redis_client, "backtests", job.id)
    rq_worker("backtests", burst=True, database_url=fresh_pg_url).wait(timeout=60)
    assert [j.id for j in inspect.failed_jobs(redis_client)] == [job.id]
    inspect.delete(redis_client, "backtests", job.id)
    assert inspect.failed_jobs(redis_client) == [] and not redis_client.exists(f"rq:job:{job.id}")
    with pytest.raises(ValueError, match="queue"):
        inspect.requeue(redis_client, "nope", job.id)


def test_workers_and_their_state(pg_app, rq_worker, fresh_pg_url, redis_client):
    import time

    from workers import inspect

    rq_worker("ingest", database_url=fresh_pg_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not inspect.workers(redis_client):
        time.sleep(0.2)
    [w] = inspect.workers(redis_client)
    assert w.queues == ("ingest",) and w.current_job is None


def test_database_and_redis_figures(pg_app, redis_client):
    from app.extensions import db
    from app.ops import system_stats

    with pg_app.app_context():
        d = system_stats.database(db.session)
    assert d["backend"] == "postgresql" and d["size_mb"] > 0 and d["connections"] >= 1
    redis_client.set("k", "v")
    redis_client.get("k")
    r = system_stats.redis_info(redis_client)
    assert r["used_memory_mb"] > 0 and 0 < r["hit_rate"] <= 1
    p = system_stats.process()
    assert p["rss_mb"] > 10 and p["threads"] >= 1
