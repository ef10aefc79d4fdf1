"""Issue 10, finding 5: which exchange's series a page shows for a symbol is an explicit choice, and an
imported file never shadows the watch-list's series unless it was chosen."""
import pytest

from app.market import origins
from app.market.query import SeriesChoice, build_catalog, choice_from
from app.settings import Settings

DEMO_AND_IMPORT = [("csv", "BTC/USDT", "1h"),
                   ("demo", "BTC/USDT", "1m"), ("demo", "BTC/USDT", "1h"), ("demo", "BTC/USDT", "1d")]


def test_finding_5_an_import_does_not_hide_the_demo_series_of_a_watched_symbol():
    cat = build_catalog(DEMO_AND_IMPORT)
    assert cat.exchange["BTC/USDT"] == "demo" and cat.timeframes["BTC/USDT"] == ["1m", "1h", "1d"]
    assert cat.available["BTC/USDT"] == ["demo", "csv"]
    assert cat.origin("BTC/USDT") == "demo"


def test_finding_5_the_order_rows_arrive_in_does_not_decide():
    rows = DEMO_AND_IMPORT + [("binance", "BTC/USDT", "1h"), ("kraken", "BTC/USDT", "1h")]
    for ordered in (rows, rows[::-1], sorted(rows)):
        assert build_catalog(ordered).exchange["BTC/USDT"] == "binance"  # live before demo before imports


def test_finding_5_the_watch_lists_exchange_and_per_symbol_picks_are_explicit():
    rows = DEMO_AND_IMPORT + [("binance", "BTC/USDT", "1h"), ("kraken", "BTC/USDT", "4h"), ("csv", "ETH/USDT", "1h")]
    kraken = build_catalog(rows, SeriesChoice(default="kraken"))
    assert kraken.exchange["BTC/USDT"] == "kraken" and kraken.timeframes["BTC/USDT"] == ["4h"]
    chosen = build_catalog(rows, SeriesChoice(default="kraken", per_symbol={"BTC/USDT": "csv"}))
    assert chosen.exchange["BTC/USDT"] == "csv" and chosen.origin("BTC/USDT") == "import"
    assert chosen.label("BTC/USDT") == "import · csv"
    # a symbol that only an import stores is still shown (labelled an import)
    assert chosen.exchange["ETH/USDT"] == "csv"
    # a pick that does not exist for the symbol falls back to the default order
    assert build_catalog(rows, SeriesChoice(per_symbol={"BTC/USDT": "coinbase"})).exchange["BTC/USDT"] == "binance"


def test_finding_5_the_choice_comes_from_settings():
    s = Settings.from_env({"MARKET_DATA_SOURCE": "kraken", "DISPLAY_SERIES": "eth/usdt=CSV"})
    assert choice_from(s) == SeriesChoice("kraken", {"ETH/USDT": "csv"})
    assert choice_from(Settings()).default is None  # auto: the rank decides
    with pytest.raises(ValueError, match="DISPLAY_SERIES"):
        Settings.from_env({"DISPLAY_SERIES": "ETHUSDT"})


def test_origins_match_the_exchange_clients():
    from app.market.sources.factory import SOURCES

    assert origins.LIVE_EXCHANGES == tuple(SOURCES)
    assert [origins.label(e) for e in ("binance", "demo", "csv")] == ["live · binance", "offline demo data",
                                                                       "import · csv"]
