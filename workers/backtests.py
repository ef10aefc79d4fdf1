"""Backtest jobs: thin shells over app.backtest.service.

``run(backtest_id)`` executes one stored request on the ``backtests`` queue,
reporting progress (percent, phase) in ``job.meta`` and on the row.
``batch(batch_id)`` fans a batch out: one ``run`` job per queued row of the
batch (symbols x strategies x parameters), so RQ workers run them in
parallel; it returns their job ids and never waits for them.
"""
from __future__ import annotations

from app.backtest import service
from app.extensions import db
from workers.context import with_app_context
from workers.progress import report


@with_app_context
def run(backtest_id: int) -> dict:
    """Execute backtest ``backtest_id``; returns its headline metrics."""
    try:
        return service.execute(db.session, int(backtest_id), progress=report)
    finally:
        db.session.remove()


@with_app_context
def batch(batch_id: str) -> dict:
    """Enqueue one ``run`` job per queued row of ``batch_id``."""
    from workers.queues import enqueue, fetch_job

    rows = service.batch_rows(db.session, batch_id)
    if not rows:
        raise ValueError(f"batch {batch_id!r} has no runs")
    jobs = []
    for i, row in enumerate(rows):
        job_id = service.run_job_id(row.id)
        existing = fetch_job(job_id)
        if row.status == "queued" and existing is None:  # idempotent on retry
            enqueue("backtests", "workers.backtests.run", row.id, job_id=job_id,
                    meta={"backtest_id": row.id, "batch_id": batch_id, "progress": 0.0, "phase": "queued"})
        jobs.append(job_id)
        report(100.0 * (i + 1) / len(rows), "enqueued")
    db.session.remove()
    return {"batch_id": batch_id, "jobs": jobs}
