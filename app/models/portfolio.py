"""Portfolio: a user's transactions (holdings are computed from them), paper strategies and their fills.

Every row is owned by a user (``user_id``, directly or through its strategy); pages only ever show a
user their own rows.

* ``portfolio_transactions``: buy, sell, deposit, withdraw, fee, in one of the user's named portfolios. ``asset`` is a market symbol
  (``BTC/USDT``) for buy/sell, the quote currency (``USDT``) for cash moves and fees.
* ``paper_strategies``: a backtest strategy attached to (exchange, symbol, timeframe) with the
  backtest configuration it trades under; ``start_at`` is the first bar it may trade on,
  ``processed_through`` the last closed bar it has been stepped over (catch-up starts after it).
* ``paper_orders``: a user's manual paper orders (market, limit, stop; gtc or ioc) on a symbol's bars of
  one timeframe, with their fill once a closed bar fills them (``app.portfolio.orders``);
* ``paper_fills``: one row per executed order of a paper strategy, unique on
  (strategy, trade number, leg), so a replayed bar never writes a fill twice.
"""
from __future__ import annotations

from datetime import datetime, timezone

from app.extensions import db
from app.models.types import UTCDateTime

TRANSACTION_KINDS = ("buy", "sell", "deposit", "withdraw", "fee")
PAPER_STATUSES = ("active", "stopped")
FILL_LEGS = ("entry", "exit")
ORDER_STATUSES = ("open", "filled", "cancelled")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class PortfolioTransaction(db.Model):
    __tablename__ = "portfolio_transactions"
    __table_args__ = (
        db.CheckConstraint("kind IN ('buy', 'sell', 'deposit', 'withdraw', 'fee')", name="kind"),
        db.Index("ix_portfolio_transactions_user_time", "user_id", "portfolio", "time"),
    )

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    portfolio = db.Column(db.String(40), nullable=False, default="main")   # the user's portfolio it belongs to
    kind = db.Column(db.String(8), nullable=False)
    asset = db.Column(db.String(32), nullable=False)
    quantity = db.Column(db.Float, nullable=False)
    price = db.Column(db.Float, nullable=False)     # quote per unit (1 for cash moves)
    fee = db.Column(db.Float, nullable=False, default=0.0)   # quote currency
    time = db.Column(UTCDateTime(), nullable=False)
    note = db.Column(db.String(200), nullable=False, default="")
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)


class PaperStrategy(db.Model):
    __tablename__ = "paper_strategies"
    __table_args__ = (
        db.CheckConstraint("status IN ('active', 'stopped')", name="status"),
        db.Index("ix_paper_strategies_market", "exchange", "symbol", "timeframe"),
    )

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    exchange = db.Column(db.String(32), nullable=False)
    symbol = db.Column(db.String(32), nullable=False)
    timeframe = db.Column(db.String(8), nullable=False)
    strategy = db.Column(db.String(32), nullable=False)
    params = db.Column(db.JSON, nullable=False)
    config = db.Column(db.JSON, nullable=False)      # BacktestConfig.to_dict()
    status = db.Column(db.String(8), nullable=False, default="active")
    start_at = db.Column(UTCDateTime(), nullable=False)       # first bar traded (open time)
    warmup_from = db.Column(UTCDateTime(), nullable=False)    # first bar the indicators read
    processed_through = db.Column(UTCDateTime(), nullable=True)
    equity = db.Column(db.Float, nullable=True)               # marked at processed_through's close
    data_hash = db.Column(db.String(64), nullable=True)       # of the bars the last step ran on
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)


class PaperFill(db.Model):
    __tablename__ = "paper_fills"
    __table_args__ = (
        db.UniqueConstraint("strategy_id", "trade_no", "leg", name="uq_paper_fills_key"),
        db.CheckConstraint("leg IN ('entry', 'exit')", name="leg"),
    )

    id = db.Column(db.Integer, primary_key=True)
    strategy_id = db.Column(db.Integer, db.ForeignKey("paper_strategies.id", ondelete="CASCADE"), nullable=False)
    trade_no = db.Column(db.Integer, nullable=False)   # the engine's trade number (0-based)
    leg = db.Column(db.String(8), nullable=False)
    side = db.Column(db.String(8), nullable=False)     # buy / sell
    qty = db.Column(db.Float, nullable=False)
    price = db.Column(db.Float, nullable=False)
    fee = db.Column(db.Float, nullable=False)
    time = db.Column(UTCDateTime(), nullable=False)    # the bar whose open (or range) filled it
    reason = db.Column(db.String(16), nullable=False)  # signal, stop_loss, take_profit, ...
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)


class PaperOrder(db.Model):
    __tablename__ = "paper_orders"
    __table_args__ = (
        db.CheckConstraint("status IN ('open', 'filled', 'cancelled')", name="status"),
        db.CheckConstraint("side IN ('buy', 'sell')", name="side"),
        db.CheckConstraint("type IN ('market', 'limit', 'stop')", name="type"),
        db.CheckConstraint("tif IN ('gtc', 'ioc')", name="tif"),
        db.Index("ix_paper_orders_market_status", "exchange", "symbol", "status"),
    )

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    exchange = db.Column(db.String(32), nullable=False)
    symbol = db.Column(db.String(32), nullable=False)
    timeframe = db.Column(db.String(8), nullable=False)
    side = db.Column(db.String(4), nullable=False)
    type = db.Column(db.String(8), nullable=False)
    qty = db.Column(db.Float, nullable=False)
    price = db.Column(db.Float, nullable=True)          # the limit or stop level
    tif = db.Column(db.String(4), nullable=False)
    status = db.Column(db.String(12), nullable=False, default="open")
    placed_at = db.Column(UTCDateTime(), nullable=False)
    filled_at = db.Column(UTCDateTime(), nullable=True)  # the bar that filled it
    fill_price = db.Column(db.Float, nullable=True)
    fee = db.Column(db.Float, nullable=True)
    slippage = db.Column(db.Float, nullable=True)
    config = db.Column(db.JSON, nullable=False)          # the Costs it fills under
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
