"""The ingest schedule: one cron expression per timeframe, which exchange feeds the watch-list, and the
refreshes that are due (used by `rq cron`, the in-process scheduler and `flask candles refresh`)."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from croniter import croniter

import app.hot as hot
from app.extensions import db
from app.market import store, watchlist
from app.market.sources.demo import DEMO_EXCHANGE
from app.settings import Settings
from workers.queues import enqueue

log = logging.getLogger(__name__)

# Refresh each timeframe when one of its bars closes (UTC).
CRON_BY_TIMEFRAME = {
    "1m": "* * * * *",
    "5m": "*/5 * * * *",
    "15m": "*/15 * * * *",
    "1h": "0 * * * *",
    "4h": "0 */4 * * *",
    "1d": "0 0 * * *",
}

# Weekly LSTM retraining (production, `rq cron`): Sundays 03:00 UTC, for these timeframes.
RETRAIN_CRON = "0 3 * * 0"
RETRAIN_TIMEFRAMES = ("1h",)


def default_exchange(settings: Settings) -> str:
    """Where live data comes from (the one place that decides): the configured source, else Binance
    when its candles are stored, else the offline demo set."""
    if settings.market_source != "auto":
        return settings.market_source
    exchanges = {row[0] for row in store.series_keys(db.session.connection())}
    return "binance" if "binance" in exchanges else DEMO_EXCHANGE


def enqueue_refreshes(settings: Settings, timeframes, exchange: str | None = None) -> list[dict]:
    """One ``refresh`` job per watch-list market and timeframe it ingests (the stored watch-list,
    ``app.market.watchlist``; the environment's while none is stored), through the normal ``enqueue``
    (the ingest queue's limits and ``Retry`` apply to scheduled refreshes too). A market on ``auto``
    is fed by ``exchange`` (default: :func:`default_exchange`). Nothing while an emergency stop is in
    force (``workers.control``)."""
    if (stop := hot.system_state(settings).stopped()) is not None:
        log.info("emergency stop in force (by %s): no refreshes enqueued", stop["by"])
        return []
    markets = watchlist.markets(db.session, settings)
    if any(m.exchange == watchlist.AUTO for m in markets):
        exchange = exchange or default_exchange(settings)
    jobs = []
    for tf in timeframes:
        for m in watchlist.due(markets, tf):
            source = exchange if m.exchange == watchlist.AUTO else m.exchange
            job = enqueue("ingest", "workers.ingest.refresh", source, m.symbol, tf)
            jobs.append({"id": job.id, "symbol": m.symbol, "timeframe": tf, "exchange": source})
    return jobs


def due_timeframes(moment: datetime, timeframes) -> list[str]:
    """Timeframes whose bar closes at this minute."""
    minute = moment.astimezone(timezone.utc).replace(second=0, microsecond=0)
    return [tf for tf in timeframes if croniter.match(CRON_BY_TIMEFRAME[tf], minute)]


def next_refreshes(timeframes, now: datetime) -> list[tuple[str, str, datetime]]:
    """``(name, cron, next run)`` of each timeframe's refresh: what the in-process scheduler runs next."""
    now = now.astimezone(timezone.utc)
    return sorted(((f"refresh {tf}", CRON_BY_TIMEFRAME[tf], croniter(CRON_BY_TIMEFRAME[tf], now).get_next(datetime))
                   for tf in timeframes), key=lambda r: (r[2], r[0]))


class InProcessScheduler(threading.Thread):
    """Embedded mode's stand-in for `rq cron`: each minute, enqueue the refreshes that are due."""

    def __init__(self, server, delay_s: float = 3.0):
        super().__init__(name="cw-scheduler", daemon=True)
        self.server = server
        self.delay_s = delay_s  # run a few seconds after the minute so exchanges have closed the bar
        self.stop_event = threading.Event()

    def run(self) -> None:
        settings = self.server.config["CW_SETTINGS"]
        with self.server.app_context():
            exchange = default_exchange(settings)
            symbols = watchlist.symbols(db.session, settings)
            db.session.rollback()
        log.info("in-process scheduler started: refreshing %s (default feed %s)", ", ".join(symbols), exchange)
        with self.server.app_context():  # catch up on bars that closed while the app was down
            enqueue_refreshes(settings, settings.timeframes, exchange)
        while not self.stop_event.is_set():
            now = datetime.now(timezone.utc)
            nxt = croniter("* * * * *", now).get_next(datetime)
            if self.stop_event.wait((nxt - now).total_seconds() + self.delay_s):
                break
            with self.server.app_context():
                enqueue_refreshes(settings, due_timeframes(nxt, settings.timeframes), exchange)

    def stop(self) -> None:
        self.stop_event.set()
