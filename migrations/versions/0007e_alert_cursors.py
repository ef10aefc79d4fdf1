"""Create alert_cursors (per series, the newest bar the alert rules were evaluated on, so bars that
closed together are all evaluated, in order).

Revision ID: 0007e_alert_cursors
Revises: 0007d_api_tokens
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0007e_alert_cursors"
down_revision = "0007d_api_tokens"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "alert_cursors",
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("evaluated_through", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("exchange", "symbol", "timeframe", name=op.f("pk_alert_cursors")),
    )


def downgrade():
    op.drop_table("alert_cursors")
