"""Backtests: one row per run (configuration, data span and hash, status, metrics, curves) and its trades.

A run is owned by the user who started it (``user_id``); pages and downloads
only ever show a user their own rows. ``config`` holds everything needed to
repeat the run exactly (strategy, parameters, ``BacktestConfig.to_dict()``,
the requested range, walk-forward settings); ``data_hash`` is the sha256 of
the candles the engine saw, so a re-run on the same data can be checked.

Runs of one batch (symbols x strategies x parameters) share a ``batch_id``.
``curves`` is a compressed NumPy archive (bar times, strategy and
buy-and-hold equity and positions): enough to draw every chart and to
rebuild the reports without re-running the engine.
"""
from __future__ import annotations

from datetime import datetime, timezone

from app.extensions import db
from app.models.types import UTCDateTime

STATUSES = ("queued", "running", "finished", "failed")
KINDS = ("single", "walk_forward")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Backtest(db.Model):
    __tablename__ = "backtests"
    __table_args__ = (
        db.CheckConstraint("status IN ('queued', 'running', 'finished', 'failed')", name="status"),
        db.CheckConstraint("kind IN ('single', 'walk_forward')", name="kind"),
        db.Index("ix_backtests_user_created", "user_id", "created_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    batch_id = db.Column(db.String(32), nullable=True, index=True)
    job_id = db.Column(db.String(64), nullable=True)
    kind = db.Column(db.String(16), nullable=False, default="single")
    status = db.Column(db.String(16), nullable=False, default="queued")
    progress = db.Column(db.Float, nullable=False, default=0.0)
    phase = db.Column(db.String(32), nullable=True)
    error = db.Column(db.Text, nullable=True)
    exchange = db.Column(db.String(32), nullable=False)
    symbol = db.Column(db.String(32), nullable=False)
    timeframe = db.Column(db.String(8), nullable=False)
    strategy = db.Column(db.String(32), nullable=False)
    params = db.Column(db.JSON, nullable=False)
    config = db.Column(db.JSON, nullable=False)  # the full request: repeatable
    start_at = db.Column(UTCDateTime(), nullable=False)  # requested range (bar open times, inclusive)
    end_at = db.Column(UTCDateTime(), nullable=False)
    data_start = db.Column(UTCDateTime(), nullable=True)  # span actually traded
    data_end = db.Column(UTCDateTime(), nullable=True)
    n_bars = db.Column(db.Integer, nullable=True)
    data_hash = db.Column(db.String(64), nullable=True)
    metrics = db.Column(db.JSON, nullable=True)  # headline (out-of-sample for walk-forward)
    benchmark_metrics = db.Column(db.JSON, nullable=True)  # buy-and-hold over the same span
    details = db.Column(db.JSON, nullable=True)  # walk-forward windows, strategy stamp
    curves = db.Column(db.LargeBinary, nullable=True)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    started_at = db.Column(UTCDateTime(), nullable=True)
    finished_at = db.Column(UTCDateTime(), nullable=True)

    def __repr__(self) -> str:
        return f"<Backtest {self.id} {self.strategy} {self.symbol} {self.timeframe} {self.status}>"


class BacktestTrade(db.Model):
    __tablename__ = "backtest_trades"
    __table_args__ = (db.UniqueConstraint("backtest_id", "seq", name="uq_backtest_trades_key"),)

    id = db.Column(db.Integer, primary_key=True)
    backtest_id = db.Column(db.Integer, db.ForeignKey("backtests.id", ondelete="CASCADE"), nullable=False)
    seq = db.Column(db.Integer, nullable=False)  # order in the engine's trade list
    symbol = db.Column(db.String(32), nullable=False)
    side = db.Column(db.String(8), nullable=False)
    qty = db.Column(db.Float, nullable=False)
    entry_time = db.Column(UTCDateTime(), nullable=False)
    entry_price = db.Column(db.Float, nullable=False)
    exit_time = db.Column(UTCDateTime(), nullable=False)
    exit_price = db.Column(db.Float, nullable=False)
    pnl = db.Column(db.Float, nullable=False)
    return_pct = db.Column(db.Float, nullable=False)
    fees = db.Column(db.Float, nullable=False)
    slippage = db.Column(db.Float, nullable=False)
    funding = db.Column(db.Float, nullable=False)
    exit_reason = db.Column(db.String(16), nullable=False)
    bars_held = db.Column(db.Integer, nullable=False)
