"""System jobs: a queue round-trip probe used by the admin page and the tests; the sweeper's cron job."""
from __future__ import annotations

import os
import socket
import time
from datetime import datetime, timezone

from workers.context import with_app_context
from workers.progress import report


def ping(payload: str = "ping", steps: int = 2, delay_s: float = 0.0) -> dict:
    """Answer with who ran the job; reports progress so pollers can be checked end to end."""
    for i in range(steps):
        report(100.0 * i / steps, f"step {i + 1} of {steps}")
        if delay_s:
            time.sleep(delay_s)
    report(100.0, "done")
    return {
        "pong": payload,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "at": datetime.now(timezone.utc).isoformat(),
    }


@with_app_context
def sweep(stale_after: float | None = None) -> dict:
    """Every minute (rq cron): abandoned jobs and orphaned rows (``workers.sweeper``)."""
    from flask import current_app

    from app.extensions import db
    from app.mlops.service import registry
    from workers import sweeper

    try:
        return sweeper.sweep(db.session, sweeper.STALE_AFTER if stale_after is None else float(stale_after),
                             registry=registry(current_app.config["CW_SETTINGS"]))
    finally:
        db.session.remove()
