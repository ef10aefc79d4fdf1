"""callbacks.market: the pure parts that shape the Market page's outputs."""
from datetime import datetime, timezone

from app.market.query import build_catalog
from app.marketdata import Ticker


def _text(component) -> str:
    return str(component)


def test_demo_series_get_the_offline_badge_and_real_ones_name_their_exchange():
    from callbacks.market import _badge

    cat = build_catalog([("demo", "ETH/USDT", "1h"), ("binance", "BTC/USDT", "1h")])
    demo = _badge(cat, "ETH/USDT")
    assert demo.id == "market-demo-badge" and "offline demo data" in _text(demo) and demo.color == "warning"
    live = _badge(cat, "BTC/USDT")
    assert "live · binance" in _text(live) and live.color == "success"


def test_ticker_chip_formats_price_change_and_volume_and_colours_the_change():
    from callbacks.market import _ticker_chip

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    up = _ticker_chip(Ticker("BTC/USDT", 65123.456, 1.234, 1234567.8, now), "live")
    text = _text(up)
    assert "65,123.46" in text and "+1.23%" in text and "vol 1,234,568" in text and "text-success" in text
    assert up.id == {"type": "market-ticker-chip", "index": "BTC/USDT"} and " demo" not in text
    down = _ticker_chip(Ticker("ETH/USDT", 3000.0, -0.5, 10.0, now), "demo")
    assert "-0.50%" in _text(down) and "text-danger" in _text(down) and " demo" in _text(down)


def test_finding_5_imported_series_are_labelled_as_imports_not_live():
    from callbacks.market import _badge, _ticker_chip

    cat = build_catalog([("csv", "SOL/USDT", "1h"), ("binance", "BTC/USDT", "1h")])
    imported = _badge(cat, "SOL/USDT")
    assert imported.id == "market-import-badge" and "import · csv" in _text(imported)
    assert "live" not in _text(imported).split("title=")[0]
    assert "live · binance" in _text(_badge(cat, "BTC/USDT"))
    chip = _ticker_chip(Ticker("SOL/USDT", 150.0, 0.1, 5.0, datetime(2026, 1, 1, tzinfo=timezone.utc)),
                        cat.origin("SOL/USDT"))
    assert " import" in _text(chip)
