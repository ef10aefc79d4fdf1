"""The HTTP layer shared by the exchange sources.

One :class:`HttpClient` per source holds one ``requests.Session`` whose adapter retries with
urllib3's :class:`~urllib3.util.retry.Retry` (:class:`ExchangeRetry`):

* a timeout on every request;
* retries with exponential backoff and jitter on 5xx answers, timeouts and connection errors;
* HTTP 429 and 418 honour ``Retry-After`` (seconds or an HTTP date; the backoff when it is
  missing) and give up at once with :class:`RateLimitedError` when the exchange asks for longer
  than ``max_retry_after_s`` (so a job can be rescheduled instead of blocking);
* the circuit breaker (``app.market.sources.breaker``, pybreaker) around each logical call.

What urllib3 cannot do is written here, small: truncated or invalid JSON and a payload
``check`` asking for another try (Kraken's ``EService:Busy``) are retried on the same backoff;
request-weight pacing (Binance's ``X-MBX-USED-WEIGHT-1M``: past ``weight_slowdown`` of
``weight_limit`` we sleep until the next minute window) and a minimum interval between requests.

``sleep``, ``clock`` (monotonic), ``wall_clock`` (epoch seconds) and ``rng`` are injected so tests
run instantly and deterministically; :class:`ExchangeRetry` sleeps through the same ``sleep``.
"""
from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from app.market.sources.breaker import CircuitBreaker
from app.market.sources.errors import (
    BadPayloadError,
    ExchangeError,
    ExchangeUnavailableError,
    RateLimitedError,
    RequestRejectedError,
)

USER_AGENT = "candlewise/1.0 (+market-data)"
RATE_LIMITED = (429, 418)  # 418: Binance's ban for ignoring 429s
RETRIED_STATUSES = (*RATE_LIMITED, 500, 502, 503, 504)


class TransientError(Exception):
    """Raised by a payload ``check`` to ask for a retry (e.g. Kraken's ``EService:Busy``)."""


ErrorMapper = Callable[[int, Any], ExchangeError | None]


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4            # attempts = 1 + max_retries
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0

    def backoff(self, attempt: int, rng: Callable[[], float]) -> float:
        """Equal-jitter exponential backoff: between d/2 and d, d = base * 2**attempt (capped)."""
        d = min(self.backoff_max_s, self.backoff_base_s * (2 ** attempt))
        return d / 2 + rng() * d / 2


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    v = value.strip()
    try:
        return max(0.0, float(v))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(v).timestamp() - now_epoch)
    except (TypeError, ValueError):
        return None


class RetryAfterTooLong(Exception):
    """The exchange asked us to wait longer than ``max_retry_after_s``: give up now, say how long."""

    def __init__(self, status: int, wait_s: float):
        super().__init__(f"HTTP {status}: retry after {wait_s:.0f}s")
        self.status, self.wait_s = status, wait_s


class ExchangeRetry(Retry):
    """urllib3's ``Retry`` with the project's policy: equal-jitter backoff from the first retry,
    ``Retry-After`` honoured on 418 too and capped, and sleeping through an injected function."""

    RETRY_AFTER_STATUS_CODES = frozenset({413, *RATE_LIMITED, 503})

    def __init__(self, *args, policy: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 rng: Callable[[], float] = random.random, wall_clock: Callable[[], float] = time.time, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy, self._sleep_fn, self._rng, self._wall = policy or RetryPolicy(), sleep, rng, wall_clock

    @classmethod
    def for_policy(cls, policy: RetryPolicy, **injected) -> "ExchangeRetry":
        n = policy.max_retries
        return cls(total=n, connect=n, read=n, status=n, redirect=0, status_forcelist=RETRIED_STATUSES,
                   allowed_methods=frozenset({"GET"}), raise_on_status=False, respect_retry_after_header=True,
                   policy=policy, **injected)

    def new(self, **kw):
        fresh = super().new(**kw)
        fresh.policy, fresh._sleep_fn, fresh._rng, fresh._wall = self.policy, self._sleep_fn, self._rng, self._wall
        return fresh

    def get_backoff_time(self) -> float:
        return self.policy.backoff(max(0, len(self.history) - 1), self._rng)

    def parse_retry_after(self, retry_after: str) -> float:
        wait = parse_retry_after(retry_after, self._wall())
        return 0.0 if wait is None else wait

    def sleep_for_retry(self, response=None) -> bool:
        wait = self.get_retry_after(response)
        if wait is None:
            return False
        if wait > self.policy.max_retry_after_s:
            raise RetryAfterTooLong(response.status, wait)
        self._sleep_fn(wait)
        return True

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            self._sleep_fn(backoff)


class HttpClient:
    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        error_mapper: ErrorMapper | None = None,
        min_interval_s: float = 0.0,
        weight_header: str | None = None,
        weight_limit: int = 6000,
        weight_slowdown: float = 0.8,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ):
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"{name}: base URL must start with http:// or https://, got {base_url!r}")
        if timeout_s <= 0:
            raise ValueError(f"{name}: timeout must be > 0 seconds, got {timeout_s}")
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.timeout_s = float(timeout_s)
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(name)
        self.error_mapper = error_mapper
        self.min_interval_s = float(min_interval_s)
        self.weight_header = weight_header
        self.weight_limit = weight_limit
        self.weight_slowdown = weight_slowdown
        self.session = session or requests.Session()
        adapter = HTTPAdapter(max_retries=ExchangeRetry.for_policy(self.retry, sleep=sleep, rng=rng,
                                                                   wall_clock=wall_clock))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self.session.headers["Accept"] = "application/json"
        self._sleep = sleep
        self._clock = clock
        self._wall = wall_clock
        self._rng = rng
        self._lock = threading.Lock()
        self._last_request_at: float | None = None
        self.last_used_weight: int | None = None

    def close(self) -> None:
        self.session.close()

    # -- pacing ------------------------------------------------------------
    def _pace(self) -> None:
        if self.min_interval_s <= 0:
            return
        with self._lock:
            now = self._clock()
            if self._last_request_at is not None:
                wait = self._last_request_at + self.min_interval_s - now
                if wait > 0:
                    self._sleep(wait)
                    now += wait
            self._last_request_at = now

    def _honour_weight(self, resp: requests.Response) -> None:
        if not self.weight_header:
            return
        raw = resp.headers.get(self.weight_header)
        if raw is None:
            return
        try:
            used = int(raw)
        except ValueError:
            return
        self.last_used_weight = used
        if used >= self.weight_limit * self.weight_slowdown:
            # The weight window is the calendar minute: wait for the next one.
            wait = 60.0 - (self._wall() % 60.0) + 0.05
            self._sleep(wait)

    # -- the call ----------------------------------------------------------
    def get_json(self, path: str, params: Mapping[str, Any] | None = None,
                 *, check: Callable[[Any], None] | None = None) -> Any:
        """GET ``base_url + path`` and return the decoded JSON, through the circuit breaker.

        ``check(payload)`` may raise :class:`TransientError` to retry or an
        :class:`ExchangeError` to fail. Non-retryable 4xx answers go through
        ``error_mapper(status, payload)`` (falls back to RequestRejectedError).
        """
        return self.breaker.call(self._get_with_retries, path, params, check)

    def _get(self, url: str, path: str, params: Mapping[str, Any] | None) -> requests.Response:
        """One logical GET: urllib3 retries connection errors, timeouts, 5xx and 429/418 inside it."""
        self._pace()
        try:
            return self.session.get(url, params=params, timeout=self.timeout_s)
        except RetryAfterTooLong as exc:
            what = "rate limited" if exc.status == 429 else "IP banned for exceeding rate limits"
            raise RateLimitedError(f"{self.name}: {what} (HTTP {exc.status}) on {path}; retry after {exc.wait_s:.0f}s",
                                   exchange=self.name, status=exc.status, retry_after_s=exc.wait_s) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ExchangeUnavailableError(
                f"{self.name}: {path} failed after {self.retry.max_retries + 1} attempts; last problem: "
                f"{type(exc).__name__}: {exc}", exchange=self.name) from None

    def _get_with_retries(self, path: str, params: Mapping[str, Any] | None,
                          check: Callable[[Any], None] | None) -> Any:
        url = self.base_url + path
        attempts = self.retry.max_retries + 1
        last_problem = "no attempt made"
        for attempt in range(attempts):
            final = attempt == attempts - 1
            resp = self._get(url, path, params)
            self._honour_weight(resp)
            status = resp.status_code
            tried = len(getattr(getattr(resp.raw, "retries", None), "history", ())) + 1
            if status in RATE_LIMITED:  # urllib3 used up its retries on it
                wait = parse_retry_after(resp.headers.get("Retry-After"), self._wall())
                what = "rate limited" if status == 429 else "IP banned for exceeding rate limits"
                raise RateLimitedError(
                    f"{self.name}: {what} (HTTP {status}) on {path}"
                    + (f"; retry after {wait:.0f}s" if wait is not None else ""),
                    exchange=self.name, status=status, retry_after_s=wait)
            if status >= 500:
                raise ExchangeUnavailableError(
                    f"{self.name}: {path} failed after {tried} attempts; last problem: HTTP {status}",
                    exchange=self.name)
            try:
                payload = resp.json()
            except (ValueError, json.JSONDecodeError):
                if status >= 400:
                    payload = resp.text[:500]
                else:
                    last_problem = f"invalid or truncated JSON (HTTP {status}, {len(resp.content)} bytes)"
                    if not final:
                        self._sleep(self.retry.backoff(attempt, self._rng))
                        continue
                    raise BadPayloadError(f"{self.name}: {last_problem} from {path}",
                                          exchange=self.name, status=status) from None

            if status >= 400:
                err = self.error_mapper(status, payload) if self.error_mapper else None
                raise err or RequestRejectedError(
                    f"{self.name}: HTTP {status} on {path}: {str(payload)[:200]}",
                    exchange=self.name, status=status)

            if check is not None:
                try:
                    check(payload)
                except TransientError as exc:
                    last_problem = str(exc)
                    if not final:
                        self._sleep(self.retry.backoff(attempt, self._rng))
                    continue
            return payload

        raise ExchangeUnavailableError(
            f"{self.name}: {path} failed after {attempts} attempts; last problem: {last_problem}",
            exchange=self.name)
