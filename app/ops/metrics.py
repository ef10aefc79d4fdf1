"""The business metrics, defined once here, and the helpers job code calls to record them.

``/metrics`` itself (HTTP metrics, the scrape, its access rule) is ``app/ops/metrics_endpoint.py``.

- **HTTP** (prometheus-flask-exporter): ``flask_http_request_duration_seconds{method,url_rule,status}``
  (its ``_count`` is the request count per endpoint) and ``flask_http_request_total``. Under gunicorn
  with several workers set ``PROMETHEUS_MULTIPROC_DIR``: every worker writes its samples there,
  ``/metrics`` merges them (``MultiProcessCollector``), gunicorn's ``child_exit`` hook marks dead
  workers (``deploy/gunicorn.conf.py``) and ``python -m workers.run web`` empties it at start.
- **Business metrics** (:data:`CATALOGUE`): recorded by job code through the ``record_*`` helpers into
  a store every process shares (Redis in production, a dict in embedded mode; ``app/ops/metric_store.py``)
  and read at scrape time. Job duration and failures per queue are recorded by the RQ worker class
  ``workers.worker.Worker`` (what ``workers.run worker`` starts) and the in-process runner; ingest jobs
  record bars and freshness with the :func:`record_ingest` decorator.
- **Queue depth** is read from RQ's own registries at scrape time (``app/ops/queue_metrics.py``).
- **Access**: ``/metrics`` needs a bearer token or an allow-listed network in production
  (``app/ops/metrics_access.py``).
"""
from __future__ import annotations

import functools
import logging
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable, Iterator

from flask import current_app

from app.ops.metric_store import MemoryMetricStore, MetricDef, MetricStore, RedisMetricStore
from app.settings import Settings

log = logging.getLogger(__name__)

SERIES = ("exchange", "symbol", "timeframe")
JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600)
PREDICTION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

BARS_INGESTED = MetricDef("candlewise_bars_ingested", "counter", "Candles written by ingest jobs", SERIES)
BARS_REJECTED = MetricDef("candlewise_bars_rejected", "counter", "Candles refused by validation", SERIES)
INGEST_LAST_BAR = MetricDef("candlewise_ingest_last_bar_close_timestamp_seconds", "gauge",
                            "Close time (Unix seconds) of the newest stored bar per series", SERIES)
INGEST_LAST_SUCCESS = MetricDef("candlewise_ingest_last_success_timestamp_seconds", "gauge",
                                "When an ingest job last finished for the series (Unix seconds)", SERIES)
JOB_DURATION = MetricDef("candlewise_job_duration_seconds", "histogram", "RQ job run time per queue",
                         ("queue", "status"), JOB_BUCKETS)
JOB_FAILURES = MetricDef("candlewise_job_failures", "counter",
                         "Failed job attempts per queue (outcome: retried or failed for good)", ("queue", "outcome"))
ALERT_EVALUATIONS = MetricDef("candlewise_alert_evaluations", "counter",
                              "Alert rule evaluations by outcome (fired, quiet, error)", ("outcome",))
ALERT_EVENTS = MetricDef("candlewise_alert_events", "counter", "Alert events created (one per rule and bar)",
                         ("timeframe",))
ALERT_DELIVERIES = MetricDef("candlewise_alert_deliveries", "counter",
                             "Alert delivery attempts by channel and outcome", ("channel", "outcome"))
PREDICTION_LATENCY = MetricDef("candlewise_prediction_latency_seconds", "histogram",
                               "Time to compute one prediction, per model version", ("model_version",),
                               PREDICTION_BUCKETS)
LIVE_ACCURACY = MetricDef("candlewise_model_live_accuracy", "gauge",
                          "Share of scored live predictions that got the direction right",
                          ("symbol", "timeframe", "model_version"))
LIVE_SAMPLES = MetricDef("candlewise_model_live_samples", "gauge",
                         "Live predictions scored so far (the accuracy's sample size)",
                         ("symbol", "timeframe", "model_version"))
CATALOGUE = (BARS_INGESTED, BARS_REJECTED, INGEST_LAST_BAR, INGEST_LAST_SUCCESS, JOB_DURATION, JOB_FAILURES,
             ALERT_EVALUATIONS, ALERT_EVENTS, ALERT_DELIVERIES, PREDICTION_LATENCY, LIVE_ACCURACY, LIVE_SAMPLES)
# Computed at scrape time from INGEST_LAST_BAR, so they keep growing when ingestion stops.
INGEST_LAG = "candlewise_ingest_lag_seconds"
INGEST_LAG_BARS = "candlewise_ingest_lag_bars"

ALERT_EVALUATION_OUTCOMES = ("fired", "quiet", "error")
DELIVERY_OUTCOMES = ("sent", "failed", "retrying", "skipped")
JOB_STATUSES = ("finished", "failed")
JOB_FAILURE_OUTCOMES = ("retried", "failed")


# --- where the values go ---------------------------------------------------------------------


def store_for(settings: Settings, connection=None) -> MetricStore:
    if settings.embedded:
        return MemoryMetricStore()
    if connection is None:
        from app.hot import redis_connection

        connection = redis_connection(settings.redis_url)
    return RedisMetricStore(connection, prefix=settings.redis_prefix)


def current_store() -> MetricStore:
    """The app's store (call inside an app context, as every job does)."""
    return current_app.extensions["cw_metric_store"]


def _safely(record: Callable[[], None], what: str) -> None:
    """Metrics never break the work they describe: a store error is logged, not raised."""
    try:
        record()
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001
        log.warning("could not record %s: %s: %s", what, type(exc).__name__, exc)


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{field} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _text(field: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} must be a non-empty string, got {value!r}")
    return value


# --- helpers job code calls ----------------------------------------------------------------


def record_bars_ingested(exchange: str, symbol: str, timeframe: str, written: int, rejected: int = 0,
                         store: MetricStore | None = None) -> None:
    labels = (_text("exchange", exchange), _text("symbol", symbol), _text("timeframe", timeframe))
    for field, value in (("written", written), ("rejected", rejected)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{field} must be a non-negative whole number, got {value!r}")
    s = store or current_store()

    def _do():
        if written:
            s.inc(BARS_INGESTED, labels, written)
        if rejected:
            s.inc(BARS_REJECTED, labels, rejected)
    _safely(_do, "bars ingested")


def record_ingest_freshness(exchange: str, symbol: str, timeframe: str, last_bar_open: datetime | None,
                            store: MetricStore | None = None, now: datetime | None = None) -> None:
    """After an ingest job: when it finished, and the close time of the newest stored bar."""
    from app.marketdata import timeframe_delta

    labels = (_text("exchange", exchange), _text("symbol", symbol), _text("timeframe", timeframe))
    if last_bar_open is not None and (not isinstance(last_bar_open, datetime) or last_bar_open.tzinfo is None):
        raise ValueError(f"last_bar_open must be a tz-aware datetime, got {last_bar_open!r}")
    step = timeframe_delta(timeframe)
    s = store or current_store()
    finished = (now or datetime.now(timezone.utc)).timestamp()

    def _do():
        s.set(INGEST_LAST_SUCCESS, labels, finished)
        if last_bar_open is not None:
            s.set(INGEST_LAST_BAR, labels, (last_bar_open + step).timestamp())
    _safely(_do, "ingest freshness")


def record_ingest_result(result: dict, store: MetricStore | None = None) -> None:
    """Record what ``RefreshResult.to_dict()`` says: bars written and rejected, newest bar."""
    if not isinstance(result, dict):
        raise ValueError(f"an ingest result must be a dict, got {type(result).__name__}")
    last = result.get("last_bar")
    last_open = datetime.fromisoformat(last) if last else None
    if last_open is not None and last_open.tzinfo is None:
        last_open = last_open.replace(tzinfo=timezone.utc)
    record_bars_ingested(result["exchange"], result["symbol"], result["timeframe"], int(result.get("written", 0)),
                         int(result.get("rejected", 0)), store=store)
    record_ingest_freshness(result["exchange"], result["symbol"], result["timeframe"], last_open, store=store)


def record_ingest(func: Callable[..., dict]) -> Callable[..., dict]:
    """Decorator for ingest jobs returning ``RefreshResult.to_dict()``; apply under ``@with_app_context``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        result = func(*args, **kwargs)
        record_ingest_result(result)
        return result

    return wrapper


def record_job(queue: str, seconds: float | None, status: str, will_retry: bool = False,
               store: MetricStore | None = None) -> None:
    _text("queue", queue)
    _choice("status", status, JOB_STATUSES)
    s = store or current_store()

    def _do():
        if seconds is not None:
            s.observe(JOB_DURATION, (queue, status), max(0.0, float(seconds)))
        if status == "failed":
            s.inc(JOB_FAILURES, (queue, "retried" if will_retry else "failed"))
    _safely(_do, "job metrics")


def record_alert_evaluation(outcome: str, store: MetricStore | None = None) -> None:
    labels = (_choice("outcome", outcome, ALERT_EVALUATION_OUTCOMES),)
    s = store or current_store()
    _safely(lambda: s.inc(ALERT_EVALUATIONS, labels), "alert evaluation")


def record_alert_event(timeframe: str, store: MetricStore | None = None) -> None:
    labels = (_text("timeframe", timeframe),)
    s = store or current_store()
    _safely(lambda: s.inc(ALERT_EVENTS, labels), "alert event")


def record_alert_delivery(channel: str, outcome: str, store: MetricStore | None = None) -> None:
    labels = (_text("channel", channel), _choice("outcome", outcome, DELIVERY_OUTCOMES))
    s = store or current_store()
    _safely(lambda: s.inc(ALERT_DELIVERIES, labels), "alert delivery")


def record_prediction_latency(model_version: str | int, seconds: float, store: MetricStore | None = None) -> None:
    labels = (_text("model_version", str(model_version)),)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ValueError(f"seconds must be a non-negative number, got {seconds!r}")
    s = store or current_store()
    _safely(lambda: s.observe(PREDICTION_LATENCY, labels, float(seconds)), "prediction latency")


@contextmanager
def timed_prediction(model_version: str | int, store: MetricStore | None = None) -> Iterator[None]:
    """``with timed_prediction(version): p = model.predict(...)`` records the latency."""
    started = time.perf_counter()
    yield
    record_prediction_latency(model_version, time.perf_counter() - started, store=store)


def set_live_accuracy(symbol: str, timeframe: str, model_version: str | int, accuracy: float, samples: int,
                      store: MetricStore | None = None) -> None:
    labels = (_text("symbol", symbol), _text("timeframe", timeframe), _text("model_version", str(model_version)))
    if isinstance(accuracy, bool) or not isinstance(accuracy, (int, float)) or not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be a share between 0 and 1, got {accuracy!r}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 0:
        raise ValueError(f"samples must be a non-negative whole number, got {samples!r}")
    s = store or current_store()

    def _do():
        s.set(LIVE_ACCURACY, labels, float(accuracy))
        s.set(LIVE_SAMPLES, labels, samples)
    _safely(_do, "live accuracy")
