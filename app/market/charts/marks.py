"""What a chart marks for one user: alert levels and firings, backtest trades, the champion's p(up).

Every read takes the caller's session, is bounded (``LIMIT``) and scoped to the signed-in user where
the rows are a user's own (rules, alert events, backtests: another user's backtest id gives nothing).
Times are UTC-aware ISO-8601 strings, as the figure's x values are.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import or_, select

from app.models import AlertEvent, AlertRule, Backtest, BacktestTrade, PaperFill, PaperStrategy, Prediction

LIMIT = 500
LEVEL_KINDS = ("price_above", "price_below", "price_cross_up", "price_cross_down")


def _iso(t) -> str:
    return pd.Timestamp(t).tz_convert("UTC").isoformat()


def alert_levels(session, user_id: int, exchange: str, symbol: str) -> list[dict]:
    """The user's active price-level rules for ``symbol`` (or for the whole watch-list): level, name, kind."""
    r = AlertRule
    rows = session.execute(
        select(r.id, r.name, r.kind, r.params).where(
            r.user_id == int(user_id), r.exchange == exchange, or_(r.symbol == symbol, r.symbol.is_(None)),
            r.kind.in_(LEVEL_KINDS), r.paused.is_(False), r.finished.is_(False))
        .order_by(r.id).limit(LIMIT)).all()
    out = []
    for rid, name, kind, params in rows:
        level = (params or {}).get("level")
        if isinstance(level, (int, float)) and not isinstance(level, bool):
            out.append({"id": rid, "name": name, "kind": kind, "level": float(level)})
    return out


def alert_fires(session, user_id: int, exchange: str, symbol: str, timeframe: str, since: datetime) -> list[dict]:
    """Where the user's rules fired on this series since ``since`` (bar open time, value, message)."""
    e = AlertEvent
    rows = session.execute(
        select(e.bar_time, e.value, e.message).where(
            e.user_id == int(user_id), e.exchange == exchange, e.symbol == symbol, e.timeframe == timeframe,
            e.bar_time >= since)
        .order_by(e.bar_time.desc()).limit(LIMIT)).all()
    return [{"time": _iso(t), "value": v, "message": m} for t, v, m in reversed(rows)]


def trade_source(session, user_id: int | None, kind: str, run_id: int) -> dict | None:
    """The series of the user's own backtest (``kind="backtest"``) or paper strategy (``kind="paper"``)
    ``run_id``: ``{"exchange", "symbol", "timeframe"}``; None for another user's, a missing one or no user."""
    model = {"backtest": Backtest, "paper": PaperStrategy}[kind]
    if user_id is None:
        return None
    row = session.execute(select(model.user_id, model.exchange, model.symbol, model.timeframe)
                          .where(model.id == int(run_id))).first()
    if row is None or row[0] != int(user_id):
        return None
    return {"exchange": row[1], "symbol": row[2], "timeframe": row[3]}


def backtest_trades(session, user_id: int, backtest_id: int | None, symbol: str) -> list[dict]:
    """The trades of the user's own backtest ``backtest_id`` on ``symbol``; [] for another user's, another
    symbol's or a missing one."""
    if backtest_id is None:
        return []
    owner = session.execute(select(Backtest.user_id, Backtest.symbol).where(Backtest.id == int(backtest_id))).first()
    if owner is None or owner[0] != int(user_id) or owner[1] != symbol:
        return []
    t = BacktestTrade
    rows = session.execute(
        select(t.side, t.entry_time, t.entry_price, t.exit_time, t.exit_price, t.return_pct)
        .where(t.backtest_id == int(backtest_id)).order_by(t.seq).limit(LIMIT)).all()
    return [{"side": side, "entry_time": _iso(et), "entry_price": ep, "exit_time": _iso(xt), "exit_price": xp,
             "return_pct": r} for side, et, ep, xt, xp, r in rows]


def paper_trades(session, user_id: int, strategy_id: int | None, symbol: str) -> list[dict]:
    """The fills of the user's own paper strategy ``strategy_id`` on ``symbol`` as trades (entry and, once
    closed, exit); [] for another user's, another symbol's or a missing one."""
    if strategy_id is None:
        return []
    owner = session.execute(select(PaperStrategy.user_id, PaperStrategy.symbol)
                            .where(PaperStrategy.id == int(strategy_id))).first()
    if owner is None or owner[0] != int(user_id) or owner[1] != symbol:
        return []
    f = PaperFill
    rows = session.execute(select(f.trade_no, f.leg, f.side, f.price, f.time).where(f.strategy_id == int(strategy_id))
                           .order_by(f.trade_no, f.time, f.id).limit(2 * LIMIT)).all()
    trades: dict[int, dict] = {}
    for no, leg, side, price, t in rows:
        trade = trades.setdefault(no, {"side": side, "entry_time": None, "entry_price": None, "exit_time": None,
                                       "exit_price": None, "return_pct": None})
        if trade["entry_time"] is None:
            trade.update(entry_time=_iso(t), entry_price=price)
        else:
            trade.update(exit_time=_iso(t), exit_price=price,
                         return_pct=(price / trade["entry_price"] - 1) * 100 * (1 if trade["side"] in ("buy", "long")
                                                                                else -1))
    return list(trades.values())


def p_up(session, exchange: str, symbol: str, timeframe: str, version: int | None, since: datetime) -> list[dict]:
    """The champion (model ``version``)'s stored p(up) per bar since ``since``; [] without a champion."""
    if version is None:
        return []
    p = Prediction
    rows = session.execute(
        select(p.bar_time, p.p_up).where(p.exchange == exchange, p.symbol == symbol, p.timeframe == timeframe,
                                         p.model_version == int(version), p.bar_time >= since)
        .order_by(p.bar_time.desc()).limit(LIMIT)).all()
    return [{"time": _iso(t), "p_up": float(v)} for t, v in reversed(rows)]
