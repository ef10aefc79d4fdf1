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


PAPER_CASH = 10_000.0   # the virtual cash a user's manual paper account starts with (quote currency)


@dataclass(frozen=True)
class Account:
    cash: float
    positions: dict[str, float]     # symbol -> quantity held (filled orders)

    def value(self, prices: dict[str, float]) -> float:
        return self.cash + sum(q * prices.get(s, 0.0) for s, q in self.positions.items())


def account(filled, start_cash: float = PAPER_CASH) -> Account:
    """Cash and positions from filled orders (``side``, ``symbol``, ``qty``, ``fill_price``, ``fee``)."""
    cash, held = start_cash, {}
    for o in filled:
        sign = 1.0 if o.side == "buy" else -1.0
        cash -= sign * o.qty * o.fill_price + o.fee
        held[o.symbol] = held.get(o.symbol, 0.0) + sign * o.qty
    return Account(cash, {s: q for s, q in held.items() if abs(q) > 1e-12})


def check_placement(order: Order, symbol: str, acct: Account, open_orders, price_now: float | None) -> None:
    """Refuse (``ValueError`` naming ``qty``) a sell of more than is held once the open sells are counted
    (no shorting on the manual account), or a buy costing more than the cash not already committed."""
    if order.side == "sell":
        pending = sum(o.qty for o in open_orders if o.symbol == symbol and o.side == "sell")
        held = acct.positions.get(symbol, 0.0) - pending
        if order.qty > held + 1e-12:
            raise ValueError(f"qty: sells {order.qty:g} {symbol} but the paper account holds {max(held, 0):g} "
                             "not already offered")
        return
    px = order.price if order.type != "market" else price_now
    if px is None:
        raise ValueError(f"price: no current price for {symbol} to check the cash against")
    committed = sum(o.qty * (o.price or price_now or 0.0) for o in open_orders if o.side == "buy")
    if order.qty * px > acct.cash - committed + 1e-9:
        raise ValueError(f"qty: costs about {order.qty * px:,.2f} but the paper account has "
                         f"{acct.cash - committed:,.2f} cash not already committed")
