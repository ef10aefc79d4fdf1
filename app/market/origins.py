"""Where a stored series comes from, by its exchange name: ``live`` (an exchange client keeps it current),
``demo`` (the offline generator) or ``import`` (a file loaded with ``flask candles import``).

The exchange names a file may be imported under are :data:`IMPORT_TARGETS`: the live exchanges and
``demo`` (filling bars of that series; stored bars are kept unless ``--replace``) and
:data:`IMPORT_EXCHANGE` (``csv``), a series of its own that pages label as an import and show only
when nothing else exists for the symbol or it was chosen (:class:`app.market.query.SeriesChoice`).
"""
from __future__ import annotations

from app.market.sources.demo import DEMO_EXCHANGE

LIVE_EXCHANGES = ("binance", "coinbase", "kraken")  # the exchange clients of app.market.sources.factory
IMPORT_EXCHANGE = "csv"
IMPORT_TARGETS = (*LIVE_EXCHANGES, DEMO_EXCHANGE, IMPORT_EXCHANGE)
ORIGINS = ("live", "demo", "import")


def origin(exchange: str) -> str:
    """``live``, ``demo`` or ``import`` for a stored series' exchange name."""
    if exchange in LIVE_EXCHANGES:
        return "live"
    if exchange == DEMO_EXCHANGE:
        return "demo"
    return "import"


def label(exchange: str) -> str:
    """How pages name the source of a series: ``live · binance``, ``offline demo data``, ``import · csv``."""
    kind = origin(exchange)
    if kind == "demo":
        return "offline demo data"
    return f"{kind} · {exchange}"


def rank(exchange: str) -> tuple[int, int]:
    """Default display order when nothing was chosen: live exchanges (in client order), then demo, then imports."""
    kind = origin(exchange)
    if kind == "live":
        return 0, LIVE_EXCHANGES.index(exchange)
    return (1, 0) if kind == "demo" else (2, 0)
