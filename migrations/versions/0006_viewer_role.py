"""Allow the read-only viewer role on users.

Revision ID: 0006_viewer_role
Revises: 0005a_sessions
Create Date: 2026-12-01
"""
from alembic import op

revision = "0006_viewer_role"
down_revision = "0005a_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint("role", "role IN ('viewer', 'trader', 'admin')")


def downgrade():
    op.execute("UPDATE users SET role = 'trader' WHERE role = 'viewer'")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint("role", "role IN ('trader', 'admin')")
