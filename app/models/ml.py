"""LSTM predictions: one row per (exchange, symbol, timeframe, bar, model version).

``p_up`` is the champion's probability that the bar after ``bar_time`` closes
above it, made at the close of ``bar_time`` from data up to it. The model
files and their out-of-sample metrics live in the registry (``ml.registry``);
``model_version`` points there.

``role`` is what the version was when it predicted: the ``champion`` (its p_up is the signal) or the
``challenger`` (predicted in shadow next to it, never shown as the signal). ``p_up`` is empty when the
prediction was withheld (``withheld`` says why: the out-of-distribution rule); ``spread`` is the
spread across the version's fold models. ``outcome`` (1.0 when the next bar closed higher, else 0.0)
is set once that bar has closed (``app.mlops.live``).
"""
from __future__ import annotations

from datetime import datetime, timezone

from app.extensions import db
from app.models.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Prediction(db.Model):
    __tablename__ = "predictions"
    __table_args__ = (
        db.UniqueConstraint("exchange", "symbol", "timeframe", "bar_time", "model_version",
                            name="uq_predictions_key"),
        db.Index("ix_predictions_symbol_bar_time", "symbol", "bar_time"),
    )

    id = db.Column(db.Integer, primary_key=True)
    exchange = db.Column(db.String(32), nullable=False)
    symbol = db.Column(db.String(32), nullable=False)
    timeframe = db.Column(db.String(8), nullable=False)
    bar_time = db.Column(UTCDateTime(), nullable=False)          # open time of the bar predicted from
    model_version = db.Column(db.Integer, nullable=False)
    p_up = db.Column(db.Float, nullable=True)                    # None: withheld (see ``withheld``)
    role = db.Column(db.String(16), nullable=False, default="champion", server_default="champion")
    p_raw = db.Column(db.Float, nullable=True)
    spread = db.Column(db.Float, nullable=True)
    withheld = db.Column(db.Text, nullable=True)
    outcome = db.Column(db.Float, nullable=True)
    scored_at = db.Column(UTCDateTime(), nullable=True)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
