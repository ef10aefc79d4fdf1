"""Errors raised by exchange sources: one small family, one meaning each.

Every error a source raises is an :class:`ExchangeError`, so a job can catch
one type; the subclasses say what went wrong so the caller can decide to
retry later (rate limited, unavailable), fix its input (unknown symbol,
unsupported timeframe) or report the exchange (bad payload).
"""
from __future__ import annotations


class ExchangeError(Exception):
    """Base class for everything a market-data source raises."""

    def __init__(self, message: str, *, exchange: str = "", status: int | None = None):
        super().__init__(message)
        self.exchange = exchange
        self.status = status


class BadPayloadError(ExchangeError):
    """The exchange answered with something we cannot parse or that has the wrong shape."""


class UnknownSymbolError(ExchangeError, ValueError):
    """The exchange does not list this symbol."""


class UnsupportedTimeframeError(ExchangeError, ValueError):
    """The exchange has no candles of this width (e.g. Coinbase has no 4h)."""


class RateLimitedError(ExchangeError):
    """The exchange refused us for sending too much; ``retry_after_s`` says when to come back."""

    def __init__(self, message: str, *, exchange: str = "", status: int | None = None,
                 retry_after_s: float | None = None):
        super().__init__(message, exchange=exchange, status=status)
        self.retry_after_s = retry_after_s


class ExchangeUnavailableError(ExchangeError):
    """Server errors, timeouts or connection failures persisted through every retry."""


class CircuitOpenError(ExchangeUnavailableError):
    """The circuit breaker is open: we fail fast without calling the exchange."""

    def __init__(self, message: str, *, exchange: str = "", retry_in_s: float = 0.0):
        super().__init__(message, exchange=exchange)
        self.retry_in_s = retry_in_s


class RequestRejectedError(ExchangeError):
    """A 4xx answer that is neither a rate limit nor an unknown symbol (our request was wrong)."""
