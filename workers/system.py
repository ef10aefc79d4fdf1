"""System jobs: a queue round-trip probe used by the admin page and the tests."""
from __future__ import annotations

import os
import socket
import time
from datetime import datetime, timezone

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
