"""First start: real candles from the exchange when reachable, labelled demo data when not."""
import pandas as pd
import pytest

from app.extensions import db

from tests.fakes.candles import make_candles
from tests.fakes.exchange import FakeExchange

pytestmark = pytest.mark.integration


def test_auto_backfills_real_candles_when_exchange_answers(app, settings):
    from app.extensions import db
    from app.market import query
    from app.market.seed import seed_market

    end = pd.Timestamp.now(tz="UTC").floor("min")
    start = end - pd.Timedelta(days=2)
    n = int((end - start) / pd.Timedelta(minutes=1))
    data = {"BTCUSDT": make_candles(n, start=start.isoformat(), seed=1, price=60000.0),
            "ETHUSDT": make_candles(n, start=start.isoformat(), seed=2, price=3000.0)}
    with FakeExchange(data) as ex, app.app_context():
        s = settings.with_(market_source="auto", binance_base_url=ex.base_url, timeframes=("1m", "1h"))
        report = seed_market(db.session, s)
        assert report.source == "binance" and report.fallback_reason is None
        assert report.rows["BTC/USDT 1h"] >= 47 and report.rows["ETH/USDT 1m"] >= 2000
        cat = query.catalog(db.session)
    assert cat.exchange == {"BTC/USDT": "binance", "ETH/USDT": "binance"}
    assert not cat.is_demo("BTC/USDT")


def test_auto_falls_back_to_demo_data_and_says_why(app, settings):
    from app.extensions import db
    from app.market import query
    from app.market.seed import seed_market

    with app.app_context():
        s = settings.with_(market_source="auto", binance_base_url="http://127.0.0.1:1")
        report = seed_market(db.session, s)
        assert report.source == "demo"
        assert "ExchangeUnavailableError" in report.fallback_reason
        cat = query.catalog(db.session)
    assert cat.is_demo("BTC/USDT") and cat.is_demo("ETH/USDT")


def test_explicit_exchange_does_not_fall_back(app, settings):
    from app.extensions import db
    from app.market.seed import seed_market
    from app.market.sources.errors import ExchangeError

    with app.app_context(), pytest.raises(ExchangeError):
        seed_market(db.session, settings.with_(market_source="binance", binance_base_url="http://127.0.0.1:1"))
