"""Backtest configuration: costs, sizing and exits, validated eagerly.

Every field has a conservative default and every result carries the full
config (``BacktestConfig.to_dict()``), so a run can be repeated exactly.

Units
-----
* fees are fractions of traded notional (``0.001`` = 0.1 %);
* slippage is in basis points of the reference price (``5`` = 0.05 %);
* stop-loss / take-profit / trailing distances are fractions of the entry
  price (``0.02`` = 2 %); ``None`` switches an exit off;
* the funding rate is a fraction of position notional per funding interval,
  paid by longs and received by shorts when positive (perpetual futures).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

SLIPPAGE_MODELS = ("fixed", "range", "volume")
SIZING_MODES = ("fixed_fraction", "fixed_cash", "vol_target")
SHARPE_CONVENTIONS = ("arithmetic", "geometric")


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


def _finite(name: str, value: float, lo: float, hi: float) -> None:
    _check(isinstance(value, (int, float)) and not isinstance(value, bool),
           f"{name} must be a number, got {value!r}")
    _check(math.isfinite(value) and lo <= value <= hi,
           f"{name} must be between {lo} and {hi}, got {value!r}")


@dataclass(frozen=True)
class Costs:
    """Trading costs. On by default: Binance-like spot fees and 2 bps slippage.

    Market orders (signal entries/exits, stop-loss and trailing exits) pay the
    taker fee plus slippage; take-profit exits are resting limit orders and pay
    the maker fee with no slippage.

    Slippage models (``slippage_bps`` is always the floor):

    * ``fixed``: ``slippage_bps``;
    * ``range``: ``slippage_bps + range_factor * (high - low) / open`` of the
      *previous* bar (known when the order is sent), in price fraction;
    * ``volume``: ``slippage_bps * sqrt(median volume / previous bar volume)``,
      capped at ``max_slippage_bps`` — thin bars cost more.
    """

    maker_fee: float = 0.0002
    taker_fee: float = 0.0004
    slippage_bps: float = 2.0
    slippage_model: str = "fixed"
    range_factor: float = 0.1
    max_slippage_bps: float = 100.0
    funding_rate: float = 0.0
    funding_interval_hours: int = 8

    def __post_init__(self) -> None:
        _finite("maker_fee", self.maker_fee, -0.01, 0.1)
        _finite("taker_fee", self.taker_fee, 0.0, 0.1)
        _finite("slippage_bps", self.slippage_bps, 0.0, 1000.0)
        _check(self.slippage_model in SLIPPAGE_MODELS,
               f"slippage_model must be one of {SLIPPAGE_MODELS}, got {self.slippage_model!r}")
        _finite("range_factor", self.range_factor, 0.0, 10.0)
        _finite("max_slippage_bps", self.max_slippage_bps, 0.0, 10000.0)
        _finite("funding_rate", self.funding_rate, -0.1, 0.1)
        _check(isinstance(self.funding_interval_hours, int) and 1 <= self.funding_interval_hours <= 24,
               f"funding_interval_hours must be an integer 1..24, got {self.funding_interval_hours!r}")


@dataclass(frozen=True)
class BacktestConfig:
    """How a backtest trades. See the module docstring for units.

    Sizing (the notional of a new position, computed at the fill):

    * ``fixed_fraction``: ``fraction`` of current equity (fees included, so a
      fraction of 1 spends exactly the equity);
    * ``fixed_cash``: ``cash_per_trade`` of quote currency;
    * ``vol_target``: ``fraction * min(1, target_vol / realised_vol)`` of
      equity, where realised_vol is the annualised standard deviation of the
      last ``vol_lookback`` close-to-close log returns up to the signal bar.
      No entry until ``vol_lookback`` returns exist.

    Long entries never spend more than the available cash (spot-like, shared
    across the symbols of a portfolio). ``qty_step`` floors quantities to an
    exchange lot size (0 = fractional).

    Ruin: when equity falls to ``maintenance_margin`` times the notional of the
    open shorts (to zero with the default 0, or for longs), every position is
    liquidated at that price and the run stops, flat (``engine.RUIN_RULE``).

    Annualisation (metrics and vol-target sizing): ``periods_per_year`` bars a
    year; ``None`` means a market open around the clock, 365 days of 24 hours
    divided by the bar length (crypto). For markets that close give the number
    of bars they trade in a year (252 for daily equity bars). ``sharpe`` is the
    Sharpe ratio's convention (``metrics.CONVENTIONS``): ``arithmetic`` (mean
    over standard deviation of bar returns, annualised by the square root of
    ``periods_per_year``; empyrical/quantstats) or ``geometric`` (CAGR over the
    annualised volatility).
    """

    initial_cash: float = 10_000.0
    costs: Costs = field(default_factory=Costs)
    sizing: str = "fixed_fraction"
    fraction: float = 1.0
    cash_per_trade: float = 1_000.0
    target_vol: float = 0.5
    vol_lookback: int = 20
    qty_step: float = 0.0
    allow_short: bool = True
    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    close_at_end: bool = True
    timeframe: str | None = None
    maintenance_margin: float = 0.0
    periods_per_year: float | None = None
    sharpe: str = "arithmetic"

    def __post_init__(self) -> None:
        if isinstance(self.costs, dict):  # built from JSON
            object.__setattr__(self, "costs", Costs(**self.costs))
        _check(isinstance(self.costs, Costs), f"costs must be a Costs, got {type(self.costs).__name__}")
        _finite("initial_cash", self.initial_cash, 1e-9, 1e15)
        _check(self.sizing in SIZING_MODES, f"sizing must be one of {SIZING_MODES}, got {self.sizing!r}")
        _finite("fraction", self.fraction, 1e-9, 1.0)
        _finite("cash_per_trade", self.cash_per_trade, 1e-9, 1e15)
        _finite("target_vol", self.target_vol, 1e-6, 100.0)
        _check(isinstance(self.vol_lookback, int) and 2 <= self.vol_lookback <= 100_000,
               f"vol_lookback must be an integer >= 2, got {self.vol_lookback!r}")
        _finite("qty_step", self.qty_step, 0.0, 1e9)
        for name in ("stop_loss", "take_profit", "trailing_stop"):
            value = getattr(self, name)
            if value is not None:
                _finite(name, value, 1e-9, 10.0 if name == "take_profit" else 0.999999)
        _check(isinstance(self.close_at_end, bool), f"close_at_end must be true or false, got {self.close_at_end!r}")
        _check(isinstance(self.allow_short, bool), f"allow_short must be true or false, got {self.allow_short!r}")
        if self.timeframe is not None:
            from app.marketdata import timeframe_delta

            timeframe_delta(self.timeframe)
        _finite("maintenance_margin", self.maintenance_margin, 0.0, 0.99)
        if self.periods_per_year is not None:
            _finite("periods_per_year", self.periods_per_year, 1.0, 1e8)
        _check(self.sharpe in SHARPE_CONVENTIONS,
               f"sharpe must be one of {SHARPE_CONVENTIONS}, got {self.sharpe!r}")

    def to_dict(self) -> dict:
        """Plain, JSON-serialisable dict (costs nested)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "BacktestConfig":
        """Inverse of :meth:`to_dict`; unknown keys are a ``ValueError``."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        _check(not unknown, f"unknown backtest config keys: {sorted(unknown)}")
        return cls(**data)
