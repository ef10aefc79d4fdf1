"""Hot state: the Redis connection and every Redis-backed store, in one place.

Jobs write these stores, pages read them; both get them from the functions below, built from
``Settings`` (never from ``workers``). Keys are namespaced ``{prefix}:<area>:<id>`` with
``prefix = Settings.redis_prefix`` (default ``cw``); each store states its TTL next to its keys:

========================================================  ===========================  ==========
key                                                       store                        TTL
========================================================  ===========================  ==========
``{prefix}:live:candles:{exchange}:{symbol}:{tf}``        :class:`~app.hot.live.LiveCache` (binary)  2 days
``{prefix}:live:ticker:{exchange}:{symbol}``              :class:`~app.hot.live.LiveCache` (JSON)    10 min
``{prefix}:signals:{symbol}``                             :class:`~app.hot.signals.SignalCache`      1 h
``{prefix}:feeds:{exchange}``                             :mod:`app.hot.feeds`                       1 day
``{prefix}:catalog``                                      :class:`~app.hot.catalog.CatalogCache`     30 s
``{prefix}:system:stop``                                  :class:`~app.hot.system.SystemState`       none
``{prefix}:breaker:{exchange}:pybreaker:*``               the exchange circuit breaker (pybreaker;   none
                                                          read by :func:`breaker_states`)
``{prefix}:views:{view}:{key}``                           :class:`~app.hot.views.ViewCache`          15 min
``{prefix}:blobs:{area}:{key}``                           :class:`~app.hot.blobs.BlobCache` (binary) 5 min
``{prefix}:sessions:{digest}``                            :class:`~app.hot.sessions.SessionCache`    1 min
``{prefix}:sessions:user:{user_id}``                      :class:`~app.hot.sessions.SessionCache`    none
``{prefix}:locks:{area}:{key}``                           :func:`~app.hot.views.single_flight`       30 s
``{prefix}:changes:{table}``                              :class:`~app.hot.changes.ChangeCounters`   none
``{prefix}:stream:{channel}[:{user_id}]``                 pub/sub of :mod:`app.hot.stream` (pushes)  none (not stored)
``{prefix}:ratelimit:api:{scope}:{key}:prev|cur``         :class:`~app.hot.rate_window.RateWindows`  2 windows
========================================================  ===========================  ==========

Job progress lives in RQ's own ``job.meta`` (reached through ``workers.queues.fetch_job``).

Embedded mode (no ``REDIS_URL``): the live candle and signal caches are off (pages read the
database, exactly as they fall back to it when a key is cold), and the small documents (feed
health, catalogue) live in one in-process :class:`~app.hot.memory.MemoryStore` (the breaker in
pybreaker's own memory storage),
which is enough because the web server and its jobs share that one process.

Redis outage (production): page-side hot state goes through one breaker per process
(:mod:`app.hot.outage`): the live caches switch off, the small documents fall back to this process's
memory, the stop switch reads as unknown, and the shell shows the degraded banner until Redis is back.
"""
from __future__ import annotations

from functools import lru_cache

from flask import current_app
from redis import Redis

from app.hot.catalog import CatalogCache
from app.hot.live import LiveCache
from app.hot.memory import MemoryStore
from app.hot.outage import DegradingStore, outage_for
from app.hot.signals import SignalCache
from app.hot.system import SystemState
from app.settings import Settings


@lru_cache(maxsize=8)
def redis_connection(url: str) -> Redis:
    """One client (and connection pool) per URL per process.

    Caching a *connection* is fine; caching *data* here is not (convention 5).
    """
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else current_app.config["CW_SETTINGS"]


@lru_cache(maxsize=8)
def _outage_memory(url: str) -> MemoryStore:
    """Where the small documents go while Redis at ``url`` is down (this process only, see app.hot.outage)."""
    return MemoryStore()


def kv_store(settings: Settings | None = None):
    """Redis in production (behind the outage breaker); this process's ``MemoryStore`` in embedded mode."""
    settings = _settings(settings)
    if not settings.embedded:
        url = settings.redis_url
        return DegradingStore(redis_connection(url), _outage_memory(url), outage_for(url))
    return current_app.extensions.setdefault("cw_hot_memory", MemoryStore())


def degraded(settings: Settings | None = None) -> bool:
    """True while this process sees Redis as down (never in embedded mode: there is no Redis to lose)."""
    settings = _settings(settings)
    return not settings.embedded and outage_for(settings.redis_url).degraded


def outage(settings: Settings | None = None):
    """This process's breaker for the configured Redis (None in embedded mode)."""
    settings = _settings(settings)
    return None if settings.embedded else outage_for(settings.redis_url)


def live_cache(settings: Settings | None = None) -> LiveCache | None:
    """Live candles and tickers, or None in embedded mode or a Redis outage (pages then read the database)."""
    settings = _settings(settings)
    if settings.embedded or degraded(settings):
        return None
    return LiveCache(redis_connection(settings.redis_url), prefix=settings.redis_prefix)


def signal_cache(settings: Settings | None = None) -> SignalCache | None:
    """Signal snapshots, or None in embedded mode or a Redis outage (pages then read the database)."""
    settings = _settings(settings)
    if settings.embedded or degraded(settings):
        return None
    return SignalCache(redis_connection(settings.redis_url), prefix=settings.redis_prefix)


def feed_store(settings: Settings | None = None):
    """Where feed health documents live (see :mod:`app.hot.feeds`)."""
    return kv_store(settings)


def breaker_storage(name: str, settings: Settings | None = None):
    """Where an exchange's circuit breaker keeps its state: Redis in production (every worker shares
    it), this process's memory in embedded mode."""
    import pybreaker

    settings = _settings(settings)
    if settings.embedded:
        return pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
    return pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, redis_connection(settings.redis_url),
                                         namespace=f"{settings.redis_prefix}:breaker:{name}")


def breaker_states(exchanges, settings: Settings | None = None) -> dict[str, str] | None:
    """Each exchange's circuit-breaker state as every worker sees it (``closed``/``open``/``half-open``; one
    MGET, :func:`app.hot.breakers.feed_states`), or None when this process cannot know: embedded mode (the
    breaker lives in the ingest thread's memory) or Redis unreachable (through the outage breaker, so a
    Redis outage costs no wait)."""
    from app.hot.breakers import feed_states

    settings = _settings(settings)
    if settings.embedded:
        return None
    conn = redis_connection(settings.redis_url)
    return outage_for(settings.redis_url).call(lambda: feed_states(conn, settings.redis_prefix, exchanges),
                                               lambda: None)


def system_state(settings: Settings | None = None) -> SystemState:
    """The emergency-stop switch (shared by every process; this process's memory in embedded mode)."""
    settings = _settings(settings)
    if settings.embedded:
        return SystemState(kv_store(settings), prefix=settings.redis_prefix)
    url = settings.redis_url  # in an outage: reads unknown (None), writes refused
    return SystemState(DegradingStore(redis_connection(url), None, outage_for(url), writes_degrade=False),
                       prefix=settings.redis_prefix)


def catalog_cache(settings: Settings | None = None) -> CatalogCache:
    settings = _settings(settings)
    return CatalogCache(kv_store(settings), prefix=settings.redis_prefix)


def view_cache(settings: Settings | None = None):
    """Shared views kept serialised (see :mod:`app.hot.views`): Redis, or this process's memory when embedded."""
    from app.hot.views import ViewCache

    settings = _settings(settings)
    return ViewCache(kv_store(settings), prefix=settings.redis_prefix)


def blob_cache(settings: Settings | None = None):
    """Versioned binary blobs (see :mod:`app.hot.blobs`): Redis, or this process's memory when embedded."""
    from app.hot.blobs import BlobCache

    settings = _settings(settings)
    return BlobCache(kv_store(settings), prefix=settings.redis_prefix)


def session_cache(settings: Settings | None = None):
    """The sign-in session check's hot copy (see :mod:`app.hot.sessions`), or None in embedded mode: there a
    command-line revocation runs in another process whose memory the web process cannot see, so every
    check reads the database."""
    from app.hot.sessions import SessionCache

    settings = _settings(settings)
    if settings.embedded:
        return None
    return SessionCache(redis_connection(settings.redis_url), prefix=settings.redis_prefix)


def change_counters(settings: Settings | None = None):
    """What changed since a tab last looked (see :mod:`app.hot.changes`): Redis, or this process's memory
    when embedded (its jobs run in the same process); None in a Redis outage."""
    from app.hot.changes import ChangeCounters

    settings = _settings(settings)
    if degraded(settings):  # the counters would be this process's memory: readers check the data instead
        return None
    return ChangeCounters(kv_store(settings), prefix=settings.redis_prefix)


def stream_publisher(settings: Settings | None = None):
    """Where the job layer publishes stream messages (see :mod:`app.hot.stream`); a no-op when embedded."""
    from app.hot.stream import NullPublisher, Publisher

    settings = _settings(settings)
    if settings.embedded:
        return NullPublisher(settings.redis_prefix)
    return Publisher(redis_connection(settings.redis_url), prefix=settings.redis_prefix)
