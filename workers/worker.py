"""``rq worker --worker-class workers.worker.Worker``: an RQ worker that prepares before it forks and
records each job's run time and failures.

RQ forks a work horse per job. A plain worker imports the job's module and builds the Flask server
inside every horse; this one builds the server (``workers.context.server``, no Dash) and imports
the job modules of the queues it listens on once, in the parent, so each horse inherits them and
starts at once. An ingest-only worker therefore never loads the backtest engine's numba kernels,
and no worker loads TensorFlow before an ML job asks for it.

Job metrics (``app.ops.metrics``): success is recorded in the work horse once RQ has stored the
result; failures wherever RQ handles them (the horse, or the parent when the horse died), so killed
and timed-out jobs count too.
"""
from __future__ import annotations

import importlib

from rq import Worker as RQWorker
from rq.suspension import is_suspended

from app.ops.metric_store import MetricStore, RedisMetricStore
from app.ops.metrics import record_job
from app.settings import Settings

JOB_MODULES = {
    "ingest": ("workers.ingest", "workers.system"),
    "analysis": ("workers.analysis",),
    "ml": ("workers.ml",),
    "backtests": ("workers.backtests", "workers.paper"),
    "alerts": ("workers.alerts",),
}


class Worker(RQWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from workers.context import server

        server()
        for queue in self.queue_names():
            for name in JOB_MODULES.get(queue, ()):
                importlib.import_module(name)

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """RQ checks its suspension only before it blocks waiting for a job, so a job enqueued after an
        emergency stop would still wake a waiting worker; put such a job back and wait for resume."""
        while True:
            result = super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            if result is None or not is_suspended(self.connection):
                return result
            job, queue = result
            with self.connection.pipeline() as pipe:
                pipe.lrem(queue.intermediate_queue_key, 1, job.id)
                pipe.lpush(queue.key, job.id)
                pipe.execute()
            self.log.info("Worker %s: suspended while waiting; put job %s back on %s", self.name, job.id, queue.name)
            self.check_for_suspension(False)
            if self._stop_requested:
                return None

    def _metric_store(self) -> MetricStore:
        store = getattr(self, "_cw_metric_store", None)
        if store is None:
            store = self._cw_metric_store = RedisMetricStore(self.connection, Settings.from_env().redis_prefix)
        return store

    @staticmethod
    def _seconds(job) -> float | None:
        if job.started_at is None or job.ended_at is None:
            return None
        return (job.ended_at - job.started_at).total_seconds()

    def handle_job_success(self, job, queue, started_job_registry, execution):
        super().handle_job_success(job, queue, started_job_registry, execution)
        record_job(job.origin, self._seconds(job), "finished", store=self._metric_store())

    def handle_job_failure(self, job, queue, started_job_registry=None, exc_string="", execution=None):
        will_retry = bool(job.should_retry) and self._stopped_job_id != job.id
        super().handle_job_failure(job, queue, started_job_registry=started_job_registry, exc_string=exc_string,
                                   execution=execution)
        record_job(job.origin, self._seconds(job), "failed", will_retry=will_retry, store=self._metric_store())
