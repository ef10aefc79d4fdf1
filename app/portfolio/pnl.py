"""Positions and profit and loss from a ledger of transactions, by FIFO or average cost.

Rules (one place):

* a buy's fee is part of its cost (cost per unit = ``(quantity * price + fee) / quantity``);
* a sell's fee comes off its proceeds (``quantity * price - fee``); realised P&L of a sell is its
  proceeds minus the cost of the units it removes: the oldest lots first (``fifo``) or the running
  average cost per unit (``average``);
* unrealised P&L is ``quantity * price now - remaining cost``; with no price it is ``None`` and the
  position is valued at cost (``priced`` False) so the totals stay defined;
* deposits and withdrawals move cash, not P&L; a standalone ``fee`` is a loss of its own, so
  ``equity - net deposits == realised + unrealised - standalone fees`` (checked by the tests).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from app.portfolio.transactions import EPS, Transaction, ordered

METHODS = ("fifo", "average")


@dataclass
class Position:
    asset: str
    quantity: float = 0.0
    cost: float = 0.0            # of the units still held
    realised: float = 0.0
    fees: float = 0.0            # trade fees paid on this asset
    price: float | None = None
    lots: deque = field(default_factory=deque, repr=False)   # FIFO: [quantity, cost per unit]

    @property
    def avg_cost(self) -> float | None:
        return self.cost / self.quantity if self.quantity > EPS else None

    @property
    def market_value(self) -> float:
        return self.cost if self.price is None else self.quantity * self.price

    @property
    def unrealised(self) -> float | None:
        return None if self.price is None else self.quantity * self.price - self.cost

    def to_dict(self) -> dict:
        u = self.unrealised
        return {"asset": self.asset, "quantity": self.quantity, "avg_cost": self.avg_cost, "cost": self.cost,
                "price": self.price, "market_value": self.market_value, "unrealised": u,
                "unrealised_pct": None if u is None or self.cost <= EPS else 100.0 * u / self.cost,
                "realised": self.realised, "fees": self.fees, "priced": self.price is not None}


@dataclass(frozen=True)
class Book:
    positions: dict[str, Position]
    cash: float
    deposits: float
    withdrawals: float
    other_fees: float
    method: str

    @property
    def open_positions(self) -> list[Position]:
        return [p for p in self.positions.values() if p.quantity > EPS]

    @property
    def realised(self) -> float:
        return sum(p.realised for p in self.positions.values())

    @property
    def unrealised(self) -> float:
        return sum(p.unrealised or 0.0 for p in self.open_positions)

    @property
    def invested(self) -> float:
        return sum(p.market_value for p in self.open_positions)

    @property
    def equity(self) -> float:
        return self.cash + self.invested

    @property
    def net_deposits(self) -> float:
        return self.deposits - self.withdrawals

    @property
    def total_pnl(self) -> float:
        return self.realised + self.unrealised - self.other_fees

    def summary(self) -> dict:
        return {"method": self.method, "cash": self.cash, "invested": self.invested, "equity": self.equity,
                "net_deposits": self.net_deposits, "realised": self.realised, "unrealised": self.unrealised,
                "other_fees": self.other_fees, "total_pnl": self.total_pnl,
                "exposure_pct": 100.0 * self.invested / self.equity if self.equity > EPS else None,
                "unpriced": sorted(p.asset for p in self.open_positions if p.price is None)}


def _sell(p: Position, qty: float, method: str) -> float:
    """Remove ``qty`` units; return their cost."""
    if qty > p.quantity + EPS:
        raise ValueError(f"quantity: sells {qty:g} {p.asset} but only {p.quantity:g} is held")
    if method == "average":
        removed = p.cost * (qty / p.quantity) if p.quantity > EPS else 0.0
    else:
        removed, left = 0.0, qty
        while left > EPS and p.lots:
            lot = p.lots[0]
            take = min(left, lot[0])
            removed += take * lot[1]
            lot[0] -= take
            left -= take
            if lot[0] <= EPS:
                p.lots.popleft()
    p.quantity -= qty
    p.cost -= removed
    if p.quantity <= EPS:             # rounding dust of a closed position
        p.quantity, p.cost = 0.0, 0.0
        p.lots.clear()
    return removed


def book(transactions, prices: dict[str, float] | None = None, method: str = "fifo") -> Book:
    """Replay ``transactions`` in time order; value open positions at ``prices`` (asset -> price)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    prices = prices or {}
    positions: dict[str, Position] = {}
    cash = deposits = withdrawals = other = 0.0
    for t in ordered(transactions):
        t: Transaction
        cash += t.cash_delta
        if t.kind == "deposit":
            deposits += t.quantity
        elif t.kind == "withdraw":
            withdrawals += t.quantity
        elif t.kind == "fee":
            other += t.quantity
        else:
            p = positions.setdefault(t.asset, Position(t.asset))
            p.fees += t.fee
            if t.kind == "buy":
                cost = t.quantity * t.price + t.fee
                p.quantity += t.quantity
                p.cost += cost
                p.lots.append([t.quantity, cost / t.quantity])
            else:
                removed = _sell(p, t.quantity, method)
                p.realised += t.quantity * t.price - t.fee - removed
    for asset, p in positions.items():
        price = prices.get(asset)
        p.price = float(price) if price is not None and price > 0 else None
    return Book(positions, cash, deposits, withdrawals, other, method)


def allocation(b: Book) -> list[dict]:
    """Share of equity per open asset and cash (percent), largest first."""
    total = b.equity
    rows = [{"asset": p.asset, "value": p.market_value} for p in b.open_positions]
    rows.append({"asset": "cash", "value": b.cash})
    for r in rows:
        r["pct"] = 100.0 * r["value"] / total if total > EPS else None
    return sorted(rows, key=lambda r: -r["value"])
