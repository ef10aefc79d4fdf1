"""Exchange market-data sources behind one interface (see ``base.Source``)."""
from app.market.sources.base import Source, Ticker
from app.market.sources.errors import (
    BadPayloadError,
    CircuitOpenError,
    ExchangeError,
    ExchangeUnavailableError,
    RateLimitedError,
    RequestRejectedError,
    UnknownSymbolError,
    UnsupportedTimeframeError,
)
from app.market.sources.factory import fetch_candles_any, make_source

__all__ = [
    "Source", "Ticker", "make_source", "fetch_candles_any",
    "ExchangeError", "BadPayloadError", "UnknownSymbolError", "UnsupportedTimeframeError",
    "RateLimitedError", "ExchangeUnavailableError", "CircuitOpenError", "RequestRejectedError",
]
