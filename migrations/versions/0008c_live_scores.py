"""Predictions: the challenger's shadow rows, withheld predictions with their reason, the spread, live scores.

Adds to ``predictions``: ``role`` (champion or challenger: a challenger's rows are stored in shadow and
never shown as the signal), ``p_raw`` (the network's uncalibrated output), ``spread`` (across the
version's fold models), ``withheld`` (why p_up is empty: the out-of-distribution rule), ``outcome``
(1 when the next bar closed higher, 0 when not, set once that bar closed) and ``scored_at``;
``p_up`` may now be empty (a withheld prediction).

Revision ID: 0008c_live_scores
Revises: 0008b_chart_layouts
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0008c_live_scores"
down_revision = "0008b_chart_layouts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("predictions") as batch:
        batch.add_column(sa.Column("role", sa.String(length=16), nullable=False, server_default="champion"))
        batch.add_column(sa.Column("p_raw", sa.Float(), nullable=True))
        batch.add_column(sa.Column("spread", sa.Float(), nullable=True))
        batch.add_column(sa.Column("withheld", sa.Text(), nullable=True))
        batch.add_column(sa.Column("outcome", sa.Float(), nullable=True))
        batch.add_column(sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True))
        batch.alter_column("p_up", existing_type=sa.Float(), nullable=True)


def downgrade():
    op.execute("DELETE FROM predictions WHERE p_up IS NULL")
    with op.batch_alter_table("predictions") as batch:
        batch.alter_column("p_up", existing_type=sa.Float(), nullable=False)
        for name in ("scored_at", "outcome", "withheld", "spread", "p_raw", "role"):
            batch.drop_column(name)
