"""One step of a paper strategy: the closed bars stored so far, the engine's run, the new fills stored.

``step`` is what the paper job calls for each active strategy of a symbol after analysis. It reads
bars with open time in ``[warmup_from, closed_until(now))`` (the bar still forming is never used),
runs :func:`app.portfolio.paper.run`, inserts the fills not stored yet and records how far it got
(``processed_through``), the marked equity and the hash of the bars. A step with no new closed bar
writes nothing. The caller commits.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pandas as pd
from sqlalchemy.orm import Session

from app.market import store as candles_store
from app.market.gaps import closed_until
from app.marketdata import empty_candles, timeframe_delta
from app.models.portfolio import PaperStrategy
from app.portfolio import paper
from app.portfolio.store import insert_fills, spec_of

SeriesFor = Callable[[str, pd.DataFrame, str], "pd.Series | None"]


def no_series(strategy: str, candles: pd.DataFrame, timeframe: str):
    if strategy in ("score_threshold", "lstm"):
        raise ValueError(f"the {strategy} strategy needs its series (give series_for)")
    return None


def load_bars(session: Session, row: PaperStrategy, end) -> pd.DataFrame:
    """Stored bars of the strategy's series with open time in ``[warmup_from, end)``."""
    sid = candles_store.find_series(session.connection(), row.exchange, row.symbol, row.timeframe)
    if sid is None:
        return empty_candles()
    bars = candles_store.load_candles(session.connection(), sid, row.warmup_from, end)
    bars.attrs["symbol"] = row.symbol
    return bars


def replay(session: Session, row: PaperStrategy, end, series_for: SeriesFor = no_series):
    """The engine's run over the strategy's bars before ``end`` (None when there are too few)."""
    bars = load_bars(session, row, end)
    if len(bars) == 0:
        return None, bars
    return paper.run(spec_of(row), bars, series_for(row.strategy, bars, row.timeframe)), bars


def step(session: Session, row: PaperStrategy, now: datetime | None = None,
         series_for: SeriesFor = no_series) -> dict:
    """Advance one strategy to the latest closed bar; returns ``{"new_fills", "through"}``."""
    now = now or datetime.now(timezone.utc)
    end = closed_until(now, row.timeframe)
    result, bars = replay(session, row, end, series_for)
    if result is None:
        return {"strategy_id": row.id, "new_fills": 0, "through": None}
    through = result.end.to_pydatetime()
    if row.processed_through is not None and through <= row.processed_through:
        return {"strategy_id": row.id, "new_fills": 0, "through": row.processed_through.isoformat()}
    new = insert_fills(session, row.id, paper.fills(result))
    row.processed_through = through
    row.equity = result.final_equity
    row.data_hash = result.data_hash
    session.flush()
    return {"strategy_id": row.id, "new_fills": new, "through": through.isoformat()}


def reconcile_strategy(session: Session, row: PaperStrategy, series_for: SeriesFor = no_series,
                       since=None, until=None) -> dict:
    """Re-run the backtest over the bars the paper account has processed (up to ``until`` when given) and
    compare fill by fill; with ``since``/``until`` only the fills of bars in ``[since, until]`` are compared."""
    from app.portfolio.reconcile import reconcile
    from app.portfolio.store import stored_fills

    stored = stored_fills(session, row.id)
    if row.processed_through is None:
        return reconcile(stored, [])
    through = pd.Timestamp(row.processed_through)
    if until is not None:
        through = min(through, pd.Timestamp(until))
    result, _ = replay(session, row, through + timeframe_delta(row.timeframe), series_for)

    def within(fills):
        return [f for f in fills if (since is None or f.time >= pd.Timestamp(since)) and f.time <= through]

    report = reconcile(within(stored), within(paper.fills(result)),
                       paper_hash=row.data_hash if until is None else None,
                       backtest_hash=None if result is None or until is not None else result.data_hash)
    report["through"] = through.isoformat()
    return report


def strategy_series(models=None) -> SeriesFor:
    """The injected series of the score and LSTM strategies, computed exactly as a backtest computes
    them (``app.backtest.execute``): the signal score at every bar, the champion model's
    out-of-sample predictions."""
    from app.backtest.execute import _series_for

    def series_for(strategy: str, candles: pd.DataFrame, timeframe: str):
        return _series_for(strategy, candles, timeframe, models)

    return series_for


def fill_orders(session: Session, exchange: str, symbol: str, now: datetime | None = None) -> list[dict]:
    """Fill or cancel the open manual orders of a symbol against its closed bars since each was placed
    (``app.portfolio.orders.fill``); rows locked while they are updated, so two jobs never fill one twice."""
    from app.backtest.config import Costs
    from app.portfolio import orders as rules
    from app.portfolio.store import open_orders

    now = now or datetime.now(timezone.utc)
    out = []
    for row in open_orders(session, exchange, symbol):
        sid = candles_store.find_series(session.connection(), exchange, symbol, row.timeframe)
        if sid is None:
            continue
        placed = pd.Timestamp(row.placed_at)
        bars = candles_store.load_candles(session.connection(), sid, placed, closed_until(now, row.timeframe))
        order = rules.Order(row.side, row.type, row.qty, placed, row.price, row.tif)
        status, filled = rules.fill(order, bars, Costs(**row.config))
        if status == row.status:
            continue
        row.status = status
        if filled is not None:
            row.filled_at = pd.Timestamp(filled.time).to_pydatetime()
            row.fill_price, row.fee, row.slippage = filled.price, filled.fee, filled.slippage
        out.append({"order_id": row.id, "status": status})
    session.flush()
    return out
