"""Daily equity, drawdown and the buy-and-hold benchmark by hand."""
from datetime import datetime, timezone

import pandas as pd
import pytest

from app.portfolio.equity import benchmark, daily_equity
from app.portfolio.transactions import Transaction


def _t(day, kind, asset, qty, price=1.0, fee=0.0):
    return Transaction(datetime(2026, 1, day, 9, tzinfo=timezone.utc), kind, asset, qty, price, fee)


DAYS = pd.date_range("2026-01-01", periods=5, freq="D", tz="UTC")
CLOSES = pd.DataFrame({"BTC/USDT": [100.0, 110.0, 90.0, 120.0, 60.0]}, index=DAYS)


def test_equity_and_drawdown_by_hand():
    ledger = [_t(1, "deposit", "USDT", 1_000), _t(2, "buy", "BTC/USDT", 5, 100, 0), _t(4, "withdraw", "USDT", 100)]
    eq = daily_equity(ledger, CLOSES)
    # day1 1000 cash; day2 500 + 5*110; day3 500 + 450; day4 400 + 600; day5 400 + 300
    assert eq["equity"].tolist() == pytest.approx([1000, 1050, 950, 1000, 700])
    assert eq["drawdown"].tolist() == pytest.approx([0, 0, 950 / 1050 - 1, 1000 / 1050 - 1, 700 / 1050 - 1])
    assert eq["net_deposits"].tolist() == pytest.approx([1000, 1000, 1000, 900, 900])


def test_benchmark_buys_every_net_deposit_at_its_close():
    ledger = [_t(1, "deposit", "USDT", 1_000), _t(3, "deposit", "USDT", 900)]
    bench = benchmark(ledger, CLOSES["BTC/USDT"], DAYS)
    units = 1_000 / 100 + 900 / 90      # 10 + 10
    assert bench.tolist() == pytest.approx([1000, 1100, 1800, units * 120, units * 60])


def test_missing_closes_are_refused():
    ledger = [_t(1, "deposit", "USDT", 1_000), _t(2, "buy", "ETH/USDT", 1, 10)]
    with pytest.raises(ValueError, match="no daily closes for ETH/USDT"):
        daily_equity(ledger, CLOSES)
