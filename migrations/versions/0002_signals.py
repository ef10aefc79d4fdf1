"""Create signals (per-timeframe and fused scores per bar) and signal_quality (cached quality reports).

Revision ID: 0002_signals
Revises: 0001_users_series_candles
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_signals"
down_revision = "0001_users_series_candles"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("bar_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
        sa.UniqueConstraint("exchange", "symbol", "timeframe", "bar_time", name="uq_signals_key"),
    )
    op.create_index("ix_signals_symbol_bar_time", "signals", ["symbol", "bar_time"], unique=False)
    op.create_table(
        "signal_quality",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("bars", sa.Integer(), nullable=False),
        sa.Column("first_bar", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_bar", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_quality")),
        sa.UniqueConstraint("exchange", "symbol", "timeframe", name="uq_signal_quality_key"),
    )


def downgrade():
    op.drop_table("signal_quality")
    op.drop_index("ix_signals_symbol_bar_time", table_name="signals")
    op.drop_table("signals")
