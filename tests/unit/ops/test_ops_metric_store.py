"""The business-metric catalogue, its helpers and the store -> Prometheus families conversion."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from app.ops import metrics, metrics_endpoint
from app.ops.metric_store import MemoryMetricStore, MetricDef, StoreCollector


def scrape(store, now=None) -> dict:
    """Exposition text parsed back: {(sample name, frozenset(labels)): value}."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(store, metrics.CATALOGUE,
                                     derived=lambda data: metrics_endpoint.ingest_lag_families(data, now=now)))
    text = generate_latest(registry).decode()
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def L(**labels):
    return frozenset(labels.items())


def test_counters_histograms_and_gauges_round_trip_through_the_exposition():
    store = MemoryMetricStore()
    metrics.record_bars_ingested("demo", "BTC/USDT", "1m", 120, rejected=2, store=store)
    metrics.record_bars_ingested("demo", "BTC/USDT", "1m", 5, store=store)
    metrics.record_job("ingest", 0.3, "finished", store=store)
    metrics.record_job("ingest", 7.0, "finished", store=store)
    metrics.record_job("ingest", 400.0, "failed", will_retry=True, store=store)
    metrics.record_job("alerts", None, "failed", store=store)  # horse killed before it started
    metrics.record_alert_delivery("telegram", "sent", store=store)
    metrics.record_alert_delivery("telegram", "failed", store=store)
    metrics.record_alert_evaluation("fired", store=store)
    metrics.record_alert_event("1h", store=store)
    metrics.record_prediction_latency(3, 0.009, store=store)
    metrics.set_live_accuracy("BTC/USDT", "1h", 3, 0.52, 250, store=store)
    got = scrape(store)
    series = L(exchange="demo", symbol="BTC/USDT", timeframe="1m")
    assert got[("candlewise_bars_ingested_total", series)] == 125
    assert got[("candlewise_bars_rejected_total", series)] == 2
    ingest_ok = dict(queue="ingest", status="finished")
    assert got[("candlewise_job_duration_seconds_count", L(**ingest_ok))] == 2
    assert got[("candlewise_job_duration_seconds_sum", L(**ingest_ok))] == pytest.approx(7.3)
    assert got[("candlewise_job_duration_seconds_bucket", L(**ingest_ok, le="0.5"))] == 1
    assert got[("candlewise_job_duration_seconds_bucket", L(**ingest_ok, le="10.0"))] == 2
    assert got[("candlewise_job_duration_seconds_bucket", L(queue="ingest", status="failed", le="300.0"))] == 0
    assert got[("candlewise_job_duration_seconds_bucket", L(queue="ingest", status="failed", le="+Inf"))] == 1
    assert got[("candlewise_job_failures_total", L(queue="ingest", outcome="retried"))] == 1
    assert got[("candlewise_job_failures_total", L(queue="alerts", outcome="failed"))] == 1
    assert got[("candlewise_alert_deliveries_total", L(channel="telegram", outcome="failed"))] == 1
    assert got[("candlewise_alert_evaluations_total", L(outcome="fired"))] == 1
    assert got[("candlewise_alert_events_total", L(timeframe="1h"))] == 1
    assert got[("candlewise_prediction_latency_seconds_bucket", L(model_version="3", le="0.01"))] == 1
    live = L(symbol="BTC/USDT", timeframe="1h", model_version="3")
    assert got[("candlewise_model_live_accuracy", live)] == 0.52
    assert got[("candlewise_model_live_samples", live)] == 250
    assert got[("candlewise_metrics_store_up", L())] == 1


def test_ingest_lag_is_computed_at_scrape_time_so_it_grows_when_ingestion_stops():
    store = MemoryMetricStore()
    last_open = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    metrics.record_ingest_result({"exchange": "demo", "symbol": "ETH/USDT", "timeframe": "5m", "written": 3,
                                  "rejected": 0, "last_bar": last_open.isoformat()}, store=store)
    closed = (last_open + timedelta(minutes=5)).timestamp()
    series = L(exchange="demo", symbol="ETH/USDT", timeframe="5m")
    soon = scrape(store, now=closed + 30)
    later = scrape(store, now=closed + 3600)
    assert soon[("candlewise_ingest_last_bar_close_timestamp_seconds", series)] == closed
    assert soon[("candlewise_ingest_lag_seconds", series)] == pytest.approx(30)
    assert later[("candlewise_ingest_lag_seconds", series)] == pytest.approx(3600)
    assert later[("candlewise_ingest_lag_bars", series)] == pytest.approx(12)
    assert soon[("candlewise_bars_ingested_total", series)] == 3


def test_record_ingest_decorator_records_what_the_job_returned():
    store = MemoryMetricStore()

    @metrics.record_ingest
    def job(symbol):
        return {"exchange": "demo", "symbol": symbol, "timeframe": "1h", "written": 7, "rejected": 1,
                "last_bar": "2026-01-01T10:00:00+00:00"}

    from flask import Flask

    server = Flask("t")
    server.extensions["cw_metric_store"] = store
    with server.app_context():
        assert job("BTC/USDT")["written"] == 7
    got = scrape(store)
    assert got[("candlewise_bars_ingested_total", L(exchange="demo", symbol="BTC/USDT", timeframe="1h"))] == 7


@pytest.mark.parametrize("call, field", [
    (lambda s: metrics.record_bars_ingested("demo", "BTC/USDT", "1m", -1, store=s), "written"),
    (lambda s: metrics.record_bars_ingested("demo", "BTC/USDT", "1m", 2.5, store=s), "written"),
    (lambda s: metrics.record_bars_ingested("", "BTC/USDT", "1m", 1, store=s), "exchange"),
    (lambda s: metrics.record_job("ingest", 1.0, "done", store=s), "status"),
    (lambda s: metrics.record_alert_delivery("email", "maybe", store=s), "outcome"),
    (lambda s: metrics.record_alert_evaluation("nope", store=s), "outcome"),
    (lambda s: metrics.set_live_accuracy("BTC/USDT", "1h", 1, 1.5, 10, store=s), "accuracy"),
    (lambda s: metrics.set_live_accuracy("BTC/USDT", "1h", 1, 0.5, -3, store=s), "samples"),
    (lambda s: metrics.record_prediction_latency(1, "fast", store=s), "seconds"),
    (lambda s: metrics.record_ingest_freshness("demo", "BTC/USDT", "1m", datetime(2026, 1, 1), store=s),
     "last_bar_open"),
])
def test_bad_input_is_refused_with_the_field_named_and_records_nothing(call, field):
    store = MemoryMetricStore()
    with pytest.raises(ValueError, match=field):
        call(store)
    assert all(not v for v in store.read(metrics.CATALOGUE).values())


def test_a_broken_store_never_breaks_the_job(caplog):
    class Down(MemoryMetricStore):
        def inc(self, *a, **k):
            raise ConnectionError("redis is down")

        def read(self, *a, **k):
            raise ConnectionError("redis is down")

    metrics.record_bars_ingested("demo", "BTC/USDT", "1m", 5, store=Down())
    assert "could not record bars ingested" in caplog.text
    assert scrape(Down()) == {("candlewise_metrics_store_up", L()): 0}


def test_metric_definitions_validate():
    with pytest.raises(ValueError, match="kind"):
        MetricDef("x", "summary", "help")
    with pytest.raises(ValueError, match="buckets"):
        MetricDef("x", "histogram", "help", ("a",), (1, 0.5))
    with pytest.raises(ValueError, match="labels"):
        metrics.BARS_INGESTED.label_key(["only-one"])
    names = [m.name for m in metrics.CATALOGUE]
    assert len(names) == len(set(names)) and all(n.startswith("candlewise_") for n in names)
