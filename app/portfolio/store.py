"""Storage of transactions, paper strategies and fills, always scoped to the owning user.

Functions take the caller's SQLAlchemy session and never commit (the job or callback does). A row
of another user reads as missing (``LookupError``), never as someone else's data.
"""
from __future__ import annotations

from dataclasses import asdict, replace
import re
from datetime import datetime

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models.portfolio import PaperFill, PaperOrder, PaperStrategy, PortfolioTransaction
from app.portfolio.paper import Fill, PaperSpec
from app.portfolio.transactions import Transaction, TransactionError, check_ledger, replace_in

# ------------------------------------------------------------------ transactions


def _tx(row: PortfolioTransaction) -> Transaction:
    return Transaction(row.time, row.kind, row.asset, row.quantity, row.price, row.fee, row.note, row.id)


DEFAULT_PORTFOLIO = "main"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,39}$")


def portfolio_name(value) -> str:
    """A portfolio's name: 1-40 letters, digits, spaces, '-' or '_' (empty means the default)."""
    name = str(value or "").strip() or DEFAULT_PORTFOLIO
    if not _NAME.match(name):
        raise TransactionError("portfolio", f"1-40 letters, digits, spaces, '-' or '_', got {name!r}")
    return name


def portfolios(session: Session, user_id: int) -> list[str]:
    """The user's portfolio names (the default first, always present)."""
    names = set(session.scalars(select(PortfolioTransaction.portfolio).where(
        PortfolioTransaction.user_id == user_id).distinct()))
    return [DEFAULT_PORTFOLIO] + sorted(names - {DEFAULT_PORTFOLIO})


def transactions(session: Session, user_id: int, portfolio: str = DEFAULT_PORTFOLIO) -> list[Transaction]:
    rows = session.scalars(select(PortfolioTransaction).where(PortfolioTransaction.user_id == user_id,
                                                              PortfolioTransaction.portfolio == portfolio)
                           .order_by(PortfolioTransaction.time, PortfolioTransaction.id))
    return [_tx(r) for r in rows]


def add_transactions(session: Session, user_id: int, new: list[Transaction], *, portfolio: str = DEFAULT_PORTFOLIO,
                     allow_short: bool = False) -> int:
    """Insert ``new`` after checking the whole ledger with them (raises ``TransactionError``, writes nothing)."""
    portfolio = portfolio_name(portfolio)
    check_ledger(transactions(session, user_id, portfolio) + list(new), allow_short=allow_short)
    session.add_all([PortfolioTransaction(user_id=user_id, portfolio=portfolio, kind=t.kind, asset=t.asset,
                                          quantity=t.quantity, price=t.price, fee=t.fee, time=t.time, note=t.note)
                     for t in new])
    session.flush()
    return len(new)


def _owned(session: Session, user_id: int, tx_id: int) -> PortfolioTransaction:
    row = session.get(PortfolioTransaction, tx_id)
    if row is None or row.user_id != user_id:
        raise LookupError(f"transaction {tx_id} not found")
    return row


def update_transaction(session: Session, user_id: int, tx_id: int, new: Transaction, *,
                       allow_short: bool = False) -> None:
    row = _owned(session, user_id, tx_id)
    check_ledger(replace_in(transactions(session, user_id, row.portfolio), replace(new, id=tx_id)),
                 allow_short=allow_short)
    for name in ("kind", "asset", "quantity", "price", "fee", "time", "note"):
        setattr(row, name, getattr(new, name))
    session.flush()


def delete_transaction(session: Session, user_id: int, tx_id: int, *, allow_short: bool = False) -> None:
    row = _owned(session, user_id, tx_id)
    check_ledger([t for t in transactions(session, user_id, row.portfolio) if t.id != tx_id],
                 allow_short=allow_short)
    session.delete(row)
    session.flush()


# ------------------------------------------------------------------ paper strategies


def spec_of(row: PaperStrategy) -> PaperSpec:
    from app.backtest.config import BacktestConfig

    return PaperSpec(row.exchange, row.symbol, row.timeframe, row.strategy, dict(row.params),
                     BacktestConfig.from_dict(row.config), pd.Timestamp(row.start_at))


def create_strategy(session: Session, user_id: int, spec: PaperSpec) -> PaperStrategy:
    row = PaperStrategy(user_id=user_id, exchange=spec.exchange, symbol=spec.symbol, timeframe=spec.timeframe,
                        strategy=spec.strategy, params=spec.params, config=spec.config.to_dict(), status="active",
                        start_at=spec.start_at.to_pydatetime(), warmup_from=spec.warmup_from.to_pydatetime())
    session.add(row)
    session.flush()
    return row


def strategies(session: Session, user_id: int) -> list[PaperStrategy]:
    return list(session.scalars(select(PaperStrategy).where(PaperStrategy.user_id == user_id)
                                .order_by(PaperStrategy.id)))


def owned_strategy(session: Session, user_id: int, strategy_id: int) -> PaperStrategy:
    row = session.get(PaperStrategy, strategy_id)
    if row is None or row.user_id != user_id:
        raise LookupError(f"paper strategy {strategy_id} not found")
    return row


def set_status(session: Session, user_id: int, strategy_id: int, status: str) -> None:
    """The kill switch (``stopped``) and its undo (``active``)."""
    if status not in ("active", "stopped"):
        raise ValueError(f"status must be active or stopped, got {status!r}")
    owned_strategy(session, user_id, strategy_id).status = status
    session.flush()


def active_strategies(session: Session, exchange: str, symbol: str) -> list[PaperStrategy]:
    return list(session.scalars(select(PaperStrategy).where(
        PaperStrategy.exchange == exchange, PaperStrategy.symbol == symbol, PaperStrategy.status == "active")
        .order_by(PaperStrategy.id)))


def stored_fills(session: Session, strategy_id: int) -> list[Fill]:
    rows = session.scalars(select(PaperFill).where(PaperFill.strategy_id == strategy_id)
                           .order_by(PaperFill.time, PaperFill.trade_no, PaperFill.id))
    return [Fill(r.trade_no, r.leg, r.side, r.qty, r.price, r.fee, pd.Timestamp(r.time), r.reason) for r in rows]


def insert_fills(session: Session, strategy_id: int, fills: list[Fill]) -> int:
    """Insert the fills not stored yet (unique on strategy, trade number, leg); returns how many were new.

    ``INSERT ... ON CONFLICT DO NOTHING``: two overlapping steps (a retried job) cannot double a fill.
    """
    if not fills:
        return 0
    name = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[name]
    now = datetime.now().astimezone()
    values = [{"strategy_id": strategy_id, "trade_no": f.trade_no, "leg": f.leg, "side": f.side, "qty": f.qty,
               "price": f.price, "fee": f.fee, "time": pd.Timestamp(f.time).to_pydatetime(), "reason": f.reason,
               "created_at": now} for f in fills]
    stmt = insert(PaperFill).values(values).on_conflict_do_nothing(index_elements=["strategy_id", "trade_no", "leg"])
    return session.execute(stmt).rowcount or 0


def delete_fills(session: Session, strategy_id: int) -> None:
    session.execute(delete(PaperFill).where(PaperFill.strategy_id == strategy_id))


# ------------------------------------------------------------------ manual paper orders


def place_order(session: Session, user_id: int, exchange: str, symbol: str, timeframe: str, order, costs,
                price_now: float | None) -> PaperOrder:
    """Validate against the paper account and store an open order (raises ``ValueError`` naming the field)."""
    from app.portfolio.orders import account, check_placement

    mine = list(session.scalars(select(PaperOrder).where(PaperOrder.user_id == user_id)))
    check_placement(order, symbol, account([o for o in mine if o.status == "filled"]),
                    [o for o in mine if o.status == "open"], price_now)
    row = PaperOrder(user_id=user_id, exchange=exchange, symbol=symbol, timeframe=timeframe, side=order.side,
                     type=order.type, qty=order.qty, price=order.price, tif=order.tif, status="open",
                     placed_at=pd.Timestamp(order.placed_at).to_pydatetime(), config=asdict(costs))
    session.add(row)
    session.flush()
    return row


def orders(session: Session, user_id: int):
    return list(session.scalars(select(PaperOrder).where(PaperOrder.user_id == user_id)
                                .order_by(PaperOrder.placed_at.desc(), PaperOrder.id.desc())))


def cancel_order(session: Session, user_id: int, order_id: int) -> None:
    row = session.get(PaperOrder, order_id)
    if row is None or row.user_id != user_id:
        raise LookupError(f"paper order {order_id} not found")
    if row.status != "open":
        raise ValueError(f"order: #{order_id} is {row.status}, only an open order can be cancelled")
    row.status = "cancelled"
    session.flush()


def open_orders(session: Session, exchange: str, symbol: str):
    return list(session.scalars(select(PaperOrder).where(
        PaperOrder.exchange == exchange, PaperOrder.symbol == symbol, PaperOrder.status == "open")
        .order_by(PaperOrder.placed_at, PaperOrder.id).with_for_update(skip_locked=True)))


def has_open_orders(session: Session, exchange: str, symbol: str) -> bool:
    return session.scalar(select(PaperOrder.id).where(
        PaperOrder.exchange == exchange, PaperOrder.symbol == symbol, PaperOrder.status == "open").limit(1)) is not None
