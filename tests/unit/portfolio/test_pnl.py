"""P&L by FIFO and average cost against hand computations."""
from datetime import datetime, timezone

import pytest

from app.portfolio.pnl import allocation, book
from app.portfolio.transactions import Transaction

ASSETS = ("BTC/USDT", "ETH/USDT")


def _t(day, kind, asset, qty, price=1.0, fee=0.0):
    return Transaction(datetime(2026, 1, day, 12, tzinfo=timezone.utc), kind, asset, qty, price, fee)


# deposit 10000; buy 1 @ 100 (fee 1); buy 1 @ 200 (fee 1); sell 1.5 @ 300 (fee 3); fee 5; withdraw 1000
LEDGER = [_t(1, "deposit", "USDT", 10_000), _t(2, "buy", "BTC/USDT", 1, 100, 1), _t(3, "buy", "BTC/USDT", 1, 200, 1),
          _t(4, "sell", "BTC/USDT", 1.5, 300, 3), _t(5, "fee", "USDT", 5), _t(6, "withdraw", "USDT", 1_000)]


def test_fifo_by_hand():
    b = book(LEDGER, {"BTC/USDT": 400.0}, "fifo")
    p = b.positions["BTC/USDT"]
    # cash: 10000 - 101 - 201 + (450 - 3) - 5 - 1000
    assert b.cash == pytest.approx(9_140.0)
    # the sell removes the first lot (101) and half of the second (0.5 * 201): 447 - 201.5
    assert p.realised == pytest.approx(245.5)
    assert p.quantity == pytest.approx(0.5) and p.avg_cost == pytest.approx(201.0)
    assert p.unrealised == pytest.approx(0.5 * 400 - 100.5)
    assert p.fees == pytest.approx(5.0)
    assert b.equity == pytest.approx(9_340.0) and b.net_deposits == pytest.approx(9_000.0)
    assert b.total_pnl == pytest.approx(340.0) == b.equity - b.net_deposits


def test_average_cost_by_hand():
    b = book(LEDGER, {"BTC/USDT": 400.0}, "average")
    p = b.positions["BTC/USDT"]
    # average cost (101 + 201) / 2 = 151; the sell removes 1.5 * 151 = 226.5
    assert p.realised == pytest.approx(447 - 226.5)
    assert p.avg_cost == pytest.approx(151.0) and p.cost == pytest.approx(75.5)
    assert p.unrealised == pytest.approx(200 - 75.5)
    assert b.total_pnl == pytest.approx(340.0)     # the method moves P&L between realised and unrealised


def test_selling_everything_closes_the_position():
    b = book(LEDGER + [_t(7, "sell", "BTC/USDT", 0.5, 500)], {"BTC/USDT": 400.0})
    assert b.open_positions == []
    assert b.positions["BTC/USDT"].realised == pytest.approx(245.5 + 250 - 100.5)
    assert b.unrealised == 0.0


def test_unpriced_position_valued_at_cost_and_flagged():
    b = book(LEDGER, {}, "fifo")
    assert b.positions["BTC/USDT"].unrealised is None
    assert b.invested == pytest.approx(100.5)
    assert b.summary()["unpriced"] == ["BTC/USDT"]


def test_oversell_in_book_is_refused():
    with pytest.raises(ValueError, match="quantity"):
        book(LEDGER + [_t(7, "sell", "BTC/USDT", 2, 500)])


def test_allocation_shares_sum_to_100():
    rows = allocation(book(LEDGER + [_t(7, "buy", "ETH/USDT", 10, 50)], {"BTC/USDT": 400.0, "ETH/USDT": 60.0}))
    by = {r["asset"]: r for r in rows}
    equity = 9_140 - 500 + 200 + 600
    assert by["ETH/USDT"]["pct"] == pytest.approx(100 * 600 / equity)
    assert sum(r["pct"] for r in rows) == pytest.approx(100.0)
    assert rows[0]["asset"] == "cash"


def test_unknown_method_refused():
    with pytest.raises(ValueError, match="method"):
        book(LEDGER, method="lifo")
