"""Alerts: rules a user sets, the events they fired, their deliveries and every attempt, and each
user's notification settings.

``alert_events`` is unique per (rule, symbol, bar_time): re-evaluating a bar, a retried job or two
workers evaluating the same symbol insert the same key, and only the first insert wins.
``alert_deliveries`` is unique per (event, channel): the claim protocol in ``app.alerts.delivery``
runs on this row (pending -> sending -> sent | failed | unknown | suppressed).
``alert_cursors`` holds, per series (exchange, symbol, timeframe), the newest bar the rules were
evaluated on, so the next evaluation takes every bar that closed since (a backfill, a late batch).
``notification_settings`` holds per-user channel addresses; the webhook secret is stored encrypted
(``app.alerts.secrets``, Fernet), never in clear text.
"""
from __future__ import annotations

from app.extensions import db
from app.models.types import UTCDateTime
from app.models.user import utcnow

FREQUENCIES = ("once", "once_per_bar", "every_time")
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "unknown", "suppressed")


class AlertRule(db.Model):
    __tablename__ = "alert_rules"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(120), nullable=False)
    exchange = db.Column(db.String(32), nullable=False)
    symbol = db.Column(db.String(32), nullable=True, index=True)  # None: every watch-list symbol
    timeframe = db.Column(db.String(8), nullable=False)
    kind = db.Column(db.String(32), nullable=False)  # app.alerts.kinds.KINDS
    params = db.Column(db.JSON, nullable=False)
    channels = db.Column(db.JSON, nullable=False)  # ["inapp", "webhook", "telegram", "email"]
    frequency = db.Column(db.String(16), nullable=False, default="once_per_bar")
    cooldown_s = db.Column(db.Integer, nullable=False, default=0)
    quiet_start = db.Column(db.String(5), nullable=True)  # "HH:MM" in the user's time zone
    quiet_end = db.Column(db.String(5), nullable=True)
    expires_at = db.Column(UTCDateTime(), nullable=True)
    paused = db.Column(db.Boolean, nullable=False, default=False)
    finished = db.Column(db.Boolean, nullable=False, default=False)  # a 'once' rule that fired
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)


class AlertEvent(db.Model):
    __tablename__ = "alert_events"
    __table_args__ = (db.UniqueConstraint("rule_id", "symbol", "bar_time", name="uq_alert_events_key"),
                      db.Index("ix_alert_events_user_fired", "user_id", "fired_at"))

    id = db.Column(db.Integer, primary_key=True)
    rule_id = db.Column(db.Integer, db.ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    exchange = db.Column(db.String(32), nullable=False)
    symbol = db.Column(db.String(32), nullable=False)
    timeframe = db.Column(db.String(8), nullable=False)
    bar_time = db.Column(UTCDateTime(), nullable=False)  # open time of the closed bar that fired
    fired_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    value = db.Column(db.Float, nullable=True)
    message = db.Column(db.String(500), nullable=False)
    read_at = db.Column(UTCDateTime(), nullable=True)


class AlertDelivery(db.Model):
    __tablename__ = "alert_deliveries"
    __table_args__ = (db.UniqueConstraint("event_id", "channel", name="uq_alert_deliveries_key"),)

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.Integer, db.ForeignKey("alert_events.id", ondelete="CASCADE"), nullable=False)
    channel = db.Column(db.String(16), nullable=False)
    status = db.Column(db.String(16), nullable=False, default="pending")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    claimed_at = db.Column(UTCDateTime(), nullable=True)
    claimed_by = db.Column(db.String(64), nullable=True)  # the job that claimed it (a retry of it sees its own claim)
    finished_at = db.Column(UTCDateTime(), nullable=True)
    error = db.Column(db.String(500), nullable=True)


class AlertAttempt(db.Model):
    __tablename__ = "alert_attempts"

    id = db.Column(db.Integer, primary_key=True)
    delivery_id = db.Column(db.Integer, db.ForeignKey("alert_deliveries.id", ondelete="CASCADE"), nullable=False,
                            index=True)
    started_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    latency_ms = db.Column(db.Float, nullable=True)
    status = db.Column(db.String(16), nullable=False)  # sent | failed | retry
    response_code = db.Column(db.Integer, nullable=True)
    error = db.Column(db.String(500), nullable=True)


class NotificationSettings(db.Model):
    __tablename__ = "notification_settings"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    timezone = db.Column(db.String(64), nullable=False, default="UTC")
    quiet_start = db.Column(db.String(5), nullable=True)
    quiet_end = db.Column(db.String(5), nullable=True)
    alerts_paused = db.Column(db.Boolean, nullable=False, default=False)
    telegram_chat_id = db.Column(db.String(64), nullable=True)
    email = db.Column(db.String(254), nullable=True)
    webhook_url = db.Column(db.String(500), nullable=True)
    webhook_format = db.Column(db.String(16), nullable=False, default="json")  # json | discord | slack
    webhook_secret_enc = db.Column(db.Text, nullable=True)  # Fernet token
    updated_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)


class AlertCursor(db.Model):
    """Per series: the open time of the newest closed bar the alert rules were evaluated on."""

    __tablename__ = "alert_cursors"

    exchange = db.Column(db.String(32), primary_key=True)
    symbol = db.Column(db.String(32), primary_key=True)
    timeframe = db.Column(db.String(8), primary_key=True)
    evaluated_through = db.Column(UTCDateTime(), nullable=False)
    evaluated_at = db.Column(UTCDateTime(), nullable=False)
