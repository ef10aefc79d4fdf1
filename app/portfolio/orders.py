"""Manual paper orders (market, limit, stop; good-till-cancelled or immediate-or-cancel) filled
against closed bars under the backtest engine's rules and costs (``app.backtest.config.Costs``):

* an order is eligible from the first bar that opens at or after it was placed (never a bar that
  was already running: no look-ahead);
* market: the bar's open, moved against the order by ``slippage_bps``; taker fee;
* limit (a resting order): the open when the bar opens through the limit (better than the limit),
  else the limit when the bar's range reaches it; maker fee, no slippage; not filled otherwise;
* stop (becomes a market order when touched): the open when the bar gaps through the stop (worse
  than the stop, as the engine fills a gapped stop), else the stop price when the range reaches
  it; slippage against the order; taker fee;
* ``ioc`` orders get one eligible bar and are cancelled if it does not fill them; ``gtc`` orders
  stay open until filled or cancelled.

The engine's compiled kernel executes target positions and exits, not resting entry orders, so this
small rule set is written out here, with the engine's fee and slippage parameters.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from app.backtest.config import Costs

TYPES = ("market", "limit", "stop")
SIDES = ("buy", "sell")
TIFS = ("gtc", "ioc")


@dataclass(frozen=True)
class Order:
    side: str
    type: str
    qty: float
    placed_at: pd.Timestamp
    price: float | None = None    # the limit or stop level
    tif: str = "gtc"

    def __post_init__(self):
        if self.side not in SIDES:
            raise ValueError(f"side: must be one of {SIDES}, got {self.side!r}")
        if self.type not in TYPES:
            raise ValueError(f"type: must be one of {TYPES}, got {self.type!r}")
        if self.tif not in TIFS:
            raise ValueError(f"tif: must be one of {TIFS}, got {self.tif!r}")
        if not isinstance(self.qty, (int, float)) or not math.isfinite(self.qty) or self.qty <= 0:
            raise ValueError(f"qty: must be a positive number, got {self.qty!r}")
        if self.type == "market":
            if self.price is not None:
                raise ValueError("price: a market order has no price")
        elif self.price is None or not math.isfinite(self.price) or self.price <= 0:
            raise ValueError(f"price: a {self.type} order needs a positive price, got {self.price!r}")
        if pd.Timestamp(self.placed_at).tzinfo is None:
            raise ValueError("placed_at: must be timezone-aware UTC")


@dataclass(frozen=True)
class OrderFill:
    time: pd.Timestamp
    price: float
    fee: float
    slippage: float   # quote currency lost to slippage


def _fill_on_bar(o: Order, bar, costs: Costs) -> tuple[float, bool] | None:
    """(price before slippage, market order?) when the bar fills the order, else None."""
    op, hi, lo = float(bar.open), float(bar.high), float(bar.low)
    buy = o.side == "buy"
    if o.type == "market":
        return op, True
    if o.type == "limit":
        if (buy and op <= o.price) or (not buy and op >= o.price):
            return op, False                      # opened through the limit: the better open
        if (buy and lo <= o.price) or (not buy and hi >= o.price):
            return o.price, False
        return None
    if (buy and op >= o.price) or (not buy and op <= o.price):
        return op, True                           # gapped through the stop: the worse open
    if (buy and hi >= o.price) or (not buy and lo <= o.price):
        return o.price, True
    return None


def fill(order: Order, bars: pd.DataFrame, costs: Costs | None = None) -> tuple[str, OrderFill | None]:
    """``("filled", fill)``, ``("cancelled", None)`` (ioc not filled) or ``("open", None)``."""
    costs = costs or Costs()
    eligible = bars.loc[bars.index >= pd.Timestamp(order.placed_at)]
    for time, bar in eligible.iterrows():
        hit = _fill_on_bar(order, bar, costs)
        if hit is not None:
            base, market = hit
            s = costs.slippage_bps / 1e4 if market else 0.0
            px = base * (1 + s) if order.side == "buy" else base * (1 - s)
            rate = costs.taker_fee if market else costs.maker_fee
            return "filled", OrderFill(time, px, order.qty * px * rate, order.qty * base * s)
        if order.tif == "ioc":
            return "cancelled", None
    return "open", None
