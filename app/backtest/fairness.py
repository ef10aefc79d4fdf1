"""Per-user quota and fair scheduling of backtest runs.

Quota: a user may have at most ``max_open`` runs queued or running at once; a request that would go
over it is refused as a whole (:class:`QuotaExceeded`, a form message), nothing is written.

Fairness: every run is a ``queued`` row first (phase ``waiting``). Only ``window`` runs per user are
put on the shared ``backtests`` queue at a time (phase ``enqueued``, then ``running``); when one
ends, the job layer claims the user's next waiting run (oldest first). The RQ queue is FIFO, so with
a window per user a single run from someone else waits behind at most ``window`` runs of each busy
user, not behind every run they submitted: a per-user queue position, i.e. round robin between users.

Both checks lock the user's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has one writer), so
two requests of one user cannot both pass the quota or overfill the window. Nothing here enqueues:
``workers.backtests`` calls :func:`claim_next` and enqueues what it returns.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from app.backtest.requests import InvalidRequest
from app.models.backtest import Backtest, utcnow
from app.models.user import User

WAITING = "waiting"    # phase of a queued run that is not on the queue yet (its turn has not come)
ENQUEUED = "enqueued"  # phase of a queued run that is on the queue


class QuotaExceeded(InvalidRequest):
    """The request would take the user over their limit of queued and running runs."""


def lock_user(session: Session, user_id: int) -> None:
    """Serialise quota and dispatch decisions of one user (the row lock lasts until the commit)."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())


def open_runs(session: Session, user_id: int) -> int:
    """The user's runs that are queued or running."""
    stmt = select(func.count()).select_from(Backtest).where(
        Backtest.user_id == user_id, Backtest.status.in_(("queued", "running")))
    return int(session.execute(stmt).scalar_one())


def check_quota(session: Session, user_id: int, adding: int, max_open: int) -> None:
    """Raise :class:`QuotaExceeded` when ``adding`` more runs would exceed ``max_open`` (call under :func:`lock_user`)."""
    current = open_runs(session, user_id)
    if current + adding > max_open:
        room = max(max_open - current, 0)
        raise QuotaExceeded([
            f"Too many backtests: you have {current} run(s) queued or running and this request adds {adding}; "
            f"the limit is {max_open} per user. "
            + (f"Submit at most {room} more now, or wait for some to finish." if room
               else "Wait for some to finish before starting more.")])


def claim_next(session: Session, user_id: int, window: int,
               job_failed: Callable[[str], str | None] = lambda job_id: None) -> list[Backtest]:
    """Mark the user's next waiting runs ``enqueued`` so at most ``window`` are on the queue; returns them.

    ``job_failed(job_id)`` says why a run's job ended without finishing its row (a worker killed
    mid-run), else None: such rows are marked failed so they stop holding a place. The caller
    enqueues the returned rows, then commits (the user's row stays locked until then).
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window!r}")
    lock_user(session, user_id)
    active_q = select(Backtest).where(Backtest.user_id == user_id, or_(
        Backtest.status == "running", and_(Backtest.status == "queued", Backtest.phase == ENQUEUED)))
    active = 0
    for row in session.execute(active_q).scalars():
        why = job_failed(row.job_id) if row.job_id else None
        if why is not None:
            session.execute(update(Backtest).where(Backtest.id == row.id).values(
                status="failed", phase="failed", error=why, finished_at=utcnow()))
        else:
            active += 1
    free = window - active
    if free <= 0:
        return []
    waiting = session.execute(select(Backtest).where(
        Backtest.user_id == user_id, Backtest.status == "queued", Backtest.phase == WAITING
    ).order_by(Backtest.id).limit(free)).scalars().all()
    for row in waiting:
        row.phase = ENQUEUED
    session.flush()
    return list(waiting)
