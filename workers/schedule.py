"""The ingest schedule: one cron expression per timeframe, used by `rq cron` and the in-process scheduler."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from croniter import croniter

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


def due_timeframes(moment: datetime, timeframes) -> list[str]:
    """Timeframes whose bar closes at this minute."""
    minute = moment.astimezone(timezone.utc).replace(second=0, microsecond=0)
    return [tf for tf in timeframes if croniter.match(CRON_BY_TIMEFRAME[tf], minute)]


class InProcessScheduler(threading.Thread):
    """Embedded mode's stand-in for `rq cron`: each minute, enqueue the refreshes that are due."""

    def __init__(self, server, delay_s: float = 3.0):
        super().__init__(name="cw-scheduler", daemon=True)
        self.server = server
        self.delay_s = delay_s  # run a few seconds after the minute so exchanges have closed the bar
        self.stop_event = threading.Event()

    def run(self) -> None:
        from workers.ingest import default_exchange
        from workers.queues import enqueue

        settings = self.server.config["CW_SETTINGS"]
        with self.server.app_context():
            exchange = default_exchange(settings)
        log.info("in-process scheduler started: refreshing %s from %s", ", ".join(settings.watchlist), exchange)
        with self.server.app_context():  # catch up on bars that closed while the app was down
            for tf in settings.timeframes:
                for symbol in settings.watchlist:
                    enqueue("ingest", "workers.ingest.refresh", exchange, symbol, tf)
        while not self.stop_event.is_set():
            now = datetime.now(timezone.utc)
            nxt = croniter("* * * * *", now).get_next(datetime)
            if self.stop_event.wait((nxt - now).total_seconds() + self.delay_s):
                break
            with self.server.app_context():
                for tf in due_timeframes(nxt, settings.timeframes):
                    for symbol in settings.watchlist:
                        enqueue("ingest", "workers.ingest.refresh", exchange, symbol, tf)

    def stop(self) -> None:
        self.stop_event.set()
