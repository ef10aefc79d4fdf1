"""Named queues and the one ``enqueue`` API.

With ``REDIS_URL`` set, jobs go to RQ queues and real ``rq worker`` processes
run them. Without it (embedded mode) the same call runs the job in a small
in-process thread pool, so both modes share every code path above this module.
Jobs are referenced by dotted path (``"workers.ingest.refresh"``).
"""
from __future__ import annotations

import importlib
import logging
import threading
import time
import traceback
import uuid
import queue as task_queue
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from flask import Flask, current_app
from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.exceptions import NoSuchJobError

from app.settings import Settings
from app.hot import redis_connection
from workers.progress import _inprocess_job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuePolicy:
    """Explicit limits per queue (convention 6)."""

    job_timeout: int
    result_ttl: int = 3600
    failure_ttl: int = 7 * 24 * 3600
    retries: int = 0
    retry_intervals: tuple[int, ...] = ()


POLICIES = {
    "ingest": QueuePolicy(job_timeout=300, retries=3, retry_intervals=(5, 30, 120)),
    "analysis": QueuePolicy(job_timeout=120, retries=2, retry_intervals=(5, 30)),
    "ml": QueuePolicy(job_timeout=3600),
    "backtests": QueuePolicy(job_timeout=1800, result_ttl=24 * 3600),
    "alerts": QueuePolicy(job_timeout=60, retries=5, retry_intervals=(2, 10, 30, 120, 600)),
}
QUEUE_NAMES = tuple(POLICIES)  # the one list of queues: workers listen on these, in this order


@dataclass
class JobRef:
    """What a caller (a page, a test) may know about a job."""

    id: str
    queue: str
    func: str
    status: str
    meta: dict = field(default_factory=dict)
    result: Any = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.status in ("finished", "failed", "stopped", "canceled")


def _resolve(func_path: str):
    module, _, name = func_path.rpartition(".")
    if not module:
        raise ValueError(f"job function must be a dotted path like 'workers.ingest.refresh', got {func_path!r}")
    return getattr(importlib.import_module(module), name)


def _check_queue(queue: str) -> None:
    if queue not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {queue!r}; expected one of {', '.join(QUEUE_NAMES)}")


class RQRunner:
    """Jobs on real RQ queues in Redis."""

    mode = "rq"

    def __init__(self, redis_url: str):
        self.connection = redis_connection(redis_url)

    def queue(self, name: str) -> Queue:
        _check_queue(name)
        return Queue(name, connection=self.connection)

    def enqueue(self, queue: str, func_path: str, args: tuple, kwargs: dict, *, job_id=None, meta=None,
                job_timeout=None) -> JobRef:
        policy = POLICIES[queue]
        retry = Retry(max=policy.retries, interval=list(policy.retry_intervals)) if policy.retries else None
        job = self.queue(queue).enqueue_call(
            func_path, args=args, kwargs=kwargs,
            timeout=job_timeout or policy.job_timeout, result_ttl=policy.result_ttl,
            failure_ttl=policy.failure_ttl, retry=retry, job_id=job_id, meta=meta or {},
        )
        return self._ref(job)

    def fetch(self, job_id: str) -> JobRef | None:
        try:
            job = Job.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            return None
        return self._ref(job)

    @staticmethod
    def _ref(job: Job) -> JobRef:
        status = job.get_status(refresh=True)
        status_s = status.value if isinstance(status, JobStatus) else str(status)
        error = None
        if status_s == "failed":
            error = (job.latest_result().exc_string if job.latest_result() else None) or "job failed"
            error = error.strip().splitlines()[-1]
        return JobRef(id=job.id, queue=job.origin, func=job.func_name, status=status_s, meta=dict(job.meta or {}),
                      result=job.return_value() if status_s == "finished" else None, error=error)


class _InProcessJob:
    def __init__(self, job_id: str, queue: str, func: str, meta: dict):
        self.id, self.queue, self.func = job_id, queue, func
        self.meta = dict(meta)
        self.status = "queued"
        self.result = None
        self.error: str | None = None
        self.enqueued_at = datetime.now(timezone.utc)


def _record(queue: str, seconds: float, status: str) -> None:
    """Job metrics in embedded mode, as ``workers.worker.Worker`` records them for RQ (inside the app context)."""
    from app.ops.metrics import record_job

    if "cw_metric_store" in current_app.extensions:
        record_job(queue, seconds, status)


class InProcessRunner:
    """Embedded mode: jobs run on a few worker threads inside this process.

    Plain threads on a ``queue.Queue`` rather than a ``ThreadPoolExecutor``: a
    worker thread that died (stopped by a test harness, say) is replaced at the
    next ``enqueue``, where an executor would count it as idle forever.
    """

    mode = "inprocess"
    MAX_KEPT = 500

    def __init__(self, server: Flask, workers: int = 2):
        self.server = server
        self.size = workers
        self.tasks: task_queue.Queue = task_queue.Queue()
        self.threads: list[threading.Thread] = []
        self.jobs: dict[str, _InProcessJob] = {}
        self.lock = threading.Lock()

    def start(self) -> None:
        """Start the worker threads now (otherwise the first ``enqueue`` does)."""
        self._ensure_threads()

    def _ensure_threads(self) -> None:
        with self.lock:
            self.threads = [t for t in self.threads if t.is_alive()]
            while len(self.threads) < self.size:
                t = threading.Thread(target=self._loop, name=f"cw-job-{len(self.threads)}", daemon=True)
                t.start()
                self.threads.append(t)

    def _loop(self) -> None:
        while True:
            item = self.tasks.get()
            try:
                if item is not None:  # None only wakes the thread up
                    self._run(*item)
            except BaseException:
                # Stopped from outside while running a job (SystemExit from a harness): say so on the job.
                job = item[0]
                if job.status == "started":
                    job.status, job.error = "failed", "the worker thread was stopped while running the job"
                raise
            finally:
                self.tasks.task_done()

    def enqueue(self, queue: str, func_path: str, args: tuple, kwargs: dict, *, job_id=None, meta=None,
                job_timeout=None) -> JobRef:
        _check_queue(queue)
        func = _resolve(func_path)
        job = _InProcessJob(job_id or uuid.uuid4().hex, queue, func_path, meta or {})
        with self.lock:
            self.jobs[job.id] = job
            if len(self.jobs) > self.MAX_KEPT:
                for old in list(self.jobs)[: len(self.jobs) - self.MAX_KEPT]:
                    self.jobs.pop(old, None)
        self._ensure_threads()
        self.tasks.put((job, func, args, kwargs, POLICIES[queue]))
        return self._ref(job)

    def _run(self, job: _InProcessJob, func, args, kwargs, policy: QueuePolicy) -> None:
        token = _inprocess_job.set(job)
        job.status = "started"
        attempts = policy.retries + 1
        started = time.perf_counter()
        try:
            with self.server.app_context():
                for attempt in range(attempts):
                    try:
                        job.result = func(*args, **kwargs)
                        job.status = "finished"
                        _record(job.queue, time.perf_counter() - started, "finished")
                        return
                    except Exception as exc:  # noqa: BLE001 - recorded on the job, like RQ does
                        job.error = f"{type(exc).__name__}: {exc}"
                        log.warning("job %s %s failed (attempt %d/%d): %s", job.id, job.func, attempt + 1,
                                    attempts, traceback.format_exc(limit=3))
                job.status = "failed"
                _record(job.queue, time.perf_counter() - started, "failed")
        finally:
            _inprocess_job.reset(token)

    def fetch(self, job_id: str) -> JobRef | None:
        job = self.jobs.get(job_id)
        return None if job is None else self._ref(job)

    @staticmethod
    def _ref(job: _InProcessJob) -> JobRef:
        return JobRef(id=job.id, queue=job.queue, func=job.func, status=job.status, meta=dict(job.meta),
                      result=job.result, error=job.error)

    def wait(self, timeout: float = 30.0) -> None:
        """Block until every submitted job has finished (tests, seeding)."""
        import time

        deadline = time.monotonic() + timeout
        while any(j.status not in ("finished", "failed") for j in list(self.jobs.values())):
            if time.monotonic() > deadline:
                raise TimeoutError("in-process jobs still running")
            time.sleep(0.02)


def init_app(server: Flask, settings: Settings) -> None:
    if settings.redis_url:
        server.extensions["cw_jobs"] = RQRunner(settings.redis_url)
    else:
        # SQLite allows one writer: two job threads upgrading read transactions to writes fail with
        # "database is locked" (SQLITE_BUSY_SNAPSHOT skips the busy timeout), so jobs run one at a time.
        workers = 1 if settings.sqlite_path is not None else 2
        server.extensions["cw_jobs"] = InProcessRunner(server, workers=workers)


def runner():
    return current_app.extensions["cw_jobs"]


def enqueue(queue: str, func_path: str, *args, job_id: str | None = None, meta: dict | None = None,
            job_timeout: int | None = None, **kwargs) -> JobRef:
    """Enqueue ``func_path(*args, **kwargs)`` on ``queue`` (in RQ or in-process, per settings)."""
    _check_queue(queue)
    return runner().enqueue(queue, func_path, args, kwargs, job_id=job_id, meta=meta, job_timeout=job_timeout)


def fetch_job(job_id: str) -> JobRef | None:
    return runner().fetch(job_id)
