"""What the job system is doing, from RQ's own queues, workers and registries, for the Admin page's
system panel; and the failed-job actions (requeue, delete) through RQ's ``FailedJobRegistry``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rq import Queue, Worker
from rq.cron import CronScheduler
from rq.exceptions import InvalidJobOperationError, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry

from workers.queues import POLICIES

MAX_FAILED = 50


@dataclass(frozen=True)
class QueueState:
    name: str
    queued: int
    started: int
    failed: int


@dataclass(frozen=True)
class WorkerState:
    name: str
    state: str
    queues: tuple[str, ...]
    current_job: str | None


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    func: str
    ended_at: str | None
    traceback: str


@dataclass(frozen=True)
class CronJobState:
    name: str
    queue: str
    cron: str | None  # the cron expression (None: an interval job)
    next_run: datetime | None
    last_run: datetime | None
    scheduler: str  # the `rq cron` process (host and pid) that runs it


def cron_jobs(connection) -> list[CronJobState]:
    """What every live `rq cron` process schedules, with the next run it computed (RQ's own
    ``CronScheduler`` registry; its clean-up is not run: reading changes nothing)."""
    out = []
    for scheduler in CronScheduler.all(connection, cleanup=False):
        for job in scheduler.get_jobs():
            nxt = job.next_enqueue_time if job.next_enqueue_time and job.next_enqueue_time != datetime.max else None
            out.append(CronJobState(job.name or job.func_name, job.queue_name, job.cron, nxt,
                                    job.latest_enqueue_time, f"{scheduler.hostname} pid {scheduler.pid}"))
    return sorted(out, key=lambda j: (j.next_run is None, j.next_run or datetime.min, j.name))


def queues(connection) -> list[QueueState]:
    """Depth per queue in one pipeline (RQ's registry clean-up is not run: reading changes nothing)."""
    names = list(POLICIES)
    pipe = connection.pipeline(transaction=False)
    for name in names:
        q = Queue(name, connection=connection)
        pipe.llen(q.key)
        pipe.zcard(StartedJobRegistry(name, connection=connection).key)
        pipe.zcard(FailedJobRegistry(name, connection=connection).key)
    counts = pipe.execute()
    return [QueueState(n, *counts[3 * i:3 * i + 3]) for i, n in enumerate(names)]


def workers(connection) -> list[WorkerState]:
    return [WorkerState(w.name, str(w.get_state()), tuple(w.queue_names()), w.get_current_job_id())
            for w in Worker.all(connection=connection)]


def failed_jobs(connection, limit: int = MAX_FAILED) -> list[FailedJob]:
    out = []
    for name in POLICIES:
        registry = FailedJobRegistry(name, connection=connection)
        ids = registry.get_job_ids(0, limit - 1, desc=True, cleanup=False)
        for job in Job.fetch_many(ids, connection=connection):
            if job is None:
                continue
            result = job.latest_result()
            out.append(FailedJob(job.id, name, job.func_name or "?",
                                 job.ended_at.isoformat(timespec="seconds") if job.ended_at else None,
                                 (result.exc_string if result else None) or ""))
    return sorted(out, key=lambda j: j.ended_at or "", reverse=True)[:limit]


def _registry(connection, queue: str) -> FailedJobRegistry:
    if queue not in POLICIES:
        raise ValueError(f"queue must be one of {', '.join(POLICIES)}, got {queue!r}")
    return FailedJobRegistry(queue, connection=connection)


def requeue(connection, queue: str, job_id: str) -> None:
    """Put a failed job back on its queue (RQ's own requeue)."""
    try:
        _registry(connection, queue).requeue(job_id)
    except (NoSuchJobError, InvalidJobOperationError):
        raise ValueError(f"job {job_id} is not in the failed jobs of {queue}") from None


def delete(connection, queue: str, job_id: str) -> None:
    """Remove a failed job and its data."""
    registry = _registry(connection, queue)
    if job_id not in registry.get_job_ids(cleanup=False):
        raise ValueError(f"job {job_id} is not in the failed jobs of {queue}")
    registry.remove(job_id, delete_job=True)
