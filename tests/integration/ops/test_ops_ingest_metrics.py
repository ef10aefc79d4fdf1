"""The record_ingest decorator around the real ingest job (the one-line edit proposed for workers/ingest.py)."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def test_record_ingest_around_the_refresh_job_counts_bars_and_freshness(app):
    from app.ops.metrics import record_ingest
    from workers.ingest import refresh

    job = record_ingest(refresh)
    with app.server.app_context():
        result = job("demo", "BTC/USDT", "1h")
        again = job("demo", "BTC/USDT", "1h")
    assert result["written"] > 0
    got = {}
    for fam in text_string_to_metric_families(app.server.test_client().get("/metrics").get_data(as_text=True)):
        for s in fam.samples:
            got[(s.name, frozenset(s.labels.items()))] = s.value
    series = frozenset({"exchange": "demo", "symbol": "BTC/USDT", "timeframe": "1h"}.items())
    assert got[("candlewise_bars_ingested_total", series)] == result["written"] + again["written"]
    # the demo feed is current: the newest bar closed less than two bars ago
    assert 0 <= got[("candlewise_ingest_lag_bars", series)] < 2
    assert got[("candlewise_ingest_last_success_timestamp_seconds", series)] > 0
