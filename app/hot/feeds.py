"""Health of each exchange feed (circuit breaker state, last success, last error) for the admin page.

Written by the ingest job after every refresh, read by the Admin page. Key
``{prefix}:feeds:{exchange}``: one JSON document, TTL ``TTL_S``. In production the
store is Redis, so the web process sees what every worker saw; in embedded mode
the job and the page share one process and an in-process ``MemoryStore`` serves.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

TTL_S = 24 * 3600


@dataclass(frozen=True)
class FeedHealth:
    exchange: str
    breaker_state: str  # closed | open | half_open
    failures: int
    retry_in_s: float
    last_ok: str | None
    last_error: str | None
    updated_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def record(store, prefix: str, exchange: str, snapshot, error: str | None = None,
           now: datetime | None = None) -> FeedHealth:
    """Record one refresh outcome. ``store`` is a Redis client or a ``MemoryStore`` (embedded mode)."""
    now_s = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    previous = read(store, prefix, exchange)
    health = FeedHealth(
        exchange=exchange,
        breaker_state=snapshot.state if snapshot is not None else "n/a",
        failures=snapshot.failures if snapshot is not None else 0,
        retry_in_s=round(snapshot.retry_in_s, 1) if snapshot is not None else 0.0,
        last_ok=now_s if error is None else (previous.last_ok if previous else None),
        last_error=error if error is not None else (previous.last_error if previous else None),
        updated_at=now_s,
    )
    key = f"{prefix}:feeds:{exchange}"
    store.set(key, health.to_json(), ex=TTL_S)
    return health


def read(store, prefix: str, exchange: str) -> FeedHealth | None:
    key = f"{prefix}:feeds:{exchange}"
    raw = store.get(key)
    return None if raw is None else FeedHealth(**json.loads(raw))


def read_all(store, prefix: str) -> list[FeedHealth]:
    keys = sorted(store.scan_iter(match=f"{prefix}:feeds:*"))
    return [FeedHealth(**json.loads(v)) for v in store.mget(keys) if v is not None] if keys else []
