"""The real ingest job records bars and freshness (workers/ingest.py applies app.ops.metrics.record_ingest)."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def test_record_ingest_around_the_refresh_job_counts_bars_and_freshness(app):
    from workers.ingest import refresh

    job = refresh
    with app.app_context():
        result = job("demo", "BTC/USDT", "1h")
        again = job("demo", "BTC/USDT", "1h")
    assert result["written"] > 0
    got = {}
    for fam in text_string_to_metric_families(app.test_client().get("/metrics").get_data(as_text=True)):
        for s in fam.samples:
            got[(s.name, frozenset(s.labels.items()))] = s.value
    series = frozenset({"exchange": "demo", "symbol": "BTC/USDT", "timeframe": "1h"}.items())
    assert got[("candlewise_bars_ingested_total", series)] == result["written"] + again["written"]
    # the demo feed is current: the newest bar closed less than two bars ago
    assert 0 <= got[("candlewise_ingest_lag_bars", series)] < 2
    assert got[("candlewise_ingest_last_success_timestamp_seconds", series)] > 0
