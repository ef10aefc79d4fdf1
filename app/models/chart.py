"""Chart layouts: each user's saved Market-page layout (one row per user, a JSON document checked by
``app.market.charts.layouts`` whenever it is read)."""
from __future__ import annotations

from app.extensions import db
from app.models.types import UTCDateTime
from app.models.user import utcnow


class ChartLayout(db.Model):
    __tablename__ = "chart_layouts"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True)
    doc = db.Column(db.JSON, nullable=False)
    updated_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
