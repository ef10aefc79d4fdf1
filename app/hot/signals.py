"""Signal snapshots in Redis: written by the analysis job, read by the Signals page.

Key: ``{prefix}:signals:{symbol}`` -> the snapshot JSON (``app.analysis`` builds it), TTL
``SNAPSHOT_TTL_S``; a cold key reads as None and the page falls back to the database.
"""
from __future__ import annotations

import json
from typing import Iterable

from app.marketdata import validate_symbol

SNAPSHOT_TTL_S = 3600  # a snapshot older than this reads as cold; the page falls back to the DB


class SignalCache:
    """Signal snapshots in Redis: ``{prefix}:signals:{symbol}`` -> JSON, with a TTL."""

    def __init__(self, redis_client, prefix: str = "cw", ttl_s: int = SNAPSHOT_TTL_S):
        if not isinstance(ttl_s, int) or ttl_s < 1:
            raise ValueError(f"ttl_s must be a positive number of seconds, got {ttl_s!r}")
        self.redis, self.prefix, self.ttl_s = redis_client, prefix, ttl_s

    def key(self, symbol: str) -> str:
        return f"{self.prefix}:signals:{validate_symbol(symbol)}"

    def write(self, snapshot: dict) -> None:
        self.redis.set(self.key(snapshot["symbol"]), json.dumps(snapshot, allow_nan=False), ex=self.ttl_s)
        self.redis.incr(f"{self.prefix}:changes:signals")  # ticks re-check (app.hot.changes)

    def read_many(self, symbols: Iterable[str]) -> dict[str, dict | None]:
        names = [validate_symbol(s) for s in symbols]
        if not names:
            return {}
        raws = self.redis.mget([self.key(s) for s in names])
        return {s: (None if raw is None else json.loads(raw)) for s, raw in zip(names, raws)}

    def read(self, symbol: str) -> dict | None:
        return self.read_many([symbol])[validate_symbol(symbol)]
