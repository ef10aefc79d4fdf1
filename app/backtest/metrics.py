"""Performance metrics of a ``BacktestResult``.

Conventions (``conventions(result)`` returns them as a dict, stamped next to
the values so a report can print which formula produced each number):

* returns are simple bar returns of the equity curve, ``r_t = E_t / E_{t-1} - 1``,
  the first against the initial cash. Equity never goes below zero (the engine
  liquidates, see ``assumptions.RUIN_RULE``); a bar that starts from zero
  equity has return 0 — metrics never divide by non-positive equity;
* **CAGR uses elapsed calendar time**: years = (last bar's open - first bar's
  open + one bar) / 365 days, so a series with weekends or gaps is not
  counted short. Spans under ``MIN_ANNUALISE_DAYS`` are too short to
  annualise: CAGR and Calmar are NaN with a note (``MetricsReport.notes``);
* volatility, Sharpe and Sortino are annualised by ``sqrt(periods_per_year)``:
  365 days of 24 hours over the bar length by default (crypto), or the
  config's ``periods_per_year`` for markets that close (252 for daily equity
  bars);
* Sharpe (risk-free rate 0), config ``sharpe``:
  ``arithmetic`` (default; empyrical / quantstats): ``mean(r) / std(r, ddof=1) * sqrt(ppy)``;
  ``geometric``: ``CAGR / (std(r, ddof=1) * sqrt(ppy))``, the compounded growth
  per unit of annualised volatility;
* Sortino: ``mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(ppy)`` (geometric:
  ``CAGR / (downside deviation * sqrt(ppy))``); Calmar: ``CAGR / |max drawdown|``;
  Omega at a threshold of 0: ``sum(max(r, 0)) / sum(max(-r, 0))``.

Ratios and returns are plain fractions (0.12 = 12 %), drawdowns are negative
fractions, durations are in days, money is in quote currency. A ratio with an
empty denominator is ``inf`` (or NaN when undefined); ``MetricsReport.to_json``
writes every non-finite value as ``null``. Trade statistics are over closed
trades; a trade still open at the end is reported apart (``open_trade_*``).

The sums run in one compiled pass (``_equity_stats``, ``_pnl_stats``) shared by
``compute_metrics`` and the grid search, so both give identical numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from app.backtest.assumptions import annualisation
from app.jsonsafe import json_safe
from app.backtest.engine import BacktestResult

YEAR_SECONDS = 365 * 86400
DAY_SECONDS = 86400.0
MIN_ANNUALISE_DAYS = 1.0

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
    "exposure": "Exposure (time in market)", "fees_paid": "Fees paid (closed trades)",
    "slippage_paid": "Slippage paid (closed trades)", "funding_paid": "Funding paid (closed trades)",
    "open_trade_fees": "Fees of trades still open", "open_trade_slippage": "Slippage of trades still open",
    "open_trade_funding": "Funding of trades still open", "final_equity": "Final equity",
}
# the unit of each metric's value: "fraction" (0.12 = 12 %), "percent" (already x100: trade return_pct),
# "days", "count", "ratio"; the rest are "money" (quote currency). Reports format by it.
METRIC_UNITS = {
    "total_return": "fraction", "annual_return": "fraction", "volatility": "fraction", "max_drawdown": "fraction",
    "win_rate": "fraction", "exposure": "fraction", "best_trade_pct": "percent", "worst_trade_pct": "percent",
    "max_drawdown_duration_days": "days", "longest_underwater_days": "days", "avg_holding_days": "days",
    "n_trades": "count", "sharpe": "ratio", "sortino": "ratio", "calmar": "ratio", "omega": "ratio",
    "profit_factor": "ratio",
}
EQUITY_KEYS = ("total_return", "annual_return", "volatility", "sharpe", "sortino", "calmar", "omega",
               "max_drawdown", "final_equity")
# what a grid search ranks by (``walkforward.OPTIMISE_METRICS``) and reports per set
OPTIMISE_KEYS = ("total_return", "annual_return", "sharpe", "sortino", "calmar", "omega", "max_drawdown",
                 "profit_factor", "expectancy", "win_rate", "n_trades", "final_equity")
PNL_KEYS = ("n_trades", "win_rate", "profit_factor", "expectancy", "avg_win", "avg_loss", "best_trade",
            "worst_trade")


def periods_per_year(bar_seconds: float, configured: float | None = None) -> float:
    if not bar_seconds > 0:
        raise ValueError(f"bar length must be positive, got {bar_seconds!r}")
    return annualisation(configured, bar_seconds)["periods_per_year"]


def bar_returns(equity: pd.Series, initial_cash: float) -> pd.Series:
    """Simple returns per bar, the first against ``initial_cash``; 0 where the previous equity is not positive."""
    prev = equity.shift(1)
    prev.iloc[0] = initial_cash
    with np.errstate(divide="ignore", invalid="ignore"):
        r = equity / prev - 1.0
    return r.where(prev > 0, 0.0)


def elapsed_years(index: pd.DatetimeIndex, bar_seconds: float) -> float:
    """Calendar time covered by the bars: first open to last open plus one bar, in 365-day years."""
    span = (index[-1] - index[0]).total_seconds() + bar_seconds
    return span / YEAR_SECONDS


def _ratio(num: float, den: float) -> float:
    if den == 0 or not math.isfinite(den):
        return math.nan if num == 0 or not math.isfinite(num) else math.copysign(math.inf, num)
    return num / den


@njit(cache=True, nogil=True, error_model="numpy")
def _equity_stats(eq, initial):
    """(n, mean, std (ddof 1), downside deviation, sum of gains, sum of losses, max drawdown)
    of the simple bar returns of ``eq`` (the first against ``initial``), in one pass.

    The variance is summed around the first return (a shift close to the mean keeps the
    one-pass sums accurate); the drawdown divides only when a bar may be a new deepest one."""
    n = eq.shape[0]
    total = 0.0
    down = 0.0
    gains = 0.0
    losses = 0.0
    sq = 0.0
    lin = 0.0
    peak = eq[0]
    mdd = 0.0
    floor = peak                # peak * (1 + mdd): a bar below it is a deeper drawdown
    prev = initial
    shift = eq[0] / initial - 1.0 if initial > 0.0 else 0.0
    for i in range(n):
        e = eq[i]
        r = e / prev - 1.0 if prev > 0.0 else 0.0
        total += r
        d = r - shift
        lin += d
        sq += d * d
        neg = min(r, 0.0)
        down += neg * neg
        losses -= neg
        gains += max(r, 0.0)
        if e > peak:
            peak = e
            floor = peak * (1.0 + mdd)
        elif e < floor and peak > 0.0:
            mdd = min(mdd, e / peak - 1.0)
            floor = peak * (1.0 + mdd)
        prev = e
    mean = total / n
    std = np.sqrt(max(sq - lin * lin / n, 0.0) / (n - 1)) if n > 1 else np.nan
    return n, mean, std, np.sqrt(down / n), gains, losses, mdd


@njit(cache=True, nogil=True)
def _pnl_stats(pnl):
    """(n, wins, sum of wins, sum of losses (<= 0), sum, best, worst) of closed trades' pnl."""
    n = pnl.shape[0]
    wins = 0
    s_win = 0.0
    s_loss = 0.0
    best = -np.inf
    worst = np.inf
    for x in pnl:
        if x > 0.0:
            wins += 1
            s_win += x
        else:
            s_loss += x
        best = max(best, x)
        worst = min(worst, x)
    return n, wins, s_win, s_loss, s_win + s_loss, best, worst


def core_metrics(equity: np.ndarray, initial_cash: float, years: float, ppy: float, sharpe: str = "arithmetic",
                 pnl: np.ndarray | None = None) -> tuple[dict, dict]:
    """``EQUITY_KEYS`` (+ ``PNL_KEYS`` when closed trades' ``pnl`` is given) and notes on undefined values."""
    notes: dict[str, str] = {}
    n, mean, std, downside, gains, losses, mdd = _equity_stats(np.ascontiguousarray(equity, dtype=np.float64),
                                                               float(initial_cash))
    final = float(equity[-1])
    total = final / initial_cash - 1.0
    days = years * 365.0
    if final <= 0:
        annual = -1.0
    elif days < MIN_ANNUALISE_DAYS:
        annual = math.nan
        notes["annual_return"] = notes["calmar"] = (
            f"too short to annualise: the span is {days * 24:.3g} hours, under {MIN_ANNUALISE_DAYS:g} day")
    else:
        log_growth = math.log(final / initial_cash) / years
        annual = math.expm1(log_growth) if log_growth < 700 else math.nan
        if log_growth >= 700:
            notes["annual_return"] = notes["calmar"] = "too large to annualise (the compounded rate overflows)"
    root = math.sqrt(ppy)
    if n < 2:
        notes["volatility"] = notes["sharpe"] = notes["sortino"] = "needs at least 2 bar returns"
    if sharpe == "geometric":
        sharpe_v = _ratio(annual, std * root) if math.isfinite(annual) else math.nan
        sortino_v = _ratio(annual, downside * root) if math.isfinite(annual) else math.nan
        if not math.isfinite(annual):
            notes.setdefault("sharpe", notes.get("annual_return", "CAGR undefined"))
            notes.setdefault("sortino", notes.get("annual_return", "CAGR undefined"))
    else:
        sharpe_v = _ratio(mean, std) * root
        sortino_v = _ratio(mean, downside) * root
    values = {
        "total_return": total,
        "annual_return": annual,
        "volatility": std * root,
        "sharpe": sharpe_v,
        "sortino": sortino_v,
        "calmar": _ratio(annual, abs(mdd)) if math.isfinite(annual) else math.nan,
        "omega": _ratio(gains, losses),
        "max_drawdown": mdd,
        "final_equity": final,
    }
    if pnl is not None:
        values.update(pnl_metrics(pnl))
    return values, notes


def pnl_metrics(pnl: np.ndarray) -> dict:
    """``PNL_KEYS`` of closed trades' pnl."""
    k, wins, s_win, s_loss, s_all, best, worst = _pnl_stats(np.ascontiguousarray(pnl, dtype=np.float64))
    return {
        "n_trades": int(k),
        "win_rate": wins / k if k else math.nan,
        "profit_factor": _ratio(s_win, -s_loss) if k else math.nan,
        "expectancy": s_all / k if k else math.nan,
        "avg_win": s_win / wins if wins else math.nan,
        "avg_loss": s_loss / (k - wins) if k - wins else math.nan,
        "best_trade": best if k else math.nan,
        "worst_trade": worst if k else math.nan,
    }


def drawdown(equity: pd.Series) -> pd.Series:
    """Fractional distance below the running peak (0 at a new high, negative below; 0 while the peak is 0)."""
    peak = equity.cummax()
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = equity / peak - 1.0
    return dd.where(peak > 0, 0.0)


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


def _durations(equity: pd.Series) -> dict:
    periods = _underwater_periods(equity)
    worst = min(periods, key=lambda p: p[2]) if periods else None
    return {
        "max_drawdown_duration_days": (worst[1] - worst[0]).total_seconds() / DAY_SECONDS if worst else 0.0,
        "longest_underwater_days": max(((e - s).total_seconds() for s, e, _ in periods), default=0.0) / DAY_SECONDS,
    }


def equity_metrics(equity: pd.Series, initial_cash: float, bar_seconds: float, *,
                   periods_per_year: float | None = None, sharpe: str = "arithmetic") -> dict:
    """The equity-curve metrics (see the module docstring) of one curve on a UTC index."""
    values, _ = _equity_part(equity, initial_cash, bar_seconds, periods_per_year, sharpe)
    return values


def _equity_part(equity, initial_cash, bar_seconds, configured_ppy, sharpe):
    ppy = periods_per_year(bar_seconds, configured_ppy)
    values, notes = core_metrics(equity.to_numpy(), initial_cash, elapsed_years(equity.index, bar_seconds), ppy,
                                 sharpe)
    values.update(_durations(equity))
    return values, notes


def trade_metrics(trades: pd.DataFrame) -> dict:
    is_open = (trades["exit_reason"] == "open").to_numpy()
    closed = trades[~is_open]
    still = trades[is_open]
    pnl = closed["pnl"].to_numpy(dtype=np.float64)
    n = len(pnl)
    out = pnl_metrics(pnl)
    hold = (closed["exit_time"] - closed["entry_time"]).dt.total_seconds().to_numpy() if n else np.empty(0)
    out.update({
        "best_trade_pct": float(closed["return_pct"].max()) if n else math.nan,
        "worst_trade_pct": float(closed["return_pct"].min()) if n else math.nan,
        "avg_holding_days": float(hold.mean()) / DAY_SECONDS if n else math.nan,
        "fees_paid": float(closed["fees"].sum()),
        "slippage_paid": float(closed["slippage"].sum()),
        "funding_paid": float(closed["funding"].sum()),
        "open_trade_fees": float(still["fees"].sum()),
        "open_trade_slippage": float(still["slippage"].sum()),
        "open_trade_funding": float(still["funding"].sum()),
    })
    return out


CONVENTIONS = {
    "returns": "simple bar returns r = E_t / E_(t-1) - 1, the first against the initial cash; 0 after equity "
               "reached zero (the run stops at a liquidation)",
    "risk_free_rate": 0.0,
    "cagr": "(E_end / E_0) ** (1 / years) - 1, years = calendar time from the first bar's open to the last bar's "
            f"close over 365 days; spans under {MIN_ANNUALISE_DAYS:g} day are too short to annualise",
    "volatility": "std(r, ddof=1) * sqrt(periods_per_year)",
    "sharpe": {"arithmetic": "mean(r) / std(r, ddof=1) * sqrt(periods_per_year) (empyrical, quantstats)",
               "geometric": "CAGR / (std(r, ddof=1) * sqrt(periods_per_year))"},
    "sortino": {"arithmetic": "mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(periods_per_year)",
                "geometric": "CAGR / (sqrt(mean(min(r, 0)^2)) * sqrt(periods_per_year))"},
    "calmar": "CAGR / |max drawdown|",
    "omega": "sum(max(r, 0)) / sum(max(-r, 0)) (threshold 0)",
    "max_drawdown": "min(E_t / max(E_0..E_t) - 1) over the bars",
    "trades": "win rate, profit factor, expectancy and averages over closed trades; open trades reported apart",
}


def conventions(result: BacktestResult) -> dict:
    """Which formula produced each annualised figure of ``result``."""
    sharpe = result.config.get("sharpe", "arithmetic")
    ann = annualisation(result.config.get("periods_per_year"), result.bar_seconds)
    out = {k: (v[sharpe] if isinstance(v, dict) else v) for k, v in CONVENTIONS.items()}
    out.update({"sharpe_convention": sharpe, "periods_per_year": ann["periods_per_year"],
                "calendar": ann["calendar"],
                "years": elapsed_years(result.equity.index, result.bar_seconds)})
    return out


@dataclass(frozen=True)
class MetricsReport:
    """Metric values (``METRIC_LABELS`` order), why some are undefined, and the formulas used."""

    values: dict
    notes: dict
    conventions: dict

    def to_json(self) -> dict:
        """JSON-ready: non-finite values are ``None`` (their reason is in ``notes``)."""
        return {"values": {k: json_safe(v) for k, v in self.values.items()}, "notes": dict(self.notes),
                "conventions": {k: json_safe(v) for k, v in self.conventions.items()}}


def metrics_report(result: BacktestResult) -> MetricsReport:
    cfg = result.config
    values, notes = _equity_part(result.equity, result.initial_cash, result.bar_seconds,
                                 cfg.get("periods_per_year"), cfg.get("sharpe", "arithmetic"))
    values.update(trade_metrics(result.trades))
    values["exposure"] = float((result.positions.to_numpy() != 0).any(axis=1).mean())
    values = {k: values[k] for k in METRIC_LABELS}
    return MetricsReport(values, notes, conventions(result))


def compute_metrics(result: BacktestResult) -> dict:
    """All metrics of one result as a flat ``{name: float}`` dict (see ``METRIC_LABELS``)."""
    return metrics_report(result).values


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
    with np.errstate(divide="ignore", invalid="ignore"):
        monthly = (month_end / prev - 1.0).where(prev > 0, 0.0)
    table = pd.DataFrame({"year": monthly.index.year, "month": monthly.index.month, "r": monthly.to_numpy()})
    grid = table.pivot(index="year", columns="month", values="r").reindex(columns=range(1, 13))
    grid["total"] = (1.0 + grid[list(range(1, 13))].fillna(0.0)).prod(axis=1) - 1.0
    grid.columns = [str(c) for c in grid.columns]
    grid.index.name = "year"
    return grid
