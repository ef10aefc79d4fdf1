"""Clear hot-state caches by area prefix (the Admin page's "clear cache"), with SCAN + UNLINK.

Only the cache areas can be cleared; the emergency-stop switch, the circuit breakers, rate limits
and RQ's keys are never touched, whatever prefix is asked for.
"""
from __future__ import annotations

CLEARABLE = ("live", "live:candles", "live:ticker", "signals", "catalog", "feeds")


def clear(redis, prefix: str, area: str, batch: int = 500) -> int:
    """Delete every key under ``{prefix}:{area}`` and return how many went."""
    if area not in CLEARABLE:
        raise ValueError(f"area must be one of {', '.join(CLEARABLE)}, got {area!r}")
    pattern = f"{prefix}:{area}" if area == "catalog" else f"{prefix}:{area}:*"
    removed, chunk = 0, []
    for key in redis.scan_iter(match=pattern, count=batch):
        chunk.append(key)
        if len(chunk) >= batch:
            removed += redis.unlink(*chunk)
            chunk = []
    if chunk:
        removed += redis.unlink(*chunk)
    return removed
