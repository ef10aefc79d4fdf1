"""Backtest jobs: submit (insert rows, put the user's share on the queue), run one, dispatch the next.

``submit(session, user_id, form)`` is what the page calls: it validates, checks the user's quota and
inserts the rows (``app.backtest.submit``), then :func:`dispatch` puts at most
``BACKTEST_MAX_ACTIVE_PER_USER`` of the user's runs on the ``backtests`` queue; the others wait as
``queued`` rows (phase ``waiting``). When a ``run`` ends it dispatches its owner's next waiting run,
so users take turns on the shared queue (``app.backtest.fairness``). ``run(backtest_id)`` executes one
stored request; its progress goes to the row and ``job.meta`` together (:func:`_progress`, the one
progress writer), so the page reads one source.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.backtest import execute, fairness
from app.backtest.submit import create_runs, run_job_id
from app.extensions import db
from app.market import query
from app.mlops.service import registry
from app.models.backtest import Backtest
from workers.context import with_app_context
from workers.progress import report
from workers.queues import enqueue, fetch_job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submitted:
    ids: list[int]
    batch_id: str | None
    job_id: str  # the first run's job (it may still be waiting its turn)


def submit(session: Session, user_id: int, form: dict) -> Submitted:
    """Validate, check the quota, insert the rows, commit, dispatch the user's share.

    Nothing is written or enqueued on bad input or over the quota (``InvalidRequest``)."""
    settings = current_app.config["CW_SETTINGS"]
    rows, batch_id = create_runs(session, user_id, form, registry(settings),
                                 max_open=settings.backtest_max_queued_per_user, choice=query.choice_from(settings))
    ids = [r.id for r in rows]
    dispatch(session, user_id)
    return Submitted(ids, batch_id, run_job_id(ids[0]))


def _job_failed(job_id: str) -> str | None:
    job = fetch_job(job_id)
    if job is not None and job.status in ("failed", "stopped", "canceled"):
        return job.error or f"job {job.status}"
    return None


def dispatch(session: Session, user_id: int) -> list[str]:
    """Put the user's next waiting runs on the ``backtests`` queue, up to their share; returns the job ids.

    The rows are claimed and the jobs enqueued before the commit, under the user's row lock: two
    dispatchers of one user cannot overfill the window, and a failed enqueue claims nothing."""
    window = current_app.config["CW_SETTINGS"].backtest_max_active_per_user
    session.commit()  # the claim below starts a write transaction (SQLite)
    try:
        rows = fairness.claim_next(session, user_id, window, job_failed=_job_failed)
        jobs = [enqueue("backtests", "workers.backtests.run", row.id, job_id=row.job_id,
                        meta={"backtest_id": row.id, "batch_id": row.batch_id, "progress": 0.0,
                              "phase": fairness.ENQUEUED}).id for row in rows]
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return jobs


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
    """Execute backtest ``backtest_id``; returns its headline metrics. Then its owner's next run gets its turn."""
    try:
        backtest_id = int(backtest_id)
        return execute.execute(db.session, backtest_id, progress=_progress(db.session, backtest_id),
                               models=registry(current_app.config["CW_SETTINGS"]))
    finally:
        _dispatch_after(backtest_id)
        db.session.remove()


def _dispatch_after(backtest_id) -> None:
    try:
        db.session.rollback()
        user_id = db.session.execute(select(Backtest.user_id).where(Backtest.id == int(backtest_id))).scalar()
        if user_id is not None:
            dispatch(db.session, user_id)
    except Exception:  # noqa: BLE001 - the run's own outcome stands; the next submit or run dispatches again
        log.exception("could not dispatch the next backtest after run %s", backtest_id)
