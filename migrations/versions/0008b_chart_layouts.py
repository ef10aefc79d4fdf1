"""Create chart_layouts (each user's saved Market-page chart layout).

Revision ID: 0008b_chart_layouts
Revises: 0008a_watchlist
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0008b_chart_layouts"
down_revision = "0008a_watchlist"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "chart_layouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_chart_layouts_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chart_layouts")),
        sa.UniqueConstraint("user_id", name=op.f("uq_chart_layouts_user_id")),
    )


def downgrade():
    op.drop_table("chart_layouts")
