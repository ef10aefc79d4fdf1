"""Ingest jobs: thin shells over app.market.ingest (load, call, store, cache, hand on).

``refresh(exchange, symbol, tf)`` brings one series up to date, writes the bars it added to the
live cache (no re-read of the series: the new bars are merged into the cached tail) and hands new
closed bars to analysis (``workers.pipeline``). ``refresh_due(tf)`` enqueues the refreshes one
timeframe's cadence is due for (what ``rq cron`` and the in-process scheduler run).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import current_app

import app.hot as hot
from app.extensions import db
from app.hot import feeds
from app.market import store, watchlist
from app.market.ingest import backfill_series, refresh_series
from app.market.sources.base import Source
from app.market.sources.demo import DEMO_EXCHANGE, DemoSource
from app.market.ticker import ticker_from_candles
from app.ops.metrics import record_ingest
from app.settings import Settings
from workers import pipeline
from workers.context import with_app_context
from workers.progress import report
from workers.schedule import enqueue_refreshes

log = logging.getLogger(__name__)
CACHE_BARS = 500  # bars per series kept in the live cache
TICKER_BARS = 1441  # the 1m series keeps a day (plus one bar) so the 24h ticker is computed from the cache
# One source per exchange per worker process: a resource like a connection pool, not shared data
# (the circuit breaker's state itself is shared through hot state).
_sources: dict[str, Source] = {}


def source_for(exchange: str, settings: Settings) -> Source:
    key = exchange.strip().lower()
    if key not in _sources:
        if key == DEMO_EXCHANGE:
            _sources[key] = DemoSource(settings.watchlist, seed=settings.demo_seed)
        else:
            from app.market.sources import make_source
            from app.market.sources.breaker import CircuitBreaker

            breaker = CircuitBreaker(key, storage=hot.breaker_storage(key, settings))
            _sources[key] = make_source(key, settings, breaker=breaker)
    return _sources[key]


def record_feed(source: Source, settings: Settings, error: str | None = None) -> None:
    http = getattr(source, "http", None)
    snapshot = http.breaker.snapshot() if http is not None else None
    feeds.record(hot.feed_store(settings), settings.redis_prefix, source.name, snapshot, error)


def _keep(timeframe: str) -> int:
    return TICKER_BARS if timeframe == "1m" else CACHE_BARS


def update_live_cache(cache, exchange: str, symbol: str, timeframe: str, new_bars, gaps_filled: int) -> None:
    """Merge the bars a refresh added into the cached tail; seed the tail from the database only when
    the cache is cold or older bars were filled in. Then the 1m series' ticker, from the cache."""
    keep = _keep(timeframe)
    if gaps_filled or cache.read_candles(exchange, symbol, timeframe, limit=1) is None:
        conn = db.session.connection()
        tail = store.load_candles(conn, store.find_series(conn, exchange, symbol, timeframe), limit=keep)
        db.session.commit()
        cache.write_candles(exchange, symbol, timeframe, tail, keep=keep)
    elif len(new_bars):
        cache.write_candles(exchange, symbol, timeframe, new_bars, keep=keep)
    if timeframe == "1m":
        day = cache.read_candles(exchange, symbol, "1m")
        if day is not None and len(day):
            cache.write_ticker(exchange, ticker_from_candles(symbol, day))


def _ensure_listed(settings: Settings, exchange: str, symbol: str, timeframe: str) -> None:
    """A series seen for the first time shows on the pages at once, not after the catalogue's TTL."""
    cache = hot.catalog_cache(settings)
    listed = cache.read()
    if listed is not None and (exchange, symbol, timeframe) not in listed:
        cache.invalidate()


@with_app_context
def refresh(exchange: str, symbol: str, timeframe: str) -> dict:
    """Fetch one series since its last stored bar; cache the new bars; hand new closed bars on.
    A market taken off the watch-list after this job was queued is left alone."""
    if watchlist.is_removed(db.session, exchange, symbol):
        db.session.rollback()
        report(100, "removed from the watch-list")
        return {"exchange": exchange, "symbol": symbol, "timeframe": timeframe, "skipped": "removed"}
    return _refresh(exchange, symbol, timeframe)


@record_ingest
def _refresh(exchange: str, symbol: str, timeframe: str) -> dict:
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
    _ensure_listed(settings, result.exchange, result.symbol, timeframe)
    report(80, "caching")
    cache = hot.live_cache(settings)
    if cache is not None and result.written:
        update_live_cache(cache, result.exchange, result.symbol, timeframe, new_bars, result.gaps_filled)
    hot.stream_publisher(settings).bars(result.exchange, result.symbol, timeframe, new_bars)
    pipeline.after_ingest(result.exchange, result.symbol, timeframe, result.new_closed_bars, settings)
    report(100, "done")
    return result.to_dict()


@with_app_context
@record_ingest
def backfill(exchange: str, symbol: str, timeframe: str, days: float = 30.0) -> dict:
    """Load ``days`` of history for one series through the bulk path, progress in ``job.meta``."""
    settings: Settings = current_app.config["CW_SETTINGS"]
    if not 0 < float(days) <= 3650:
        raise ValueError(f"days must be between 0 and 3650, got {days!r}")
    until = datetime.now(timezone.utc)
    result = backfill_series(db.session.connection(), source_for(exchange, settings), symbol, timeframe,
                             until - timedelta(days=float(days)), until, progress=report)
    db.session.commit()
    _ensure_listed(settings, result.exchange, result.symbol, timeframe)
    report(100, "done")
    return result.to_dict()


@with_app_context
def refresh_due(timeframe: str) -> list[dict]:
    """What ``rq cron`` runs on each timeframe's cadence: enqueue that timeframe's refreshes."""
    settings: Settings = current_app.config["CW_SETTINGS"]
    if timeframe not in settings.timeframes:
        raise ValueError(f"timeframe {timeframe!r} is not one of the configured {settings.timeframes}")
    return enqueue_refreshes(settings, [timeframe])


@with_app_context
def refresh_watchlist(exchange: str | None = None) -> list[dict]:
    """Enqueue one refresh per (symbol, timeframe) of the watch-list."""
    settings: Settings = current_app.config["CW_SETTINGS"]
    return enqueue_refreshes(settings, settings.timeframes, exchange)
