"""Create predictions (the champion LSTM's p(up) per bar and model version).

Revision ID: 0004_predictions
Revises: 0003_backtests
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_predictions"
down_revision = "0003_backtests"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("bar_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("p_up", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_predictions")),
        sa.UniqueConstraint("exchange", "symbol", "timeframe", "bar_time", "model_version",
                            name="uq_predictions_key"),
    )
    op.create_index("ix_predictions_symbol_bar_time", "predictions", ["symbol", "bar_time"], unique=False)


def downgrade():
    op.drop_index("ix_predictions_symbol_bar_time", table_name="predictions")
    op.drop_table("predictions")
