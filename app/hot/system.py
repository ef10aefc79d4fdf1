"""System-wide switches every process must see at once: the admin's emergency stop.

Key ``{prefix}:system:stop`` -> JSON ``{"by": ..., "reason": ..., "at": ISO-8601 UTC}``, no TTL (a stop
lasts until an admin resumes). While it is set the schedule enqueues nothing, alert delivery and
paper strategies do nothing, and every page shows a banner. RQ workers are also suspended with RQ's
own mechanism by the admin control that sets it (the job layer), so queued jobs wait.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone


class SystemState:
    def __init__(self, store, prefix: str = "cw"):
        self.store, self.key = store, f"{prefix}:system:stop"

    def stop(self, by: str, reason: str = "", now: datetime | None = None) -> dict:
        if not isinstance(by, str) or not by.strip():
            raise ValueError("by must name who stops the system")
        if not isinstance(reason, str) or len(reason) > 500:
            raise ValueError("reason must be text of at most 500 characters")
        doc = {"by": by.strip(), "reason": reason.strip(),
               "at": (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")}
        self.store.set(self.key, json.dumps(doc))
        return doc

    def resume(self) -> bool:
        """Lift the stop; True when one was in force."""
        return bool(self.store.delete(self.key))

    def stopped(self) -> dict | None:
        """The stop in force (who, why, when), or None."""
        raw = self.store.get(self.key)
        return None if raw is None else json.loads(raw)

    def is_stopped(self) -> bool:
        return self.stopped() is not None
