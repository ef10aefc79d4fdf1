"""Paper fills against a backtest of the same strategy over the same stored bars, fill by fill.

Fills are paired by ``(trade number, leg)``. A pair matches when side, time, quantity, price and fee
agree (prices, quantities and fees to ``REL_TOL`` relative: the same code on the same bars gives the
same floats, the tolerance only absorbs the database's float round trip). Every other row names the
fields that differ and why:

* both sides have the fill but values differ: if the bars' data hash recorded by the last paper step
  differs from the hash of the bars the backtest read, the stored bars changed after the paper step
  (a corrected or back-filled candle); otherwise it is a defect of the paper path;
* only the backtest has it (``missing``): the paper job did not store it: the strategy was stopped or
  halted on that bar, or its job failed there;
* only the paper account has it (``extra``): the backtest over today's stored bars does not trade
  there; with a changed hash the bars changed, otherwise a defect.
"""
from __future__ import annotations

import math

import pandas as pd

from app.portfolio.paper import Fill

REL_TOL = 1e-9
NUMERIC = ("qty", "price", "fee")


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


def _differences(p: Fill, b: Fill) -> list[str]:
    out = []
    if p.side != b.side:
        out.append("side")
    if pd.Timestamp(p.time) != pd.Timestamp(b.time):
        out.append("time")
    out += [name for name in NUMERIC if not _same(getattr(p, name), getattr(b, name))]
    if p.reason != b.reason:
        out.append("reason")
    return out


def reconcile(paper_fills: list[Fill], backtest_fills: list[Fill], *, paper_hash: str | None = None,
              backtest_hash: str | None = None) -> dict:
    """Rows ``{trade_no, leg, status, fields, reason, paper, backtest}`` and the match rate (percent)."""
    paper = {f.key: f for f in paper_fills}
    bt = {f.key: f for f in backtest_fills}
    bars_changed = paper_hash is not None and backtest_hash is not None and paper_hash != backtest_hash
    changed = "the stored bars changed after the paper step (data hash differs)"
    defect = "same bars and code path: a defect in the paper path"
    rows = []
    for key in sorted(set(paper) | set(bt)):
        p, b = paper.get(key), bt.get(key)
        if p is not None and b is not None:
            fields = _differences(p, b)
            status = "match" if not fields else "differs"
            reason = "" if not fields else (changed if bars_changed else defect)
            if "time" in fields and not bars_changed:
                reason = "timing: " + reason
        elif b is not None:
            status, fields = "missing", []
            reason = changed if bars_changed else ("the paper job did not store this fill: the strategy was "
                                                   "stopped or halted on that bar, or its job failed there")
        else:
            status, fields = "extra", []
            reason = changed if bars_changed else "the backtest does not trade there: " + defect
        rows.append({"trade_no": key[0], "leg": key[1], "status": status, "fields": fields, "reason": reason,
                     "paper": p.to_dict() if p else None, "backtest": b.to_dict() if b else None})
    matched = sum(r["status"] == "match" for r in rows)
    return {"rows": rows, "matched": matched, "total": len(rows),
            "match_rate": 100.0 if not rows else 100.0 * matched / len(rows),
            "paper_hash": paper_hash, "backtest_hash": backtest_hash}
