"""Human labels and units for reports: percentages, basis points, durations, dates, money, month names.

Pure functions of plain values. Missing or undefined values print as an em
dash; infinities as ``∞``. Times are shown in UTC without an offset (the
report says "UTC" once, in its header).
"""
from __future__ import annotations

import calendar
import math

import pandas as pd

from app.backtest.metrics import METRIC_UNITS

DASH = "—"
MONTHS = [calendar.month_abbr[m] for m in range(1, 13)]  # "Jan".."Dec"

# how each metric is shown, from its unit (``app.backtest.metrics.METRIC_UNITS``; money otherwise)
_KIND_OF_UNIT = {"fraction": "pct", "percent": "pct_points", "days": "days", "count": "count", "ratio": "ratio"}
METRIC_KINDS = {k: _KIND_OF_UNIT[u] for k, u in METRIC_UNITS.items()}

# report labels where the metric's own label names a unit the report already prints
LABELS = {"best_trade_pct": "Best trade (return)", "worst_trade_pct": "Worst trade (return)",
          "best_trade": "Best trade (pnl)", "worst_trade": "Worst trade (pnl)",
          "max_drawdown_duration_days": "Max drawdown duration", "longest_underwater_days": "Longest underwater period",
          "avg_holding_days": "Average holding time"}

# config key -> (label, kind); keys not listed are shown under their own name
CONFIG_FIELDS = {
    "initial_cash": ("Initial cash", "money"),
    "costs.taker_fee": ("Taker fee (market orders)", "fraction_bps"),
    "costs.maker_fee": ("Maker fee (limit orders)", "fraction_bps"),
    "costs.slippage_bps": ("Slippage", "bps"),
    "costs.slippage_model": ("Slippage model", "text"),
    "costs.range_factor": ("Slippage share of the bar's range (range model)", "pct"),
    "costs.max_slippage_bps": ("Slippage cap", "bps"),
    "costs.funding_rate": ("Funding rate per interval", "pct"),
    "costs.funding_interval_hours": ("Funding interval", "hours"),
    "sizing": ("Position sizing", "text"),
    "fraction": ("Fraction of equity per position", "pct"),
    "cash_per_trade": ("Cash per trade (fixed cash sizing)", "money"),
    "target_vol": ("Target volatility, annualised (volatility sizing)", "pct"),
    "vol_lookback": ("Volatility lookback", "bars"),
    "qty_step": ("Quantity step", "number"),
    "allow_short": ("Shorts allowed", "bool"),
    "stop_loss": ("Stop-loss", "pct"),
    "take_profit": ("Take-profit", "pct"),
    "trailing_stop": ("Trailing stop", "pct"),
    "close_at_end": ("Close open positions at the last bar", "bool"),
    "timeframe": ("Bar length", "text"),
    "maintenance_margin": ("Maintenance margin (shorts)", "pct"),
    "periods_per_year": ("Periods per year (annualisation)", "number"),
    "sharpe": ("Sharpe convention", "text"),
    "data.symbols": ("Symbols", "text"),
    "data.timeframe": ("Data bar length", "text"),
    "data.start": ("First bar opens (UTC)", "time"),
    "data.end": ("Last bar opens (UTC)", "time"),
    "data.n_bars": ("Bars", "count"),
    "data.data_hash": ("Data hash", "text"),
    "strategy": ("Strategy and parameters", "text"),
}


def _missing(value) -> str | None:
    if value is None:
        return DASH
    if isinstance(value, float) and not math.isfinite(value):
        return DASH if math.isnan(value) else ("∞" if value > 0 else "-∞")
    return None


def pct(value, digits: int = 2, signed: bool = False) -> str:
    """A fraction as a percentage: ``0.1234`` -> ``12.34%`` (``+12.34%`` when ``signed``)."""
    if (m := _missing(value)) is not None:
        return m
    return f"{value * 100:+.{digits}f}%" if signed else f"{value * 100:.{digits}f}%"


def bps(value, digits: int = 1) -> str:
    """Basis points as given: ``2`` -> ``2.0 bps``."""
    if (m := _missing(value)) is not None:
        return m
    return f"{value:.{digits}f} bps"


def fraction_bps(value, digits: int = 1) -> str:
    """A fraction in basis points: ``0.0004`` -> ``4.0 bps``."""
    if (m := _missing(value)) is not None:
        return m
    return bps(value * 10_000, digits)


def money(value, digits: int = 2) -> str:
    """Thousands separators: ``-1234.5`` -> ``-1,234.50``."""
    if (m := _missing(value)) is not None:
        return m
    return f"{value:,.{digits}f}"


def ratio(value, digits: int = 2) -> str:
    if (m := _missing(value)) is not None:
        return m
    return f"{value:.{digits}f}"


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def duration(days) -> str:
    """A span in days as days and hours, rounded to the hour: ``80.8333`` -> ``80 days 20 hours``.

    Under a day it is hours (and minutes under an hour): ``0.25`` -> ``6 hours``."""
    if (m := _missing(days)) is not None:
        return m
    if days < 0:
        raise ValueError(f"a duration cannot be negative, got {days!r}")
    minutes = int(round(days * 1440))
    if minutes < 60:
        return _plural(minutes, "minute")
    hours_total = int(round(days * 24))
    d, h = divmod(hours_total, 24)
    if d == 0:
        return _plural(h, "hour")
    return _plural(d, "day") if h == 0 else f"{_plural(d, 'day')} {_plural(h, 'hour')}"


def timestamp(value, intraday: bool = True) -> str:
    """A time in UTC without its offset: ``2024-01-25 23:00`` (``2024-01-25`` when not ``intraday``)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return DASH
    t = pd.Timestamp(value)
    if pd.isna(t):
        return DASH
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%d %H:%M") if intraday else t.strftime("%Y-%m-%d")


def metric_label(key: str, labels: dict) -> str:
    """The report's label of a metric: ``LABELS`` first, else the metric's own label from ``labels``."""
    return LABELS.get(key, labels.get(key, key))


def metric(key: str, value) -> str:
    """One metric for a report, in its unit (``METRIC_KINDS``; money otherwise)."""
    kind = METRIC_KINDS.get(key, "money")
    if kind == "pct":
        return pct(value)
    if kind == "pct_points":  # already in percent (trade return_pct)
        return pct(None if value is None else value / 100.0)
    if kind == "days":
        return duration(value)
    if kind == "count":
        return DASH if _missing(value) is not None else f"{int(value):,}"
    if kind == "ratio":
        return ratio(value)
    return money(value)


def config_value(kind: str, value) -> str:
    if value is None:
        return {"pct": "off", "number": "from the bar length"}.get(kind, DASH)
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "time":
        return timestamp(value)
    if kind in ("text",) or isinstance(value, (str, bool)):
        return str(value)
    return {"money": money, "pct": pct, "bps": bps, "fraction_bps": fraction_bps,
            "hours": lambda v: duration(v / 24.0), "bars": lambda v: f"{int(v):,} bars",
            "number": lambda v: f"{v:g}", "count": lambda v: f"{int(v):,}"}[kind](value)


def config_row(key: str, value) -> tuple[str, str]:
    """(label, shown value) of one flattened configuration entry."""
    label, kind = CONFIG_FIELDS.get(key, (key, "text"))
    return label, config_value(kind, value)
