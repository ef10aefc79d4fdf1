"""workers.worker: each queue's job modules, imported before the worker forks."""
import importlib

from workers.queues import QUEUE_NAMES
from workers.worker import JOB_MODULES


def test_every_queue_lists_importable_job_modules():
    assert set(JOB_MODULES) == set(QUEUE_NAMES)
    for queue, modules in JOB_MODULES.items():
        for name in modules:
            assert importlib.import_module(name), (queue, name)
