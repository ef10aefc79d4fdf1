"""Manual paper orders against bars: limits, stops inside the bar, gaps, time in force, costs."""
import pandas as pd
import pytest

from app.backtest.config import Costs
from app.portfolio.orders import Order, fill
from tests.unit.backtest.backtest_candles import make_candles

COSTS = Costs(maker_fee=0.001, taker_fee=0.002, slippage_bps=10)
BARS = make_candles([100, 102, 98, 110], highs=[101, 104, 99, 112], lows=[99, 100, 95, 109],
                    closes=[101, 99, 97, 111])
T0 = BARS.index[0]


def test_market_fills_at_the_next_open_with_slippage_and_taker_fee():
    status, f = fill(Order("buy", "market", 2.0, T0 + pd.Timedelta(minutes=1)), BARS, COSTS)
    assert status == "filled" and f.time == BARS.index[1]
    assert f.price == pytest.approx(102 * 1.001) and f.fee == pytest.approx(2 * 102 * 1.001 * 0.002)
    assert f.slippage == pytest.approx(2 * 102 * 0.001)


def test_limit_not_filled_when_price_never_reaches_it():
    assert fill(Order("buy", "limit", 1.0, T0, price=90.0), BARS, COSTS) == ("open", None)


def test_limit_fills_at_the_limit_inside_the_bar_with_maker_fee():
    status, f = fill(Order("buy", "limit", 1.0, T0, price=96.0), BARS, COSTS)
    assert status == "filled" and f.time == BARS.index[2] and f.price == 96.0
    assert f.fee == pytest.approx(96 * 0.001) and f.slippage == 0.0


def test_stop_triggered_inside_the_bar():
    status, f = fill(Order("buy", "stop", 1.0, T0, price=103.0), BARS, COSTS)
    assert status == "filled" and f.time == BARS.index[1]
    assert f.price == pytest.approx(103 * 1.001)


def test_gap_through_the_stop_fills_at_the_open():
    status, f = fill(Order("sell", "stop", 1.0, BARS.index[1], price=99.5), BARS, COSTS)
    # bar 1 (low 100) never reaches 99.5; bar 2 opens at 98, below the stop: the worse open
    assert status == "filled" and f.time == BARS.index[2] and f.price == pytest.approx(98 * 0.999)


def test_ioc_is_cancelled_when_its_first_bar_does_not_fill_it():
    assert fill(Order("buy", "limit", 1.0, T0, price=96.0, tif="ioc"), BARS, COSTS) == ("cancelled", None)


def test_a_bar_already_running_when_placed_cannot_fill():
    status, f = fill(Order("buy", "market", 1.0, BARS.index[3] + pd.Timedelta(seconds=1)), BARS, COSTS)
    assert (status, f) == ("open", None)


@pytest.mark.parametrize("kw, field", [({"qty": -1.0}, "qty"), ({"type": "fok"}, "type"),
                                       ({"price": None, "type": "limit"}, "price"), ({"tif": "day"}, "tif")])
def test_bad_orders_name_the_field(kw, field):
    args = {"side": "buy", "type": "limit", "qty": 1.0, "placed_at": T0, "price": 100.0, **kw}
    with pytest.raises(ValueError, match=f"^{field}:"):
        Order(**args)
