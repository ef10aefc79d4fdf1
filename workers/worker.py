"""``rq worker --worker-class workers.worker.Worker``: an RQ worker that prepares before it forks and
records each job's run time and failures.

RQ forks a work horse per job. A plain worker imports the job's module and builds the Flask server
inside every horse; this one builds the server (``workers.context.server``, no Dash) and imports
the job modules of the queues it listens on once, in the parent, so each horse inherits them and
starts at once. An ingest-only worker therefore never loads the backtest engine's numba kernels,
and no worker loads TensorFlow before an ML job asks for it.

Redis going away between jobs does not end it. RQ retries, with backoff, only the wait for the next
job; its loop's other Redis calls (the suspension check, registry maintenance, the heartbeat after a
job) end the worker on a connection error, so a Redis restart at the wrong moment left a worker
gone for good. Here each of those waits for Redis the same way (1 s doubling to RQ's 60 s).

Job metrics (``app.ops.metrics``): success is recorded in the work horse once RQ has stored the
result; failures wherever RQ handles them (the horse, or the parent when the horse died), so killed
and timed-out jobs count too.
"""
from __future__ import annotations

import importlib
import os
import time

import redis
import rq
from rq import Worker as RQWorker
from rq.suspension import is_suspended

from app.hot.processes import ProcessStats
from app.ops.metric_store import MetricStore, RedisMetricStore
from app.ops.metrics import record_job
from app.settings import Settings

JOB_MODULES = {
    "ingest": ("workers.ingest", "workers.system"),
    # analysis evaluates alerts in its own job and asks the paper-trading store whether to step
    "analysis": ("workers.analysis", "workers.alert_evaluation", "app.portfolio.store"),
    "ml": ("workers.ml",),
    "backtests": ("workers.backtests", "workers.paper"),
    "alerts": ("workers.alerts",),
}


REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class Worker(RQWorker):
    def _until_redis_answers(self, what: str, call):
        """``call()``, retried while Redis cannot be reached (as RQ retries its dequeue)."""
        wait = 1.0
        while True:
            try:
                return call()
            except REDIS_DOWN as exc:
                self.log.error("Worker %s: Redis unreachable (%s: %s), retrying in %d seconds...", self.name, what,
                               exc, wait)
                time.sleep(wait)
                wait = min(wait * self.exponential_backoff_factor, self.max_connection_wait_time)

    def check_for_suspension(self, burst):
        return self._until_redis_answers("suspension check", lambda: super(Worker, self).check_for_suspension(burst))

    def run_maintenance_tasks(self):
        return self._until_redis_answers("maintenance", super().run_maintenance_tasks)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._cw_root_pid = os.getpid()  # the worker itself, also when a horse sends a heartbeat
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
            if result is None or not self._until_redis_answers("suspension check",
                                                                lambda: is_suspended(self.connection)):
                return result
            job, queue = result

            def put_back():
                with self.connection.pipeline() as pipe:
                    pipe.lrem(queue.intermediate_queue_key, 1, job.id)
                    pipe.lpush(queue.key, job.id)
                    pipe.execute()

            self._until_redis_answers("putting a job back", put_back)
            self.log.info("Worker %s: suspended while waiting; put job %s back on %s", self.name, job.id, queue.name)
            self.check_for_suspension(False)
            if self._stop_requested:
                return None

    def heartbeat(self, timeout=None, pipeline=None):
        """RQ's heartbeat, plus this worker's CPU and memory for the Admin page (``app.hot.processes``).
        A failed report never stops the worker; nor does Redis being away (the heartbeat waits for it,
        except inside a caller's pipeline, whose caller sends it)."""
        if pipeline is None:
            self._until_redis_answers("heartbeat", lambda: super(Worker, self).heartbeat(timeout))
        else:
            super().heartbeat(timeout, pipeline=pipeline)
        try:
            if getattr(self, "_cw_sampler", None) is None:
                from workers.heartbeat import ProcessSampler

                self._cw_sampler = ProcessSampler(self._cw_root_pid)
                self._cw_procs = ProcessStats(self.connection, Settings.from_env().redis_prefix)
            self._cw_procs.write(self.name, self._cw_sampler.sample())
        except Exception as exc:  # noqa: BLE001 - figures for a panel, not the worker's job
            self.log.debug("Worker %s: process figures not reported: %s", self.name, exc)

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


class SimpleWorker(rq.SimpleWorker, Worker):
    """The same worker without a fork per job (RQ's ``SimpleWorker``): jobs run in the worker process,
    which keeps its database pool and skips the fork and horse start-up, for short jobs such as the
    alerts queue's deliveries (``rq worker --worker-class workers.worker.SimpleWorker alerts``). The
    trade-off: a job that crashes the process takes the worker with it (RQ then handles the job as
    abandoned, as for a killed horse), and a job's memory stays with the worker."""
