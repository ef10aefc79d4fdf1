"""``/metrics``: HTTP metrics per endpoint (prometheus-flask-exporter), the business metrics and queue depth.

- **HTTP**: ``flask_http_request_duration_seconds{method,url_rule,status}`` (its ``_count`` is the
  request count per endpoint) and ``flask_http_request_total``. Under gunicorn with several workers set
  ``PROMETHEUS_MULTIPROC_DIR``: every worker writes its samples there, ``/metrics`` merges them
  (``MultiProcessCollector``), gunicorn's ``child_exit`` hook marks dead workers
  (``deploy/gunicorn.conf.py``) and ``python -m workers.run web`` empties it at start.
- **Business metrics** (``app.ops.metrics.CATALOGUE``) are read from the shared store at scrape time;
  ingestion lag is derived then, so it keeps growing when ingestion stops.
- **Queue depth** is read from RQ's own registries at scrape time (``app/ops/queue_metrics.py``).
- **Access**: a bearer token or an allow-listed network in production (``app/ops/metrics_access.py``).
"""
from __future__ import annotations

import json
import time

from flask import Flask, request
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_flask_exporter import PrometheusMetrics

from app.marketdata import timeframe_delta
from app.ops import metrics_access
from app.ops.metric_store import StoreCollector
from app.ops.metrics import CATALOGUE, INGEST_LAG, INGEST_LAG_BARS, INGEST_LAST_BAR, SERIES, store_for
from app.settings import Settings


def ingest_lag_families(data: dict, now: float | None = None) -> list:
    """Scrape-time lag per series from the stored close time of its newest bar."""
    now = time.time() if now is None else now
    lag = GaugeMetricFamily(INGEST_LAG, "Seconds since the newest stored bar of the series closed", labels=SERIES)
    lag_bars = GaugeMetricFamily(INGEST_LAG_BARS, "The same lag in bars of the series' timeframe", labels=SERIES)
    for key, close_ts in sorted(data.get(INGEST_LAST_BAR.name, {}).items()):
        labels = json.loads(key)
        seconds = max(0.0, now - close_ts)
        lag.add_metric(labels, seconds)
        try:
            lag_bars.add_metric(labels, seconds / timeframe_delta(labels[2]).total_seconds())
        except ValueError:
            continue
    return [lag, lag_bars]


def init_app(server: Flask, settings: Settings) -> None:
    """HTTP metrics, the business-metric store, ``/metrics`` and its access rule."""
    from prometheus_client import values

    multiproc = settings.prometheus_multiproc_dir
    if multiproc and values.ValueClass.__name__ != "MmapedValue":
        raise ValueError("PROMETHEUS_MULTIPROC_DIR is set in settings but was not in the environment when "
                         "prometheus_client was imported; set it before the process starts")
    # Each app gets its own registry, so several apps in one process (tests) don't collide.
    exporter = PrometheusMetrics(server, path=None, registry=CollectorRegistry(), group_by="url_rule")
    store = store_for(settings)
    server.extensions["cw_metrics"] = exporter
    server.extensions["cw_metric_store"] = store
    collectors = [StoreCollector(store, CATALOGUE, derived=ingest_lag_families)]
    if not settings.embedded:
        from app.ops.queue_metrics import QueueCollector
        from app.hot import redis_connection
        from workers.queues import QUEUE_NAMES

        collectors.append(QueueCollector(redis_connection(settings.redis_url), QUEUE_NAMES))
    if not multiproc:
        for c in collectors:
            exporter.registry.register(c)

    def exposition_registry() -> CollectorRegistry:
        if not multiproc:
            return exporter.registry
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=multiproc)
        for c in collectors:
            registry.register(c)
        return registry

    @exporter.do_not_track()
    def prometheus_metrics():
        encoder, content_type = choose_encoder(request.headers.get("Accept"))
        return encoder(exposition_registry()), 200, {"Content-Type": content_type}

    server.add_url_rule(metrics_access.METRICS_PATH, "metrics", prometheus_metrics)
    metrics_access.init_app(server, settings)
