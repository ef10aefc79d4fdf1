"""Create portfolio_transactions (a user's buys, sells, cash moves, fees), paper_strategies, paper_fills and
paper_orders (manual paper orders and their fills).

Revision ID: 0007c_portfolio
Revises: 0007b_alerts
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0007c_portfolio"
down_revision = "0007b_alerts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "portfolio_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("portfolio", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("asset", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("fee", sa.Float(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('buy', 'sell', 'deposit', 'withdraw', 'fee')",
                           name=op.f("ck_portfolio_transactions_kind")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_portfolio_transactions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolio_transactions")),
    )
    op.create_index("ix_portfolio_transactions_user_time", "portfolio_transactions", ["user_id", "portfolio", "time"])
    op.create_table(
        "paper_strategies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("strategy", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warmup_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_through", sa.DateTime(timezone=True), nullable=True),
        sa.Column("equity", sa.Float(), nullable=True),
        sa.Column("data_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'stopped')", name=op.f("ck_paper_strategies_status")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_paper_strategies_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_strategies")),
    )
    op.create_index(op.f("ix_paper_strategies_user_id"), "paper_strategies", ["user_id"])
    op.create_index("ix_paper_strategies_market", "paper_strategies", ["exchange", "symbol", "timeframe"])
    op.create_table(
        "paper_fills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("strategy_id", sa.Integer(), nullable=False),
        sa.Column("trade_no", sa.Integer(), nullable=False),
        sa.Column("leg", sa.String(length=8), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("fee", sa.Float(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("leg IN ('entry', 'exit')", name=op.f("ck_paper_fills_leg")),
        sa.ForeignKeyConstraint(["strategy_id"], ["paper_strategies.id"],
                                name=op.f("fk_paper_fills_strategy_id_paper_strategies"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_fills")),
        sa.UniqueConstraint("strategy_id", "trade_no", "leg", name="uq_paper_fills_key"),
    )
    op.create_table(
        "paper_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("tif", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fill_price", sa.Float(), nullable=True),
        sa.Column("fee", sa.Float(), nullable=True),
        sa.Column("slippage", sa.Float(), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'filled', 'cancelled')", name=op.f("ck_paper_orders_status")),
        sa.CheckConstraint("side IN ('buy', 'sell')", name=op.f("ck_paper_orders_side")),
        sa.CheckConstraint("type IN ('market', 'limit', 'stop')", name=op.f("ck_paper_orders_type")),
        sa.CheckConstraint("tif IN ('gtc', 'ioc')", name=op.f("ck_paper_orders_tif")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_paper_orders_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_orders")),
    )
    op.create_index(op.f("ix_paper_orders_user_id"), "paper_orders", ["user_id"])
    op.create_index("ix_paper_orders_market_status", "paper_orders", ["exchange", "symbol", "status"])


def downgrade():
    op.drop_index("ix_paper_orders_market_status", table_name="paper_orders")
    op.drop_index(op.f("ix_paper_orders_user_id"), table_name="paper_orders")
    op.drop_table("paper_orders")
    op.drop_table("paper_fills")
    op.drop_index("ix_paper_strategies_market", table_name="paper_strategies")
    op.drop_index(op.f("ix_paper_strategies_user_id"), table_name="paper_strategies")
    op.drop_table("paper_strategies")
    op.drop_index("ix_portfolio_transactions_user_time", table_name="portfolio_transactions")
    op.drop_table("portfolio_transactions")
