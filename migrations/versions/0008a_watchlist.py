"""Create watchlist (the markets ingested on schedule, managed on the Admin page), seeded from the
environment's WATCHLIST so an existing install keeps ingesting what it ingested.

Revision ID: 0008a_watchlist
Revises: 0007e_alert_cursors
Create Date: 2026-12-02
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = "0008a_watchlist"
down_revision = "0007e_alert_cursors"
branch_labels = None
depends_on = None


def _settings():
    """The running app's settings (``flask db upgrade``, the tests), else the environment's."""
    from flask import current_app, has_app_context

    if has_app_context() and "CW_SETTINGS" in current_app.config:
        return current_app.config["CW_SETTINGS"]
    from app.settings import Settings

    return Settings.from_env()


def upgrade():
    table = op.create_table(
        "watchlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("timeframes", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=254), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist")),
        sa.UniqueConstraint("exchange", "symbol", name="uq_watchlist_market"),
    )
    settings = _settings()
    now = datetime.now(timezone.utc)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as app.models.types.UTCDateTime stores it there
    op.bulk_insert(table, [
        {"exchange": "auto", "symbol": symbol, "timeframes": ",".join(settings.timeframes), "added_at": now,
         "added_by": "WATCHLIST", "removed_at": None}
        for symbol in dict.fromkeys(settings.watchlist)])


def downgrade():
    op.drop_table("watchlist")
