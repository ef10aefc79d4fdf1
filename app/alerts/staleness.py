"""Stale data for alert rules: a series whose newest stored bar is older than its schedule says it
should be (a feed down, an exchange outage, a symbol dropped from ingestion). Pure.

The periodic sweep (``workers.alerts.sweep``) re-evaluates every symbol with live rules (catching up
on bars that arrived without an analysis) and flags the series its rules watch that went stale;
the Alerts page shows the same flag in the rule list, so a trader knows a quiet rule may be blind
rather than unmet.
"""
from __future__ import annotations

from datetime import datetime, timezone

from app.marketdata import timeframe_delta

STALE_AFTER_BARS = 2  # this many closed bars missing: late rather than merely ingested a moment later
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def expected_last_open(timeframe: str, now: datetime) -> datetime:
    """Open time of the newest bar of ``timeframe`` that has closed by ``now`` (bars aligned to the epoch)."""
    step = timeframe_delta(timeframe)
    current_open = now - (now - EPOCH) % step
    return current_open - step


def missing_bars(last_open: datetime | None, timeframe: str, now: datetime) -> int | None:
    """How many closed bars are missing after ``last_open`` (None when nothing is stored)."""
    if last_open is None:
        return None
    return max(0, (expected_last_open(timeframe, now) - last_open) // timeframe_delta(timeframe))


def is_stale(last_open: datetime | None, timeframe: str, now: datetime, after_bars: int = STALE_AFTER_BARS) -> bool:
    missing = missing_bars(last_open, timeframe, now)
    return missing is None or missing >= after_bars


def stale_series(last_opens: dict[tuple[str, str, str], datetime | None], now: datetime,
                 after_bars: int = STALE_AFTER_BARS) -> dict[tuple[str, str, str], datetime | None]:
    """The (exchange, symbol, timeframe) keys of ``last_opens`` that are stale, with their newest bar."""
    return {key: at for key, at in sorted(last_opens.items(), key=lambda kv: kv[0])
            if is_stale(at, key[2], now, after_bars)}
