"""What the Portfolio page shows, assembled from storage and prices (no Dash, no figures).

Prices come from the caller (the hot ticker cache first, the last stored close otherwise,
``app.market.query.tickers``); daily closes for the equity history from the stored candles
(the ``1d`` series, else the largest stored timeframe resampled to the last close of each UTC day).
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session

from app.market import store as candles_store
from app.marketdata import TIMEFRAMES
from app.portfolio import store
from app.portfolio.equity import benchmark, daily_equity
from app.portfolio.pnl import allocation, book

BENCHMARK = "BTC/USDT"


def daily_closes(session: Session, series: dict[str, str], timeframes: dict[str, list[str]], assets, start
                 ) -> pd.DataFrame:
    """Daily closes from ``start`` for each asset that has stored candles (``series``: asset -> exchange)."""
    conn = session.connection()
    order = list(TIMEFRAMES)
    cols = {}
    for asset in assets:
        tfs = [tf for tf in timeframes.get(asset, []) if order.index(tf) <= order.index("1d")]
        if asset not in series or not tfs:
            continue
        tf = max(tfs, key=order.index)
        sid = candles_store.find_series(conn, series[asset], asset, tf)
        bars = candles_store.load_candles(conn, sid, pd.Timestamp(start).floor("D"))
        if len(bars):
            cols[asset] = bars["close"].resample("D").last().dropna()
    return pd.DataFrame(cols)


def holdings(session: Session, user_id: int, prices: dict[str, float], method: str = "fifo",
             portfolio: str = store.DEFAULT_PORTFOLIO) -> dict:
    txs = store.transactions(session, user_id, portfolio)
    b = book(txs, prices, method)
    return {"transactions": txs, "book": b, "positions": [p.to_dict() for p in b.open_positions],
            "summary": b.summary(), "allocation": allocation(b)}


def history(session: Session, txs, series: dict[str, str], timeframes: dict[str, list[str]],
            with_benchmark: bool = True) -> tuple[pd.DataFrame, pd.Series | None]:
    """Daily equity and drawdown, and the BTC buy-and-hold benchmark over the same days."""
    if not txs:
        return daily_equity([], pd.DataFrame()), None
    assets = {t.asset for t in txs if t.kind in ("buy", "sell")} | ({BENCHMARK} if with_benchmark else set())
    closes = daily_closes(session, series, timeframes, sorted(assets), min(t.time for t in txs))
    traded = {t.asset for t in txs if t.kind in ("buy", "sell")}
    missing = sorted(traded - set(closes.columns))
    if missing:
        raise ValueError(f"no stored candles for {', '.join(missing)}")
    eq = daily_equity(txs, closes)
    bench = benchmark(txs, closes[BENCHMARK], eq.index) if with_benchmark and BENCHMARK in closes else None
    return eq, bench


def paper_rows(session: Session, user_id: int) -> list[dict]:
    """One row per paper strategy: state, marked equity and P&L against its virtual cash, fill count."""
    rows = []
    for r in store.strategies(session, user_id):
        cash = float(r.config["initial_cash"])
        fills = store.stored_fills(session, r.id)
        rows.append({"id": r.id, "symbol": r.symbol, "timeframe": r.timeframe, "strategy": r.strategy,
                     "params": ", ".join(f"{k}={v}" for k, v in sorted(r.params.items())), "status": r.status,
                     "start": r.start_at.isoformat(), "through": r.processed_through.isoformat()
                     if r.processed_through else "", "cash": cash, "equity": r.equity,
                     "pnl": None if r.equity is None else r.equity - cash, "fills": len(fills)})
    return rows
