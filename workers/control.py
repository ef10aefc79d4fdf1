"""The emergency stop and resume: the hot-state flag every process reads, RQ's own worker suspension
(``rq.suspension``, the ``rq suspend`` / ``rq resume`` key) and the schedule, switched together.

While stopped, workers finish the job they are running and take no other (``workers.worker.Worker``
also puts back a job it dequeued while suspended), ``workers.schedule.enqueue_refreshes`` enqueues
nothing, and every page shows a banner. Resume lifts all three. Embedded mode has no RQ workers:
there the flag pauses the schedule and shows the banner.
"""
from __future__ import annotations

from rq import suspension

import app.hot as hot
from app.settings import Settings


def _redis(settings: Settings):
    return None if settings.embedded else hot.redis_connection(settings.redis_url)


def emergency_stop(settings: Settings, by: str, reason: str = "") -> dict:
    """Stop the system (idempotent: a second stop keeps the workers suspended and records the new reason)."""
    doc = hot.system_state(settings).stop(by, reason)
    if (conn := _redis(settings)) is not None:
        suspension.suspend(conn)
    return doc


def resume(settings: Settings) -> bool:
    """Lift the stop and resume the workers; True when a stop was in force."""
    was = hot.system_state(settings).resume()
    if (conn := _redis(settings)) is not None:
        suspension.resume(conn)
    return was


def workers_suspended(settings: Settings) -> bool:
    conn = _redis(settings)
    return bool(conn is not None and suspension.is_suspended(conn))
