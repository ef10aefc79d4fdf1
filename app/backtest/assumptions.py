"""The rules a backtest result was produced under, stamped on every result.

``stamp`` returns a plain JSON-ready dict: fills, costs, the close-at-end rule
and how many trades it touched, the ruin rule, the strategy's entry semantics
and the annualisation used by the metrics. The tear sheet prints it; stored
results keep it, so a result read back later says what it assumed when it ran.
"""
from __future__ import annotations

FILLS = ("signals are decided at a bar's close and filled at the next bar's open; market orders pay the taker "
         "fee and slippage; take-profits fill as limit orders (maker fee, no slippage); when a stop and a "
         "take-profit fall in the same bar the stop is assumed first; a bar that opens beyond a level fills at "
         "the open")
CLOSE_AT_END = ("positions still open after the last bar are closed at the last bar's close (market order: taker "
                "fee and slippage, exit reason end_of_data); those trades count as closed trades in n_trades")
LEAVE_OPEN = ("positions still open after the last bar stay open: marked to market at the last bar's close, "
              "listed with exit reason open, their fees reported separately (open_trade_fees) and not counted "
              "in n_trades")
RUIN_RULE = ("when equity falls to the maintenance margin times the notional of open shorts (to zero for longs, "
             "and for shorts with a margin of 0) every position is liquidated at that price (the open when a bar "
             "opens beyond it), taker fee and slippage applied, exit reason liquidation; the run then stops, flat, "
             "and equity stays at what is left, never below zero (a loss beyond the account's equity is reported "
             "as the shortfall, not carried)")
ENTRY = {
    "cross": "enter when the entry condition becomes true (a crossing: false on the previous bar, true on this "
             "one); no position before the first crossing",
    "state": "in the market whenever the entry condition holds, from the first bar where it can be computed",
}


def annualisation(periods_per_year: float | None, bar_seconds: float) -> dict:
    """How returns are annualised for a result with bars of ``bar_seconds``."""
    if periods_per_year is None:
        return {"periods_per_year": 365 * 86400 / bar_seconds, "calendar": "365 days of 24 hours (crypto)",
                "source": "bar length"}
    return {"periods_per_year": float(periods_per_year), "calendar": "trading periods given in the config",
            "source": "config.periods_per_year"}


def stamp(config: dict, strategy: dict | None, bar_seconds: float, *, closed_at_end: int, left_open: int,
          ruin: dict | None) -> dict:
    """The assumptions of one result (see the module docstring)."""
    params = (strategy or {}).get("params") or {}
    entry = params.get("entry")
    out = {
        "fills": FILLS,
        "close_at_end": {"enabled": bool(config.get("close_at_end", True)),
                         "rule": CLOSE_AT_END if config.get("close_at_end", True) else LEAVE_OPEN,
                         "trades_closed_at_end": int(closed_at_end), "trades_left_open": int(left_open)},
        "ruin": {"rule": RUIN_RULE, "maintenance_margin": float(config.get("maintenance_margin", 0.0)),
                 "happened": ruin is not None, **({} if ruin is None else ruin)},
        "annualisation": annualisation(config.get("periods_per_year"), bar_seconds),
    }
    if entry is not None:
        out["entry"] = {"mode": entry, "rule": ENTRY.get(entry, entry)}
    return out
