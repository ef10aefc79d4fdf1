"""Backtest jobs: submit (insert rows, put the user's share on the queue), run one, dispatch the next.

``submit(session, user_id, form)`` is what the page and the REST API call (it lives in
``workers.submission``, without this module's worker context): it validates, checks the user's quota and
inserts the rows (``app.backtest.submit``), then :func:`dispatch` puts at most
``BACKTEST_MAX_ACTIVE_PER_USER`` of the user's runs on the ``backtests`` queue; the others wait as
``queued`` rows (phase ``waiting``). When a ``run`` ends it dispatches its owner's next waiting run,
so users take turns on the shared queue (``app.backtest.fairness``). ``run(backtest_id)`` executes one
stored request; its progress goes to the row and ``job.meta`` together (:func:`_progress`, the one
progress writer), so the page reads one source.
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.backtest import execute
from app.backtest.submit import run_job_id
from app.extensions import db
from app.mlops.service import registry
from app.models.backtest import Backtest
from workers.context import with_app_context
from workers.progress import report
from workers.submission import Submitted, dispatch, submit  # noqa: F401 - the page and the API submit here

log = logging.getLogger(__name__)


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
