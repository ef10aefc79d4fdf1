"""Job progress in ``job.meta`` — the same call in an RQ worker and in-process."""
from __future__ import annotations

from contextvars import ContextVar
from typing import Any

# Set by the in-process runner while it executes a job (embedded mode).
_inprocess_job: ContextVar[Any] = ContextVar("cw_inprocess_job", default=None)


def report(percent: float, phase: str, **extra: Any) -> None:
    """Record progress (0-100) and a phase name on the current job, if any."""
    meta = {"progress": max(0.0, min(100.0, float(percent))), "phase": phase, **extra}
    job = _inprocess_job.get()
    if job is not None:
        job.meta.update(meta)
        return
    from rq import get_current_job

    rq_job = get_current_job()
    if rq_job is not None:
        rq_job.meta.update(meta)
        rq_job.save_meta()
