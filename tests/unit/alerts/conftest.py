import numpy as np
import pandas as pd
import pytest

from app.alerts.bars import Bars, from_candles


def bars_from_close(close, timeframe="1h", start="2026-01-01T00:00:00Z", volume=None, **extra) -> Bars:
    close = np.asarray(close, dtype="float64")
    n = len(close)
    idx = pd.date_range(pd.Timestamp(start), periods=n, freq="1h" if timeframe == "1h" else "1min", name="time")
    vol = np.ones(n) if volume is None else np.asarray(volume, dtype="float64")
    b = Bars("BTC/USDT", timeframe, idx, close, close, close, close, vol)
    for k, v in extra.items():
        setattr(b, k, v)
    return b


@pytest.fixture
def walk():
    from tests.fakes.candles import make_candles

    return from_candles("BTC/USDT", "1m", make_candles(600, seed=3))
