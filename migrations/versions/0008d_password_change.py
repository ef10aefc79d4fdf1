"""Users: ``must_change_password``, set when an admin creates a user with a one-time password or resets
one, cleared when the user chooses their own at ``/account/password``; ``password_changed_at``, when the
user last chose one themselves.

Revision ID: 0008d_password_change
Revises: 0008c_live_scores
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0008d_password_change"
down_revision = "0008c_live_scores"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_changed_at")
        batch.drop_column("must_change_password")
