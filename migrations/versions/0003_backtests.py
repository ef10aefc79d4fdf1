"""Create backtests (runs: owner, configuration, data span and hash, status, metrics, curves) and backtest_trades.

Revision ID: 0003_backtests
Revises: 0002_signals
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_backtests"
down_revision = "0002_signals"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "backtests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=True),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("strategy", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("n_bars", sa.Integer(), nullable=True),
        sa.Column("data_hash", sa.String(length=64), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("benchmark_metrics", sa.JSON(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("curves", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'finished', 'failed')",
                           name=op.f("ck_backtests_status")),
        sa.CheckConstraint("kind IN ('single', 'walk_forward')", name=op.f("ck_backtests_kind")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_backtests_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtests")),
    )
    op.create_index(op.f("ix_backtests_batch_id"), "backtests", ["batch_id"], unique=False)
    op.create_index("ix_backtests_user_created", "backtests", ["user_id", "created_at"], unique=False)
    op.create_table(
        "backtest_trades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("backtest_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("entry_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_price", sa.Float(), nullable=False),
        sa.Column("exit_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exit_price", sa.Float(), nullable=False),
        sa.Column("pnl", sa.Float(), nullable=False),
        sa.Column("return_pct", sa.Float(), nullable=False),
        sa.Column("fees", sa.Float(), nullable=False),
        sa.Column("slippage", sa.Float(), nullable=False),
        sa.Column("funding", sa.Float(), nullable=False),
        sa.Column("exit_reason", sa.String(length=16), nullable=False),
        sa.Column("bars_held", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["backtest_id"], ["backtests.id"],
                                name=op.f("fk_backtest_trades_backtest_id_backtests"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtest_trades")),
        sa.UniqueConstraint("backtest_id", "seq", name="uq_backtest_trades_key"),
    )


def downgrade():
    op.drop_table("backtest_trades")
    op.drop_index("ix_backtests_user_created", table_name="backtests")
    op.drop_index(op.f("ix_backtests_batch_id"), table_name="backtests")
    op.drop_table("backtests")
