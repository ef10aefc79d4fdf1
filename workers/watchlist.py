"""Watch-list changes and the backfill a new market starts: thin shells over ``app.market.watchlist``.

``add_market`` asks the exchange which symbols it lists (the real source, behind its circuit
breaker), stores the market (audited), commits, then enqueues ``backfill`` on the ingest queue;
the Admin page polls that job's ``job.meta``. ``remove_market`` takes it off (audited), keeps or
deletes its stored series with every row derived from them (signals, signal quality, predictions, alert
cursors; their live cache and signal snapshot too), commits and drops the page catalogue so every page
shows the change.
``backfill`` loads each of the market's timeframes in turn (``app.market.seed.BACKFILL_BARS`` bars,
as the first start does; the demo set's ``DEMO_DAYS``), one progress bar over all of them.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import current_app

import app.hot as hot
from app.audit.log import Actor
from app.extensions import db
from app.market import watchlist
from app.market.ingest import backfill_series
from app.market.seed import BACKFILL_BARS
from app.market.sources.demo import DEMO_EXCHANGE
from app.market.sources.errors import ExchangeError
from app.marketdata import TIMEFRAMES, timeframe_delta
from app.settings import Settings
from workers.context import with_app_context
from workers.progress import report
from workers.queues import JobRef, enqueue
from workers.schedule import default_exchange

log = logging.getLogger(__name__)
BACKFILL_JOB = "workers.watchlist.backfill"


def feed_of(settings: Settings, exchange: str) -> str:
    """The source that feeds a market: its own exchange, or the default feed for ``auto``."""
    return default_exchange(settings) if exchange == watchlist.AUTO else exchange


def listed_symbols(settings: Settings, exchange: str) -> list[str] | None:
    """What the exchange lists (None for the demo set, which serves any well-formed symbol)."""
    if exchange == DEMO_EXCHANGE:
        return None
    from app.market.sources import make_source
    from app.market.sources.breaker import CircuitBreaker
    from app.market.sources.http import RetryPolicy

    # Asked from a web request: one retry only (as the first start does), behind the exchange's shared breaker.
    breaker = CircuitBreaker(exchange, storage=hot.breaker_storage(exchange, settings))
    try:
        with make_source(exchange, settings, breaker=breaker, retry=RetryPolicy(max_retries=1)) as source:
            return source.list_symbols()
    except ExchangeError as exc:
        raise watchlist.WatchlistError("Exchange", f"{exchange} could not be asked for its symbols "
                                                   f"({type(exc).__name__}: {str(exc)[:160]}); nothing was changed")


def add_market(settings: Settings, market: watchlist.Market, actor: Actor) -> JobRef:
    """Validate against the exchange, store (audited, committed), then enqueue the backfill."""
    feed = feed_of(settings, market.exchange)
    listed = listed_symbols(settings, feed)
    try:
        watchlist.add(db.session, settings, market, actor, listed=listed)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return enqueue("ingest", BACKFILL_JOB, feed, market.symbol, list(market.timeframes),
                   meta={"progress": 0.0, "phase": "queued", "market": market.key})


def remove_market(settings: Settings, exchange: str, symbol: str, actor: Actor, *,
                  delete_history: bool) -> watchlist.Removal:
    """Take a market off (audited, committed); its queued refreshes then do nothing."""
    try:
        feed = feed_of(settings, exchange) if delete_history else None
        removal = watchlist.remove(db.session, settings, exchange, symbol, actor, delete_history=delete_history,
                                   history_exchange=feed)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    hot.catalog_cache(settings).invalidate()
    cache = hot.live_cache(settings)
    if delete_history and cache is not None:  # a later re-add must not merge new bars into a stale tail
        cache.redis.delete(*[cache.candles_key(feed, symbol, tf) for tf in TIMEFRAMES], cache.ticker_key(feed, symbol))
    signals = hot.signal_cache(settings)
    if delete_history and signals is not None:  # the snapshot was computed from the deleted rows
        signals.redis.delete(signals.key(symbol))
    return removal


def history_to_delete(settings: Settings, exchange: str, symbol: str) -> dict[str, int]:
    """What removing this market with its history would delete (``app.market.watchlist.history_counts`` on
    the feed that stores it), for the confirmation."""
    counts = watchlist.history_counts(db.session, feed_of(settings, exchange), symbol)
    db.session.rollback()  # end the read transaction
    return counts


@with_app_context
def backfill(exchange: str, symbol: str, timeframes: list[str]) -> dict:
    """Recent history for each timeframe of a new market; the catalogue is dropped after each, so the
    market shows on every page as soon as its first series is stored."""
    from workers.ingest import source_for

    settings: Settings = current_app.config["CW_SETTINGS"]
    unknown = [tf for tf in timeframes if tf not in settings.timeframes]
    if not timeframes or unknown:
        raise ValueError(f"timeframes must be some of {settings.timeframes}, got {timeframes!r}")
    source = source_for(exchange, settings)
    until = datetime.now(timezone.utc)
    rows, n = {}, len(timeframes)
    for i, tf in enumerate(timeframes):
        def progress(percent, phase, _i=i):
            report(100.0 * (_i + percent / 100.0) / n, phase, timeframe=tf)

        since = until - BACKFILL_BARS.get(tf, 1000) * timeframe_delta(tf)
        if exchange == DEMO_EXCHANGE:  # the demo set is generated: as much as the first start seeds
            since = max(since, until - timedelta(days=settings.demo_days))
        try:
            result = backfill_series(db.session.connection(), source, symbol, tf, since, until, progress=progress)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        hot.catalog_cache(settings).invalidate()
        rows[tf] = result.written
    report(100, "done", timeframe=None)
    log.info("backfilled %s %s: %s", exchange, symbol, rows)
    return {"exchange": exchange, "symbol": symbol, "written": rows}
