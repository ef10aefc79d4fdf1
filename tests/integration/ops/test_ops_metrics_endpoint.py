"""/metrics: access rules in production, HTTP metrics per endpoint, business metrics shared through Redis,
queue depth from RQ, and job metrics recorded by a real `rq worker --worker-class workers.worker.Worker`."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.settings import Settings
from tests.conftest import TEST_SECRET, make_settings, migrate_app

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
TOKEN = "prometheus-scrape-token-0123456789"


def samples(text: str) -> dict:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def L(**labels):
    return frozenset(labels.items())


def production_app(tmp_path, **env):
    from app.server import create_server

    settings = Settings.from_env({"CANDLEWISE_ENV": "production", "SECRET_KEY": "p" * 32, "ALERTS_SECRET_KEY": "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=",
                                  "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "MODEL_DIR": str(tmp_path),
                                  **env})
    app = create_server(settings)
    migrate_app(app)
    return app


def test_production_refuses_anonymous_metrics_and_accepts_the_token(tmp_path):
    client = production_app(tmp_path, METRICS_TOKEN=TOKEN).test_client()
    resp = client.get("/metrics")
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"flask_http_request" not in resp.data and "token" in resp.get_json()["error"]
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and b"flask_http_request_duration_seconds" in ok.data
    assert ok.headers["Content-Type"].startswith("text/plain")


def test_production_without_a_token_or_networks_lets_nobody_in(tmp_path):
    client = production_app(tmp_path).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 401


def test_allow_listed_network_behind_the_proxy(tmp_path):
    client = production_app(tmp_path, METRICS_ALLOW_NETWORKS="10.0.0.0/8").test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.4.5.6"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 401
    # through nginx: the last X-Forwarded-For entry is the real client; a forged first entry does not help
    forged = client.get("/metrics", headers={"X-Forwarded-For": "10.4.5.6, 198.51.100.7"},
                        environ_base={"REMOTE_ADDR": "172.18.0.5"})
    assert forged.status_code == 401


def test_request_count_and_latency_by_endpoint(client):
    for _ in range(3):
        client.get("/healthz")
    client.get("/login")
    got = samples(client.get("/metrics").get_data(as_text=True))
    assert got[("flask_http_request_duration_seconds_count", L(method="GET", status="200", url_rule="/healthz"))] == 3
    assert got[("flask_http_request_duration_seconds_count", L(method="GET", status="200", url_rule="/login"))] == 1
    assert ("flask_http_request_duration_seconds_bucket",
            L(method="GET", status="200", url_rule="/healthz", le="+Inf")) in got


def test_business_metrics_recorded_by_one_process_are_scraped_by_another(tmp_path, redis_url):
    """Two apps on one Redis stand for a worker process and the web process."""
    from app.server import create_server
    from app.ops import metrics

    worker_side = create_server(make_settings(tmp_path / "w", redis_url=redis_url))
    web_side = create_server(make_settings(tmp_path / "web", redis_url=redis_url))
    with worker_side.app_context():
        metrics.record_bars_ingested("demo", "BTC/USDT", "1m", 60)
        metrics.record_alert_delivery("webhook", "sent")
        metrics.set_live_accuracy("BTC/USDT", "1h", 4, 0.55, 120)
        with metrics.timed_prediction(4):
            time.sleep(0.01)
    got = samples(web_side.test_client().get("/metrics").get_data(as_text=True))
    assert got[("candlewise_bars_ingested_total", L(exchange="demo", symbol="BTC/USDT", timeframe="1m"))] == 60
    assert got[("candlewise_alert_deliveries_total", L(channel="webhook", outcome="sent"))] == 1
    assert got[("candlewise_model_live_accuracy", L(symbol="BTC/USDT", timeframe="1h", model_version="4"))] == 0.55
    assert got[("candlewise_prediction_latency_seconds_count", L(model_version="4"))] == 1
    assert got[("candlewise_prediction_latency_seconds_sum", L(model_version="4"))] >= 0.01
    assert got[("candlewise_metrics_store_up", L())] == 1


def test_queue_depth_comes_from_rqs_registries_at_scrape_time(tmp_path, redis_url):
    from app.server import create_server
    from workers.queues import QUEUE_NAMES, enqueue

    app = create_server(make_settings(tmp_path, redis_url=redis_url))
    with app.app_context():
        for _ in range(3):
            enqueue("ingest", "workers.system.ping", "x")
    time.sleep(1.1)
    got = samples(app.test_client().get("/metrics").get_data(as_text=True))
    assert got[("candlewise_queue_jobs", L(queue="ingest", state="queued"))] == 3
    assert got[("candlewise_queue_jobs", L(queue="analysis", state="queued"))] == 0
    assert got[("candlewise_queue_oldest_job_age_seconds", L(queue="ingest"))] >= 1.0
    assert got[("candlewise_queue_oldest_job_age_seconds", L(queue="ml"))] == 0
    assert got[("candlewise_queue_workers", L(queue="ingest"))] == 0
    assert {q for (name, labels), _ in got.items() if name == "candlewise_queue_workers"
            for k, q in labels if k == "queue"} == set(QUEUE_NAMES)


def test_scrape_still_answers_when_redis_is_down(tmp_path):
    from app.server import create_server

    app = create_server(make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0"))
    resp = app.test_client().get("/metrics")
    assert resp.status_code == 200
    got = samples(resp.get_data(as_text=True))
    assert got[("candlewise_metrics_store_up", L())] == 0 and got[("candlewise_queue_redis_up", L())] == 0


def test_metrics_worker_records_duration_and_failures_per_queue(tmp_path, redis_url, pg_url):
    import os

    from app.server import create_server
    from workers.queues import enqueue

    app = create_server(make_settings(tmp_path, redis_url=redis_url))
    with app.app_context():
        enqueue("backtests", "workers.system.ping", "ok", steps=2, delay_s=0.2)
        enqueue("backtests", "workers.system.ping", "bad", steps="not-a-number")  # fails, no retries
        enqueue("analysis", "workers.system.ping", "bad", steps="not-a-number")  # fails, will be retried
    env = dict(os.environ, PYTHONPATH=str(ROOT), REDIS_URL=redis_url, DATABASE_URL=pg_url, SECRET_KEY=TEST_SECRET,
               CANDLEWISE_ENV="testing", CREATE_DEMO_USERS="0")
    rq = str(Path(sys.executable).parent / "rq")
    done = subprocess.run([rq, "worker", "--url", redis_url, "--burst", "--worker-class",
                           "workers.worker.Worker", "backtests", "analysis"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    got = samples(app.test_client().get("/metrics").get_data(as_text=True))
    finished = L(queue="backtests", status="finished")
    assert got[("candlewise_job_duration_seconds_count", finished)] == 1
    assert got[("candlewise_job_duration_seconds_sum", finished)] >= 0.4
    assert got[("candlewise_job_duration_seconds_bucket", L(queue="backtests", status="finished", le="0.25"))] == 0
    assert got[("candlewise_job_failures_total", L(queue="backtests", outcome="failed"))] == 1
    assert got[("candlewise_job_failures_total", L(queue="analysis", outcome="retried"))] == 1
    assert ("candlewise_job_failures_total", L(queue="analysis", outcome="failed")) not in got
