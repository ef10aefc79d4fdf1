"""The watch-list: which markets (exchange, symbol, timeframes) are ingested on schedule.

One row per (exchange, symbol). ``exchange`` is a source name or ``auto`` (the default feed,
decided where it always was: ``workers.schedule.default_exchange``), which is how the
environment's ``WATCHLIST`` is seeded, so an existing install keeps its behaviour.
``timeframes`` is a comma-separated subset of the configured timeframes. A removed market keeps
its row with ``removed_at`` set: ingestion skips it, and an emptied list never falls back to the
environment again.
"""
from __future__ import annotations

from app.extensions import db
from app.models.types import UTCDateTime
from app.models.user import utcnow


class WatchedMarket(db.Model):
    __tablename__ = "watchlist"
    __table_args__ = (db.UniqueConstraint("exchange", "symbol", name="uq_watchlist_market"),)

    id = db.Column(db.Integer, primary_key=True)
    exchange = db.Column(db.String(32), nullable=False)
    symbol = db.Column(db.String(32), nullable=False)
    timeframes = db.Column(db.String(64), nullable=False)
    added_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    added_by = db.Column(db.String(254), nullable=False)
    removed_at = db.Column(UTCDateTime(), nullable=True)

    def __repr__(self) -> str:
        return f"<WatchedMarket {self.exchange} {self.symbol} {self.timeframes}>"
