"""Manual paper orders stored, checked against the paper account and filled by the paper job's step."""
from datetime import timedelta

import pandas as pd
import pytest

from app.backtest.config import Costs
from tests.unit.backtest.backtest_candles import make_candles

pytestmark = pytest.mark.integration
COSTS = Costs(maker_fee=0.001, taker_fee=0.002, slippage_bps=10)
BARS = make_candles([100, 102, 98, 110], highs=[101, 104, 99, 112], lows=[99, 100, 95, 109],
                    closes=[101, 99, 97, 111], start="2026-01-01")
NOW = BARS.index[-1] + timedelta(hours=1)        # every bar closed


@pytest.fixture
def world(app):
    from app.auth.users import create_user
    from app.extensions import db
    from app.market import store

    with app.app_context():
        sid = store.get_or_create_series(db.session.connection(), "demo", "BTC/USDT", "1h")
        store.upsert_candles(db.session.connection(), sid, BARS)
        owner, other = create_user("o@example.com", "correct-horse-battery").id, create_user(
            "x@example.com", "correct-horse-battery").id
        db.session.commit()
        yield owner, other


def _place(owner, side, type_, qty, price=None, tif="gtc", at=None, price_now=100.0):
    from app.extensions import db
    from app.portfolio import store
    from app.portfolio.orders import Order

    order = Order(side, type_, qty, at if at is not None else BARS.index[0] + timedelta(minutes=1), price, tif)
    row = store.place_order(db.session, owner, "demo", "BTC/USDT", "1h", order, COSTS, price_now)
    db.session.commit()
    return row.id


def test_orders_fill_under_the_engine_costs_and_are_never_filled_twice(world):
    from app.extensions import db
    from app.models import PaperOrder
    from app.portfolio import store, stepper
    from app.portfolio.orders import account

    owner, _ = world
    market = _place(owner, "buy", "market", 2.0)
    never = _place(owner, "buy", "limit", 1.0, price=90.0)
    ioc = _place(owner, "buy", "limit", 1.0, price=96.0, tif="ioc")
    stop = _place(owner, "buy", "stop", 1.0, price=103.0)
    done = stepper.fill_orders(db.session, "demo", "BTC/USDT", now=NOW)
    db.session.commit()
    assert sorted((d["order_id"], d["status"]) for d in done) == [(market, "filled"), (ioc, "cancelled"),
                                                                  (stop, "filled")]
    m = db.session.get(PaperOrder, market)
    assert pd.Timestamp(m.filled_at) == BARS.index[1] and m.fill_price == pytest.approx(102 * 1.001)
    assert m.fee == pytest.approx(2 * 102 * 1.001 * 0.002)
    assert db.session.get(PaperOrder, never).status == "open"
    assert stepper.fill_orders(db.session, "demo", "BTC/USDT", now=NOW) == []    # a replay changes nothing
    acct = account([o for o in store.orders(db.session, owner) if o.status == "filled"])
    assert acct.positions == {"BTC/USDT": pytest.approx(3.0)}
    assert acct.cash == pytest.approx(10_000 - 2 * 102 * 1.001 * 1.002 - 103 * 1.001 * 1.002)


def test_placement_is_checked_against_the_paper_account(world):
    from app.extensions import db
    from app.portfolio import store

    owner, other = world
    with pytest.raises(ValueError, match="^qty: sells 1 BTC/USDT but the paper account holds 0"):
        _place(owner, "sell", "market", 1.0)
    with pytest.raises(ValueError, match="^qty: costs about 20,000.00"):
        _place(owner, "buy", "limit", 200.0, price=100.0)
    db.session.rollback()
    assert store.orders(db.session, owner) == []
    oid = _place(owner, "buy", "limit", 1.0, price=90.0)
    with pytest.raises(LookupError):
        store.cancel_order(db.session, other, oid)
    store.cancel_order(db.session, owner, oid)
    db.session.commit()
    with pytest.raises(ValueError, match="^order: "):
        store.cancel_order(db.session, owner, oid)
