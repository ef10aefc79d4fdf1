"""The circuit breakers' shared state as pybreaker keeps it in Redis, read for the system panel.

``app.hot.breaker_storage`` gives each exchange a ``pybreaker.CircuitRedisStorage`` with namespace
``{prefix}:breaker:<exchange>``; pybreaker stores ``<namespace>:pybreaker:state``, ``:fail_counter``
and ``:opened_at`` (epoch seconds). One MGET reads every exchange's three keys; an exchange whose
breaker was never used reads as closed with no failures.
"""
from __future__ import annotations

from dataclasses import dataclass

FIELDS = ("state", "fail_counter", "opened_at")


@dataclass(frozen=True)
class BreakerState:
    exchange: str
    state: str  # closed | open | half-open (pybreaker's words)
    failures: int
    opened_at: float | None


def _text(raw) -> str | None:
    return raw.decode() if isinstance(raw, bytes) else raw


def read_states(redis, prefix: str, exchanges) -> list[BreakerState]:
    names = list(exchanges)
    keys = [f"{prefix}:breaker:{ex}:pybreaker:{f}" for ex in names for f in FIELDS]
    values = redis.mget(keys) if keys else []
    out = []
    for i, ex in enumerate(names):
        state, fails, opened = (_text(v) for v in values[3 * i:3 * i + 3])
        try:
            failures = int(fails or 0)
        except ValueError:
            failures = 0
        try:
            opened_at = float(opened) if opened else None
        except ValueError:
            opened_at = None
        out.append(BreakerState(ex, state or "closed", failures, opened_at))
    return out


def feed_states(redis, prefix: str, exchanges) -> dict[str, str]:
    """``{exchange: state}`` of :func:`read_states` (one MGET), for the Market page's feed status."""
    return {b.exchange: b.state for b in read_states(redis, prefix, exchanges)}
