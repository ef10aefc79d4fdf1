"""Fixtures for the market-data unit tests: an instant clock, the fake exchange, sources pointed at it."""
from __future__ import annotations

import pytest

from app.market.sources.factory import make_source
from app.market.sources.http import RetryPolicy
from app.settings import Settings
from tests.fakes.candles import N_BARS, SERIES, FakeClock, make_candles
from tests.fakes.exchange import FakeExchange


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# -- exchange fixtures ---------------------------------------------------------

@pytest.fixture
def fake():
    with FakeExchange({"BTC/USDT": SERIES, "ETH/USDT": make_candles(N_BARS, seed=2, price=2000.0),
                       "BTC/USD": SERIES, "DOGE/USD": make_candles(N_BARS, seed=3, price=0.1)}) as f:
        yield f


@pytest.fixture
def source_factory(fake, clock):
    """``make(name, **overrides)`` -> a source pointed at the fake, with instant sleep/clock,
    deterministic jitter (rng = 1.0: the full backoff) and the fake's notion of now."""
    settings = Settings(binance_base_url=fake.base_url, coinbase_base_url=fake.base_url,
                        kraken_base_url=fake.base_url, http_timeout_s=5.0)
    made = []

    def make(name, **kw):
        kw.setdefault("sleep", clock.sleep)
        kw.setdefault("monotonic", clock)
        kw.setdefault("wall_clock", lambda: 1_700_000_000.0)
        kw.setdefault("clock", lambda: fake.now.to_pydatetime())
        kw.setdefault("rng", lambda: 1.0)
        kw.setdefault("retry", RetryPolicy(max_retries=3, backoff_base_s=0.5))
        kw.setdefault("min_interval_s", 0.0)
        src = make_source(name, settings, **kw)
        made.append(src)
        return src

    yield make
    for s in made:
        s.close()
