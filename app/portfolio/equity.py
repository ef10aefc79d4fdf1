"""Daily equity, drawdown and a buy-and-hold benchmark of a ledger, from daily closes.

A transaction on day ``d`` (UTC) counts in that day's close (the daily bar opened at ``d``). Each
day's equity is cash plus every holding at that day's close (closes carried forward over days
without a bar). The benchmark puts every net deposit into the benchmark asset at the close of its
day and holds it: the same money, the same span. Drawdown is equity over its running peak minus
one (undefined while the peak is not positive). Deposits and withdrawals move equity too: the
curve is the account's value, not a return series.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from app.portfolio.transactions import ordered


def _day(t) -> pd.Timestamp:
    return pd.Timestamp(t).tz_convert("UTC").floor("D")


def daily_equity(transactions, closes: pd.DataFrame, end=None) -> pd.DataFrame:
    """Columns ``cash``, ``invested``, ``equity``, ``net_deposits``, ``drawdown``, indexed by day (UTC).

    ``closes``: daily closes indexed by day (tz-aware UTC), one column per traded asset.
    """
    txs = ordered(transactions)
    if not txs:
        return pd.DataFrame(columns=["cash", "invested", "equity", "net_deposits", "drawdown"])
    start = _day(txs[0].time)
    last = _day(end) if end is not None else max(_day(txs[-1].time),
                                                    closes.index.max() if len(closes) else start)
    days = pd.date_range(start, last, freq="D", tz="UTC", name="day")
    frame = pd.DataFrame({"day": [_day(t.time) for t in txs], "asset": [t.asset for t in txs],
                          "qty": [t.quantity if t.kind == "buy" else -t.quantity if t.kind == "sell" else 0.0
                                  for t in txs],
                          "cash": [t.cash_delta for t in txs],
                          "flow": [t.quantity if t.kind == "deposit" else -t.quantity if t.kind == "withdraw"
                                   else 0.0 for t in txs]})
    cash = frame.groupby("day")["cash"].sum().reindex(days, fill_value=0.0).cumsum()
    flows = frame.groupby("day")["flow"].sum().reindex(days, fill_value=0.0)
    traded = frame[frame["qty"] != 0.0]
    invested = pd.Series(0.0, index=days)
    if len(traded):
        qty = traded.pivot_table(index="day", columns="asset", values="qty", aggfunc="sum")
        qty = qty.reindex(days, fill_value=0.0).fillna(0.0).cumsum()
        px = closes.reindex(columns=qty.columns).reindex(days).ffill()
        missing = [a for a in qty.columns if px[a].isna().all()]
        if missing:
            raise ValueError(f"no daily closes for {', '.join(missing)}")
        invested = (qty * px).sum(axis=1, min_count=1).fillna(0.0)
    equity = cash + invested
    peak = equity.cummax()
    drawdown = (equity / peak - 1.0).where(peak > 0)
    return pd.DataFrame({"cash": cash, "invested": invested, "equity": equity,
                         "net_deposits": flows.cumsum(), "drawdown": drawdown})


def benchmark(transactions, close: pd.Series, days: pd.DatetimeIndex) -> pd.Series:
    """Value on each of ``days`` of buying the benchmark asset with every net deposit at its day's close."""
    flows = pd.Series(0.0, index=days)
    for t in ordered(transactions):
        if t.kind in ("deposit", "withdraw"):
            d = _day(t.time)
            if d in flows.index:
                flows[d] += t.quantity if t.kind == "deposit" else -t.quantity
    px = close.reindex(days).ffill()
    units = (flows / px).replace([np.inf, -np.inf], np.nan).fillna(0.0).cumsum()
    return (units * px).rename("benchmark")
