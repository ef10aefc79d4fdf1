"""Submitting backtests: validate and insert the rows (``app.backtest.submit``), then enqueue the jobs.

Its own module, without the job functions and their worker context, so the web layer (the
Backtests page through ``workers.backtests.submit``, and the REST API) can submit without an import
cycle back to the server factory (``workers.context`` builds the server).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session

from app.backtest.submit import create_runs, run_job_id
from app.mlops.service import registry
from workers.queues import enqueue


@dataclass(frozen=True)
class Submitted:
    ids: list[int]
    batch_id: str | None
    job_id: str  # the run job (one run) or the batch fan-out job


def submit(session: Session, user_id: int, form: dict) -> Submitted:
    """Validate, insert the rows, commit, enqueue. Nothing is written or enqueued on bad input."""
    rows, batch_id = create_runs(session, user_id, form, registry(current_app.config["CW_SETTINGS"]))
    ids = [r.id for r in rows]
    if batch_id is None:
        job = enqueue("backtests", "workers.backtests.run", ids[0], job_id=run_job_id(ids[0]),
                      meta={"backtest_id": ids[0], "progress": 0.0, "phase": "queued"})
    else:
        job = enqueue("backtests", "workers.backtests.batch", batch_id, job_id=f"backtest-batch-{batch_id}",
                      meta={"batch_id": batch_id, "progress": 0.0, "phase": "queued"})
    return Submitted(ids, batch_id, job.id)
