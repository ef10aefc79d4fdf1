"""Which series exist, cached: every page tick asks, and the answer changes only when a series is added.

Key ``{prefix}:catalog`` -> JSON list of ``[exchange, symbol, timeframe]``, TTL ``TTL_S``. The job
layer (and the CLI commands that add series) call :meth:`CatalogCache.invalidate` after creating a
series, so a new series shows at once; the TTL bounds staleness for anything else.
"""
from __future__ import annotations

import json

TTL_S = 30


class CatalogCache:
    def __init__(self, store, prefix: str = "cw", ttl_s: int = TTL_S):
        if not isinstance(ttl_s, int) or isinstance(ttl_s, bool) or ttl_s < 1:
            raise ValueError(f"ttl_s must be a positive number of seconds, got {ttl_s!r}")
        self.store, self.key, self.ttl_s = store, f"{prefix}:catalog", ttl_s

    def read(self) -> list[tuple[str, str, str]] | None:
        raw = self.store.get(self.key)
        return None if raw is None else [tuple(row) for row in json.loads(raw)]

    def write(self, rows) -> None:
        self.store.set(self.key, json.dumps([list(r) for r in rows]), ex=self.ttl_s)

    def invalidate(self) -> None:
        self.store.delete(self.key)
