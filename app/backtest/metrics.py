"""Performance metrics of a ``BacktestResult``.

Conventions: returns are per bar from the equity curve (the first bar's
return is measured against the initial cash); annualisation uses the bar
length and 365 days a year (crypto trades every day); the risk-free rate is
0. Ratios and returns are plain fractions (0.12 = 12 %), drawdowns are
negative fractions, durations are in days, money is in quote currency.
A ratio with an empty denominator is ``inf`` (or NaN when undefined).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from app.backtest.engine import BacktestResult

YEAR_SECONDS = 365 * 86400
DAY_SECONDS = 86400.0

METRIC_LABELS = {
    "total_return": "Total return", "annual_return": "Annualised return (CAGR)",
    "volatility": "Annualised volatility", "sharpe": "Sharpe ratio", "sortino": "Sortino ratio",
    "calmar": "Calmar ratio", "omega": "Omega ratio", "max_drawdown": "Max drawdown",
    "max_drawdown_duration_days": "Max drawdown duration (days)",
    "longest_underwater_days": "Longest underwater period (days)",
    "n_trades": "Number of trades", "win_rate": "Win rate", "profit_factor": "Profit factor",
    "expectancy": "Expectancy per trade", "avg_win": "Average win", "avg_loss": "Average loss",
    "best_trade": "Best trade", "worst_trade": "Worst trade", "best_trade_pct": "Best trade (%)",
    "worst_trade_pct": "Worst trade (%)", "avg_holding_days": "Average holding time (days)",
    "exposure": "Exposure (time in market)", "fees_paid": "Fees paid", "slippage_paid": "Slippage paid",
    "funding_paid": "Funding paid", "final_equity": "Final equity",
}


def periods_per_year(bar_seconds: float) -> float:
    if not bar_seconds > 0:
        raise ValueError(f"bar length must be positive, got {bar_seconds!r}")
    return YEAR_SECONDS / bar_seconds


def bar_returns(equity: pd.Series, initial_cash: float) -> pd.Series:
    prev = equity.shift(1)
    prev.iloc[0] = initial_cash
    return equity / prev - 1.0


def _ratio(num: float, den: float) -> float:
    if den == 0 or not math.isfinite(den):
        return math.nan if num == 0 or not math.isfinite(num) else math.copysign(math.inf, num)
    return num / den


def drawdown(equity: pd.Series) -> pd.Series:
    """Fractional distance below the running peak (0 at a new high, negative below)."""
    return equity / equity.cummax() - 1.0


def _underwater_periods(equity: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp, float]]:
    """(peak time, recovery time or last bar, depth) for every drawdown."""
    dd = drawdown(equity).to_numpy()
    uw = dd < 0
    if not uw.any():
        return []
    prev = np.r_[False, uw[:-1]]
    nxt = np.r_[uw[1:], False]
    starts = np.flatnonzero(uw & ~prev)
    ends = np.flatnonzero(uw & ~nxt)          # last underwater bar of each run
    depth = np.minimum.reduceat(dd, starts)   # bars after a run are 0, so they never win
    times = equity.index
    n = len(dd)
    peaks = times[np.maximum(starts - 1, 0)]
    recov = times[np.minimum(ends + 1, n - 1)]
    return list(zip(peaks, recov, depth.tolist()))


def equity_metrics(equity: pd.Series, initial_cash: float, bar_seconds: float) -> dict:
    ppy = periods_per_year(bar_seconds)
    r = bar_returns(equity, initial_cash).to_numpy()
    final = float(equity.iloc[-1])
    total = final / initial_cash - 1.0
    years = len(equity) * bar_seconds / YEAR_SECONDS
    annual = (final / initial_cash) ** (1.0 / years) - 1.0 if final > 0 else -1.0
    std = float(np.std(r, ddof=1)) if len(r) > 1 else math.nan
    mean = float(np.mean(r))
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    mdd = float(drawdown(equity).min())
    periods = _underwater_periods(equity)
    worst = min(periods, key=lambda p: p[2]) if periods else None
    return {
        "total_return": total,
        "annual_return": annual,
        "volatility": std * math.sqrt(ppy),
        "sharpe": _ratio(mean, std) * math.sqrt(ppy),
        "sortino": _ratio(mean, downside) * math.sqrt(ppy),
        "calmar": _ratio(annual, abs(mdd)),
        "omega": _ratio(float(np.maximum(r, 0).sum()), float(np.maximum(-r, 0).sum())),
        "max_drawdown": mdd,
        "max_drawdown_duration_days": (worst[1] - worst[0]).total_seconds() / DAY_SECONDS if worst else 0.0,
        "longest_underwater_days": max(((e - s).total_seconds() for s, e, _ in periods), default=0.0) / DAY_SECONDS,
        "final_equity": final,
    }


def trade_metrics(trades: pd.DataFrame) -> dict:
    closed = trades[trades["exit_reason"] != "open"]
    pnl = closed["pnl"].to_numpy(dtype=np.float64)
    wins, losses = pnl[pnl > 0], pnl[pnl <= 0]
    n = len(pnl)
    hold = (closed["exit_time"] - closed["entry_time"]).dt.total_seconds().to_numpy() if n else np.empty(0)
    return {
        "n_trades": n,
        "win_rate": len(wins) / n if n else math.nan,
        "profit_factor": _ratio(float(wins.sum()), float(-losses.sum())) if n else math.nan,
        "expectancy": float(pnl.mean()) if n else math.nan,
        "avg_win": float(wins.mean()) if len(wins) else math.nan,
        "avg_loss": float(losses.mean()) if len(losses) else math.nan,
        "best_trade": float(pnl.max()) if n else math.nan,
        "worst_trade": float(pnl.min()) if n else math.nan,
        "best_trade_pct": float(closed["return_pct"].max()) if n else math.nan,
        "worst_trade_pct": float(closed["return_pct"].min()) if n else math.nan,
        "avg_holding_days": float(hold.mean()) / DAY_SECONDS if n else math.nan,
        "fees_paid": float(trades["fees"].sum()),
        "slippage_paid": float(trades["slippage"].sum()),
        "funding_paid": float(trades["funding"].sum()),
    }


def compute_metrics(result: BacktestResult) -> dict:
    """All metrics of one result as a flat ``{name: float}`` dict (see ``METRIC_LABELS``)."""
    out = equity_metrics(result.equity, result.initial_cash, result.bar_seconds)
    out.update(trade_metrics(result.trades))
    out["exposure"] = float((result.positions.to_numpy() != 0).any(axis=1).mean())
    return {k: out[k] for k in METRIC_LABELS}


def summary(result: BacktestResult, benchmark: BacktestResult | None = None) -> pd.DataFrame:
    """Metrics table: one row per metric, columns ``strategy`` and ``buy_and_hold``."""
    table = pd.DataFrame({"strategy": compute_metrics(result)})
    if benchmark is not None:
        if (benchmark.start, benchmark.end) != (result.start, result.end):
            raise ValueError("the benchmark must cover the same span as the result")
        table["buy_and_hold"] = pd.Series(compute_metrics(benchmark))
    table.index.name = "metric"
    return table


def monthly_returns(equity: pd.Series, initial_cash: float) -> pd.DataFrame:
    """Compounded return of each calendar month (UTC): rows years, columns ``"1"``..``"12"``
    plus ``"total"`` (the year's compounded return); months outside the data are NaN."""
    month_end = equity.resample("ME").last().dropna()
    prev = month_end.shift(1)
    prev.iloc[0] = initial_cash
    monthly = month_end / prev - 1.0
    table = pd.DataFrame({"year": monthly.index.year, "month": monthly.index.month, "r": monthly.to_numpy()})
    grid = table.pivot(index="year", columns="month", values="r").reindex(columns=range(1, 13))
    grid["total"] = (1.0 + grid[list(range(1, 13))].fillna(0.0)).prod(axis=1) - 1.0
    grid.columns = [str(c) for c in grid.columns]
    grid.index.name = "year"
    return grid
