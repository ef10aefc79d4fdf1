"""app.market.query: resolving a page's (symbol, timeframe) request against the catalogue (pure parts)."""
import pytest

from app.market.query import UnknownSeries, build_catalog, resolve

CAT = build_catalog([("demo", "BTC/USDT", "1m"), ("demo", "BTC/USDT", "1h"), ("demo", "ETH/USDT", "4h")])


def test_defaults_and_valid_requests():
    assert resolve(CAT, None, None) == ("BTC/USDT", "1h")  # first symbol, 1h when stored
    assert resolve(CAT, "eth/usdt", None) == ("ETH/USDT", "4h")  # normalised; its first timeframe
    assert resolve(CAT, "BTC/USDT", "1m") == ("BTC/USDT", "1m")


@pytest.mark.parametrize("symbol, tf, message", [
    ("DOGE/USDT", None, "Unknown symbol 'DOGE/USDT'. Available: BTC/USDT, ETH/USDT."),
    ("not a symbol", None, "invalid symbol"),
    ("BTC/USDT", "4h", "No '4h' candles for BTC/USDT. Available timeframes: 1m, 1h."),
])
def test_bad_requests_name_what_exists(symbol, tf, message):
    with pytest.raises(UnknownSeries, match=message.replace(".", r"\.").replace("(", r"\(")):
        resolve(CAT, symbol, tf)


def test_empty_catalogue_says_how_to_get_data():
    with pytest.raises(UnknownSeries, match="No market data is stored yet"):
        resolve(build_catalog([]), None, None)
