"""Backtest jobs: submit (insert rows, enqueue), run one, fan a batch out.

``submit(session, user_id, form)`` is what the page calls (it lives in ``workers.submission``): it
validates and inserts the rows (``app.backtest.submit``) and enqueues one ``run`` job, or one
``batch`` job for several rows.
``run(backtest_id)`` executes one stored request on the ``backtests`` queue; its progress goes to
the row and ``job.meta`` together (:func:`_progress`, the one progress writer), so the page reads
one source. ``batch(batch_id)`` enqueues one ``run`` job per queued row of the batch (symbols x
strategies x parameters) and returns their job ids without waiting for them.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.backtest import execute, results
from app.backtest.submit import run_job_id
from app.extensions import db
from app.mlops.service import registry
from app.models.backtest import Backtest
from workers.context import with_app_context
from workers.progress import report
from workers.queues import enqueue, fetch_job
from workers.submission import Submitted, submit  # noqa: F401 - the page and the API call workers.backtests.submit


def _progress(session: Session, backtest_id: int):
    """The one progress writer of a run: the row and ``job.meta`` in the same call (microblog's
    ``_set_task_progress``). The row's transaction starts with the write (SQLite, several writers)."""

    def write(percent: float, phase: str) -> None:
        session.commit()
        session.execute(update(Backtest).where(Backtest.id == backtest_id).values(progress=percent, phase=phase))
        session.commit()
        report(percent, phase)

    return write


@with_app_context
def run(backtest_id: int) -> dict:
    """Execute backtest ``backtest_id``; returns its headline metrics."""
    try:
        backtest_id = int(backtest_id)
        return execute.execute(db.session, backtest_id, progress=_progress(db.session, backtest_id),
                               models=registry(current_app.config["CW_SETTINGS"]))
    finally:
        db.session.remove()


@with_app_context
def batch(batch_id: str) -> dict:
    """Enqueue one ``run`` job per queued row of ``batch_id``."""


    rows = results.batch_rows(db.session, batch_id)
    if not rows:
        raise ValueError(f"batch {batch_id!r} has no runs")
    jobs = []
    for i, row in enumerate(rows):
        job_id = run_job_id(row.id)
        existing = fetch_job(job_id)
        if row.status == "queued" and existing is None:  # idempotent on retry
            enqueue("backtests", "workers.backtests.run", row.id, job_id=job_id,
                    meta={"backtest_id": row.id, "batch_id": batch_id, "progress": 0.0, "phase": "queued"})
        jobs.append(job_id)
        report(100.0 * (i + 1) / len(rows), "enqueued")
    db.session.remove()
    return {"batch_id": batch_id, "jobs": jobs}
