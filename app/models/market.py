"""Market data: a series (exchange, symbol, timeframe) and its candles.

Candles are keyed by ``(series_id, time)``: a compact integer series key keeps
the primary key index small and makes bulk merges fast (see bench/ingest.py).

``candles.series_id`` deliberately has no FOREIGN KEY: PostgreSQL checks a
foreign key with one lookup per inserted row, which was half the cost of a
million-row backfill (bench/ingest.py: ~100k rows/s with it, ~500k without).
``app.market.store`` refuses writes for series ids that do not exist, and
:func:`app.market.store.delete_series` removes a series' candles with it.
"""
from __future__ import annotations

import secrets

from app.extensions import db
from app.models.types import UTCDateTime


def random_revision() -> int:
    """Where a new series' revision starts: random below 2**52 (exact in float64, far from overflow)."""
    return secrets.randbits(52)


class Series(db.Model):
    __tablename__ = "series"
    __table_args__ = (db.UniqueConstraint("exchange", "symbol", "timeframe", name="uq_series_key"),)

    id = db.Column(db.Integer, primary_key=True)
    exchange = db.Column(db.String(32), nullable=False)
    symbol = db.Column(db.String(32), nullable=False)
    timeframe = db.Column(db.String(8), nullable=False)
    # Advanced by app.market.store in the same transaction as every write that changes one of its bars
    # (migration 0008e): readers compare it instead of reading bars. It starts at a random number, so a
    # recreated database never repeats an old (id, revision) with other bars.
    revision = db.Column(db.BigInteger, nullable=False, default=random_revision, server_default="0")

    def __repr__(self) -> str:
        return f"<Series {self.id} {self.exchange} {self.symbol} {self.timeframe}>"


class Candle(db.Model):
    __tablename__ = "candles"

    series_id = db.Column(db.Integer, primary_key=True)  # -> series.id, checked by app.market.store
    # Bar open time, UTC. The primary key (series_id, time) serves both read
    # patterns: "latest N of one series" (backward index scan) and a time range.
    time = db.Column(UTCDateTime(), primary_key=True)
    open = db.Column(db.Float, nullable=False)
    high = db.Column(db.Float, nullable=False)
    low = db.Column(db.Float, nullable=False)
    close = db.Column(db.Float, nullable=False)
    volume = db.Column(db.Float, nullable=False)
