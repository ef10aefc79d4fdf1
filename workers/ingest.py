"""Ingest jobs: thin shells over app.market.ingest (load, call, store, cache, hand on)."""
from __future__ import annotations

import logging

from flask import current_app

from app.extensions import db
from app.market.ingest import backfill_series, refresh_series
from app.market.sources.base import Source
from app.market.sources.demo import DEMO_EXCHANGE, DemoSource
from app.settings import Settings
from workers.context import with_app_context
from workers.progress import report

log = logging.getLogger(__name__)
# One source per exchange per worker process, so each circuit breaker remembers
# failures across jobs (a resource like a connection pool, not shared data).
_sources: dict[str, Source] = {}


def source_for(exchange: str, settings: Settings) -> Source:
    key = exchange.strip().lower()
    if key not in _sources:
        if key == DEMO_EXCHANGE:
            _sources[key] = DemoSource(settings.watchlist, seed=settings.demo_seed)
        else:
            from app.market.sources import make_source

            _sources[key] = make_source(key, settings)
    return _sources[key]


def feed_store(settings: Settings):
    """Where feed health lives: Redis in production, the app's own dict in embedded mode."""
    if settings.embedded:
        return current_app.extensions.setdefault("cw_feed_health", {})
    from workers.connection import redis_connection

    return redis_connection(settings.redis_url)


def record_feed(source: Source, settings: Settings, error: str | None = None) -> None:
    from app.market import feed_health

    http = getattr(source, "http", None)
    snapshot = http.breaker.snapshot() if http is not None else None
    feed_health.record(feed_store(settings), settings.redis_prefix, source.name, snapshot, error)


def live_cache(settings: Settings):
    """The Redis live cache, or None in embedded mode (pages then read the database)."""
    if settings.embedded:
        return None
    from app.market.live import LiveCache
    from workers.connection import redis_connection

    return LiveCache(redis_connection(settings.redis_url), prefix=settings.redis_prefix)


@with_app_context
def refresh(exchange: str, symbol: str, timeframe: str) -> dict:
    """Fetch one series since its last stored bar; cache it; enqueue analysis for new closed bars."""
    settings: Settings = current_app.config["CW_SETTINGS"]
    report(10, "fetching")
    source = source_for(exchange, settings)
    try:
        result, new_bars = refresh_series(db.session.connection(), source, symbol, timeframe)
    except Exception as exc:
        db.session.rollback()
        record_feed(source, settings, f"{type(exc).__name__}: {str(exc)[:300]}")
        raise
    db.session.commit()
    record_feed(source, settings)
    report(80, "caching")
    cache = live_cache(settings)
    if cache is not None and result.written:
        from app.market import store
        from app.market.live import ticker_from_candles

        conn = db.session.connection()
        sid = store.find_series(conn, result.exchange, result.symbol, timeframe)
        tail = store.load_candles(conn, sid, limit=500)
        cache.write_candles(result.exchange, result.symbol, timeframe, tail)
        if timeframe == "1m" and len(tail):
            day = store.load_candles(conn, sid, limit=1441)
            cache.write_ticker(result.exchange, ticker_from_candles(result.symbol, day))
    if result.new_closed_bars:
        on_new_bars(result.exchange, result.symbol, timeframe)
    report(100, "done")
    return result.to_dict()


def on_new_bars(exchange: str, symbol: str, timeframe: str) -> None:
    """Hand new closed bars to analysis; a burst over several timeframes coalesces into one queued job."""
    from workers.analysis import enqueue_analysis

    job, enqueued = enqueue_analysis(exchange, symbol)
    log.info("new closed bars: %s %s %s -> analysis %s (%s)", exchange, symbol, timeframe, job.id,
             "enqueued" if enqueued else "already queued")


@with_app_context
def backfill(exchange: str, symbol: str, timeframe: str, days: float = 30.0) -> dict:
    """Load ``days`` of history for one series through the bulk path, progress in ``job.meta``."""
    from datetime import datetime, timedelta, timezone

    settings: Settings = current_app.config["CW_SETTINGS"]
    if not 0 < float(days) <= 3650:
        raise ValueError(f"days must be between 0 and 3650, got {days!r}")
    until = datetime.now(timezone.utc)
    result = backfill_series(db.session.connection(), source_for(exchange, settings), symbol, timeframe,
                             until - timedelta(days=float(days)), until, progress=report)
    db.session.commit()
    report(100, "done")
    return result.to_dict()


@with_app_context
def refresh_watchlist(exchange: str | None = None) -> list[dict]:
    """Enqueue one refresh per (symbol, timeframe) of the watch-list (what the schedule runs)."""
    from workers.queues import enqueue

    settings: Settings = current_app.config["CW_SETTINGS"]
    exchange = exchange or default_exchange(settings)
    jobs = []
    for symbol in settings.watchlist:
        for tf in settings.timeframes:
            job = enqueue("ingest", "workers.ingest.refresh", exchange, symbol, tf)
            jobs.append({"id": job.id, "symbol": symbol, "timeframe": tf})
    return jobs


def default_exchange(settings: Settings) -> str:
    """Where live data comes from: ``demo`` when configured or when only demo data was seeded."""
    if settings.market_source != "auto":
        return settings.market_source
    from app.market import store

    exchanges = set(store.list_series(db.session.connection())["exchange"])
    return "binance" if "binance" in exchanges else DEMO_EXCHANGE
