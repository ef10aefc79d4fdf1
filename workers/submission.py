"""Submitting backtests: validate, check the user's quota and insert the rows (``app.backtest.submit``),
then :func:`dispatch` the user's share of runs onto the ``backtests`` queue (``app.backtest.fairness``).

Its own module, without the job functions and their worker context, so the web layer (the
Backtests page through ``workers.backtests.submit``, and the REST API) can submit without an import
cycle back to the server factory (``workers.context`` builds the server).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session

from app.backtest import fairness
from app.backtest.requests import InvalidRequest
from app.hot.action_limits import ActionLimited, action_limits
from app.backtest.submit import create_runs, run_job_id
from app.market import query
from app.mlops.service import registry
from workers.queues import enqueue, fetch_job


@dataclass(frozen=True)
class Submitted:
    ids: list[int]
    batch_id: str | None
    job_id: str  # the first run's job (it may still be waiting its turn)


def submit(session: Session, user_id: int, form: dict) -> Submitted:
    """Validate, check the quota and the user's rate limit, insert the rows, commit, dispatch the user's share.

    Nothing is written or enqueued on bad input, over the quota or past the rate limit (``InvalidRequest``;
    ``LIMIT_BACKTEST_SUBMIT`` for one run, ``LIMIT_BACKTEST_BATCH`` for several, ``app.hot.action_limits``)."""
    settings = current_app.config["CW_SETTINGS"]
    limits = action_limits(settings)

    def admit(specs) -> None:
        try:
            limits.hit("batch" if len(specs) > 1 else "backtest", user_id)
        except ActionLimited as exc:
            raise InvalidRequest([str(exc)]) from None

    rows, batch_id = create_runs(session, user_id, form, registry(settings),
                                 max_open=settings.backtest_max_queued_per_user, choice=query.choice_from(settings),
                                 admit=admit)
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
