"""``rq worker --worker-class workers.worker.Worker``: an RQ worker that prepares before it forks.

RQ forks a work horse per job. A plain worker imports the job's module and builds the Flask server
inside every horse; this one builds the server (``workers.context.server``, no Dash) and imports
the job modules of the queues it listens on once, in the parent, so each horse inherits them and
starts at once. An ingest-only worker therefore never loads the backtest engine's numba kernels,
and no worker loads TensorFlow before an ML job asks for it.
"""
from __future__ import annotations

import importlib

from rq import Worker as RQWorker

JOB_MODULES = {
    "ingest": ("workers.ingest", "workers.system"),
    "analysis": ("workers.analysis",),
    "ml": ("workers.ml",),
    "backtests": ("workers.backtests",),
    "alerts": (),
}


class Worker(RQWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from workers.context import server

        server()
        for queue in self.queue_names():
            for name in JOB_MODULES.get(queue, ()):
                importlib.import_module(name)
