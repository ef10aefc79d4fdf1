"""Where a user's chart layout is kept: one ``chart_layouts`` row per user (the caller commits)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from app.market.charts.layouts import check_layout
from app.models.chart import ChartLayout


def load(session, user_id: int):
    """The user's saved layout document as stored (check it with ``layouts.parse_layout``), or None."""
    return session.execute(select(ChartLayout.doc).where(ChartLayout.user_id == int(user_id))).scalar_one_or_none()


def save(session, user_id: int, layout: dict, now: datetime | None = None) -> dict:
    """Check ``layout`` (``LayoutError`` naming the field otherwise) and store it as the user's layout."""
    doc = check_layout(layout)
    row = session.execute(select(ChartLayout).where(ChartLayout.user_id == int(user_id))).scalar_one_or_none()
    if row is None:
        row = ChartLayout(user_id=int(user_id), doc=doc)
        session.add(row)
    else:
        row.doc = doc
    row.updated_at = now or datetime.now(timezone.utc)
    session.flush()
    return doc
