"""The sweeper: nothing stays "running" forever after a worker dies.

RQ keeps the truth about jobs in its registries; this module reads them and brings the database rows
in line (``workers.system.sweep`` in ``rq cron`` every minute, ``workers/cron_config.py``; ``flask jobs sweep`` by hand):

1. **Abandoned jobs.** A job in a queue's ``StartedJobRegistry`` whose worker is gone (its key expired)
   or has not sent a heartbeat for ``stale_after`` seconds is abandoned. Its registry entry is marked
   expired and RQ's own ``StartedJobRegistry.cleanup`` then retries it (when it has retries left) or
   moves it to the ``FailedJobRegistry`` (``AbandonedJobError``). Entries already past their expiry
   are handled by the same cleanup.
2. **Orphaned rows.** A backtest row still ``running`` (or ``queued`` on the queue) whose job RQ
   reports failed, stopped or canceled is marked ``failed`` with a message that says so; a ``running``
   row whose job RQ no longer knows (expired, Redis lost it) likewise. A ``queued`` row whose job RQ
   lost (Redis restarted without its AOF) goes back to ``waiting`` and is dispatched again, so queued
   work is not lost. Each owner's next waiting runs are then dispatched (``workers.submission.dispatch``).

Training, ingestion, analysis and paper steps keep no "running" row: their jobs are idempotent (unique
keys on candles, signals, events and fills) and step 1 retries or fails them in RQ.
Embedded mode has no registries (jobs live in the web process), so the sweep there does nothing.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import or_, and_, select, update
from sqlalchemy.orm import Session

from app.backtest import fairness
from app.models.backtest import Backtest
from workers.queues import QUEUE_NAMES, fetch_job, runner

log = logging.getLogger(__name__)

STALE_AFTER = 180.0  # s without a heartbeat: RQ's busy worker beats every job_monitoring_interval (30 s)
LOST = ("its job is no longer known to the job queue (expired, or Redis lost it) while the run was in progress; "
        "marked failed by the sweeper — submit it again")


def _failed_message(error: str | None, status: str) -> str:
    why = error or f"job {status}"
    return (f"the worker running this backtest stopped before it finished ({why}); "
            "marked failed by the sweeper — submit it again")


@dataclass(frozen=True)
class StartedEntry:
    """One job in a ``StartedJobRegistry``, as the sweeper judges it."""

    job_id: str
    worker_name: str | None


def abandoned(entries: list[StartedEntry], heartbeats: dict[str, float | None], now: float,
              stale_after: float = STALE_AFTER) -> list[str]:
    """The started jobs whose worker is dead: not among the live workers (``heartbeats`` maps each
    registered worker's name to its last heartbeat, epoch seconds) or silent for ``stale_after`` s."""
    if stale_after <= 0:
        raise ValueError(f"stale_after must be positive, got {stale_after!r}")
    out = []
    for entry in entries:
        if not entry.worker_name or entry.worker_name not in heartbeats:
            out.append(entry.job_id)
            continue
        beat = heartbeats[entry.worker_name]
        if beat is not None and now - beat > stale_after:
            out.append(entry.job_id)
    return out


@dataclass
class SweepReport:
    abandoned: list[str] = field(default_factory=list)   # job ids handed to RQ's cleanup
    failed_rows: list[int] = field(default_factory=list)  # backtest ids marked failed
    requeued_rows: list[int] = field(default_factory=list)  # backtest ids put back to waiting
    temporaries: list[str] = field(default_factory=list)  # half-written model directories removed

    def to_dict(self) -> dict:
        return {"abandoned": self.abandoned, "failed_rows": self.failed_rows, "requeued_rows": self.requeued_rows,
                "temporaries": self.temporaries}


def sweep_registries(connection, stale_after: float = STALE_AFTER, now: float | None = None) -> list[str]:
    """Step 1 on every queue; returns the job ids found abandoned (their worker dead)."""
    from rq import Worker
    from rq.job import Job
    from rq.registry import StartedJobRegistry

    now = time.time() if now is None else now
    heartbeats = {}
    for w in Worker.all(connection=connection):
        beat = w.last_heartbeat
        heartbeats[w.name] = beat.replace(tzinfo=beat.tzinfo or timezone.utc).timestamp() if beat else None
    found: list[str] = []
    for name in QUEUE_NAMES:
        registry = StartedJobRegistry(name, connection=connection)
        members = connection.zrange(registry.key, 0, -1)
        entries, by_job = [], {}
        for member in members:
            job_id = registry.parse_job_id(member)
            try:
                job = Job.fetch(job_id, connection=connection)
                worker_name = job.worker_name
            except Exception:  # noqa: BLE001 - a vanished job: RQ's cleanup skips it
                worker_name = None
            entries.append(StartedEntry(job_id, worker_name))
            by_job.setdefault(job_id, []).append(member)
        dead = abandoned(entries, heartbeats, now, stale_after)
        if dead:
            connection.zadd(registry.key, {m: 0 for j in dead for m in by_job[j]})  # expired now
            found.extend(dead)
        registry.cleanup()  # RQ's own: retry or move to FailedJobRegistry
    return found


def sweep_rows(session: Session) -> SweepReport:
    """Step 2: mark orphaned backtest rows failed (or back to waiting) and dispatch their owners' next runs."""
    from workers.submission import dispatch

    report = SweepReport()
    session.commit()
    rows = session.execute(select(Backtest.id, Backtest.user_id, Backtest.status, Backtest.job_id).where(or_(
        Backtest.status == "running",
        and_(Backtest.status == "queued", Backtest.phase == fairness.ENQUEUED)))).all()
    owners = set()
    for backtest_id, user_id, status, job_id in rows:
        job = fetch_job(job_id) if job_id else None
        if job is not None and job.status in ("failed", "stopped", "canceled"):
            values = dict(status="failed", phase="failed", error=_failed_message(job.error, job.status))
            report.failed_rows.append(backtest_id)
        elif job is None and status == "running":
            values = dict(status="failed", phase="failed", error=LOST)
            report.failed_rows.append(backtest_id)
        elif job is None:  # queued on a queue that no longer holds it: wait for its turn again
            values = dict(phase=fairness.WAITING)
            report.requeued_rows.append(backtest_id)
        else:
            continue
        if values.get("status") == "failed":
            values["finished_at"] = datetime.now(timezone.utc)
        # only if nobody finished it meanwhile
        session.execute(update(Backtest).where(Backtest.id == backtest_id, Backtest.status == status)
                        .values(**values))
        owners.add(user_id)
    session.commit()
    for user_id in sorted(owners):
        dispatch(session, user_id)
    return report


def sweep(session: Session, stale_after: float = STALE_AFTER, registry=None) -> dict:
    """Both steps (the every-minute job ``workers.system.sweep`` and ``flask jobs sweep``), then the model
    directories a killed training left half-written (``registry``: ``ml.registry.Registry``); returns what it did."""
    temporaries = registry.remove_abandoned() if registry is not None else []
    if runner().mode != "rq":
        return SweepReport(temporaries=temporaries).to_dict() | {"mode": runner().mode}
    found = sweep_registries(runner().connection, stale_after=float(stale_after))
    report = sweep_rows(session)
    report.abandoned, report.temporaries = found, temporaries
    if found or report.failed_rows or report.requeued_rows or temporaries:
        log.warning("sweeper: %s", report.to_dict())
    return report.to_dict() | {"mode": "rq"}
