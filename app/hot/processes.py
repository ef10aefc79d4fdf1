"""Process figures the RQ workers report with their heartbeat, for the Admin page's system panel.

Key ``{prefix}:procs`` -> a hash, field = RQ worker name, value = JSON ``{"pid", "host", "cpu_percent",
"rss_mb", "children", "at"}`` (``at``: epoch seconds of the sample). The whole hash expires ``TTL_S``
after the last report, so it vanishes with the last worker; the panel joins it with RQ's live workers,
so a dead worker's last figures are never shown. One HGETALL reads every worker.
"""
from __future__ import annotations

import json

TTL_S = 900  # an idle RQ worker heartbeats about every 7 minutes (worker_ttl - 15 s)


class ProcessStats:
    def __init__(self, redis, prefix: str = "cw", ttl_s: int = TTL_S):
        if not isinstance(ttl_s, int) or isinstance(ttl_s, bool) or ttl_s < 1:
            raise ValueError(f"ttl_s must be a positive number of seconds, got {ttl_s!r}")
        self.redis, self.key, self.ttl_s = redis, f"{prefix}:procs", ttl_s

    def write(self, name: str, doc: dict) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("a process report needs the worker's name")
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(self.key, name, json.dumps(doc))
        pipe.expire(self.key, self.ttl_s)
        pipe.execute()

    def read_all(self) -> dict[str, dict]:
        out = {}
        for name, raw in self.redis.hgetall(self.key).items():
            try:
                out[name.decode() if isinstance(name, bytes) else name] = json.loads(raw)
            except (ValueError, TypeError):
                continue  # a report we cannot read is not shown
        return out

    def forget(self, name: str) -> None:
        self.redis.hdel(self.key, name)
