"""Queue depth at scrape time, from RQ's own queues, registries and worker sets (read-only)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from rq import Queue, Worker
from rq.job import Job
from rq.exceptions import NoSuchJobError

log = logging.getLogger(__name__)
# RQ registries per queue, by the state label they are exported under
REGISTRIES = ("started", "scheduled", "deferred", "failed", "finished")


class QueueCollector(Collector):
    """``candlewise_queue_jobs{queue,state}``, ``candlewise_queue_oldest_job_age_seconds{queue}``,
    ``candlewise_queue_workers{queue}``. Counts never run RQ's registry clean-up (a scrape changes nothing)."""

    def __init__(self, connection, queue_names) -> None:
        self.connection = connection
        self.queue_names = tuple(queue_names)

    def collect(self):
        jobs = GaugeMetricFamily("candlewise_queue_jobs", "Jobs per RQ queue and state", labels=("queue", "state"))
        oldest = GaugeMetricFamily("candlewise_queue_oldest_job_age_seconds",
                                   "Age of the oldest job still waiting in the queue (0 when empty)",
                                   labels=("queue",))
        workers = GaugeMetricFamily("candlewise_queue_workers", "RQ workers listening on the queue",
                                    labels=("queue",))
        up = GaugeMetricFamily("candlewise_queue_redis_up", "1 if RQ's queues could be read from Redis")
        try:
            now = datetime.now(timezone.utc)
            queues = [Queue(name, connection=self.connection) for name in self.queue_names]
            pipe = self.connection.pipeline(transaction=False)
            for q in queues:
                pipe.llen(q.key)
                pipe.lindex(q.key, 0)
                for state in REGISTRIES:
                    pipe.zcard(getattr(q, f"{state}_job_registry").key)
            replies = iter(pipe.execute())
            for q in queues:
                queued, head = next(replies), next(replies)
                jobs.add_metric([q.name, "queued"], queued)
                for state in REGISTRIES:
                    jobs.add_metric([q.name, state], next(replies))
                oldest.add_metric([q.name], self._age(head, now))
                workers.add_metric([q.name], Worker.count(connection=self.connection, queue=q))
        except Exception as exc:  # noqa: BLE001 - the scrape still answers, saying Redis is down
            log.warning("queue metrics unavailable: %s: %s", type(exc).__name__, exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from (up, jobs, oldest, workers)

    def _age(self, head, now: datetime) -> float:
        if head is None:
            return 0.0
        job_id = head.decode() if isinstance(head, bytes) else head
        try:
            job = Job.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            return 0.0
        if job.enqueued_at is None:
            return 0.0
        enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=timezone.utc)
        return max(0.0, (now - enqueued).total_seconds())
