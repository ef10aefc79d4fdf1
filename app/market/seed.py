"""The first loader: real recent candles from Binance when reachable, else the offline demo set.

Used by ``flask demo seed`` (``make run``). Demo candles are stored under the
exchange name ``demo`` and shown with an "offline demo data" badge.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy.engine import Connection

from app.market import store, watchlist
from app.market.resample import resample_many
from app.market.sources.demo import DEMO_EXCHANGE, generate_demo_candles, last_closed_minute
from app.marketdata import timeframe_delta
from app.market.validate import validate_candles
from app.settings import Settings

log = logging.getLogger(__name__)
HIGHER = ("5m", "15m", "1h", "4h", "1d")
# Native history pulled from an exchange at first start: enough for indicators on every timeframe.
BACKFILL_BARS = {"1m": 3000, "5m": 2000, "15m": 2000, "1h": 2000, "4h": 1500, "1d": 1000}


@dataclass
class SeedReport:
    source: str  # "binance" or "demo"
    rows: dict[str, int] = field(default_factory=dict)  # "SYMBOL tf" -> rows written
    fallback_reason: str | None = None
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def store_frames(conn: Connection, exchange: str, symbol: str, frames: dict[str, pd.DataFrame],
                 report: SeedReport) -> None:
    for tf, frame in frames.items():
        frame = validate_candles(frame, tf).valid
        series_id = store.get_or_create_series(conn, exchange, symbol, tf)
        report.rows[f"{symbol} {tf}"] = store.bulk_upsert_candles(conn, series_id, frame)


def seed_demo(conn: Connection, settings: Settings, end: datetime | None = None) -> SeedReport:
    """Generate ``demo_days`` of 1m demo candles per watch-list symbol the demo set feeds (the stored
    watch-list, ``app.market.watchlist``), plus 5m..1d resampled from them."""
    started = time.perf_counter()
    report = SeedReport(source=DEMO_EXCHANGE)
    last = last_closed_minute(end)
    symbols = watchlist.symbols_fed_by(conn, settings, DEMO_EXCHANGE)
    if not symbols:
        report.seconds = time.perf_counter() - started
        return report
    for symbol, one_min in generate_demo_candles(symbols, end=end, days=settings.demo_days,
                                                 seed=settings.demo_seed).items():
        series_1m = store.find_series(conn, DEMO_EXCHANGE, symbol, "1m")
        if series_1m is not None:
            stored_last = store.last_candle_time(conn, series_1m)
            if stored_last is not None and stored_last >= last - timedelta(minutes=5):
                log.info("demo data for %s is current (last bar %s); nothing to do", symbol, stored_last)
                continue
        frames = {"1m": one_min, **resample_many(one_min, "1m", HIGHER)}
        store_frames(conn, DEMO_EXCHANGE, symbol, frames, report)
    report.seconds = time.perf_counter() - started
    return report


def seed_exchange(conn: Connection, settings: Settings, exchange: str = "binance",
                  now: datetime | None = None) -> SeedReport:
    """Backfill recent native candles for the watch-list symbols ``exchange`` feeds from that exchange."""
    from app.market.sources import make_source
    from app.market.sources.http import RetryPolicy

    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    report = SeedReport(source=exchange)
    # One retry only: an unreachable exchange at first start should fall back to demo data quickly.
    with make_source(exchange, settings, retry=RetryPolicy(max_retries=1)) as source:
        for symbol in watchlist.symbols_fed_by(conn, settings, exchange):
            for tf in settings.timeframes:
                if not source.supports(tf):
                    continue
                since = now - BACKFILL_BARS.get(tf, 1000) * timeframe_delta(tf)
                frame = source.fetch_candles(symbol, tf, since, now)
                store_frames(conn, exchange, symbol, {tf: frame}, report)
    report.seconds = time.perf_counter() - started
    return report


def seed_market(session, settings: Settings) -> SeedReport:
    """``auto``: try Binance, fall back to demo data (and say why); an exchange or ``demo``: only that.

    Commits on success; a failed exchange backfill is rolled back before falling back.
    """
    if settings.market_source != DEMO_EXCHANGE:
        exchange = "binance" if settings.market_source == "auto" else settings.market_source
        try:
            report = seed_exchange(session.connection(), settings, exchange)
            session.commit()
            return report
        except Exception as exc:  # noqa: BLE001 - any failure to reach the exchange means offline
            session.rollback()
            if settings.market_source != "auto":
                raise
            reason = f"{type(exc).__name__}: {str(exc)[:200]}"
            log.warning("Binance is unreachable (%s): using the OFFLINE DEMO data set instead", reason)
            report = seed_demo(session.connection(), settings)
            session.commit()
            report.fallback_reason = reason
            return report
    report = seed_demo(session.connection(), settings)
    session.commit()
    return report
