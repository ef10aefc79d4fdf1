"""`python -m workers.run worker|cron|web` as real processes: lower priority, RQ registration, health
checks, and gunicorn's multi-process metrics with JSON request logs."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import TEST_SECRET, stop_tree

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(redis_url: str, database_url: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(PYTHONPATH=str(ROOT), REDIS_URL=redis_url, DATABASE_URL=database_url, SECRET_KEY=TEST_SECRET,
               CANDLEWISE_ENV="testing", MARKET_DATA_SOURCE="demo", CREATE_DEMO_USERS="0", **extra)
    return env


def wait_for(check, timeout=60.0, every=0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last[0]:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out: {last}")


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for p in started:
        stop_tree(p, timeout=20)


def test_worker_runs_nicer_on_every_queue_and_reports_healthy(processes, redis_url, pg_url):
    from rq import Worker

    from app.settings import Settings
    from app.hot import redis_connection
    from workers.queues import QUEUE_NAMES
    from workers.run import health_worker

    settings = Settings(redis_url=redis_url)
    assert not health_worker(settings)[0]
    proc = subprocess.Popen([sys.executable, "-m", "workers.run", "worker"], cwd=ROOT,
                            env=child_env(redis_url, pg_url, WORKER_NICE="7"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    processes.append(proc)
    ok, message = wait_for(lambda: health_worker(settings))
    assert socket.gethostname() in message
    # the same process, now rq (exec), seven steps nicer than this one
    cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode().split("\0")
    assert "worker" in cmdline and "workers.worker.Worker" in cmdline
    assert redis_url not in " ".join(cmdline)
    assert niceness(proc.pid) == min(19, os.nice(0) + 7)
    (worker,) = Worker.all(connection=redis_connection(redis_url))
    assert tuple(worker.queue_names()) == QUEUE_NAMES
    assert worker.pid == proc.pid


def test_cron_runs_nicer_and_reports_healthy(processes, redis_url, pg_url):
    from app.settings import Settings
    from workers.run import health_cron

    settings = Settings(redis_url=redis_url)
    assert not health_cron(settings)[0]
    proc = subprocess.Popen([sys.executable, "-m", "workers.run", "cron"], cwd=ROOT,
                            env=child_env(redis_url, pg_url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    processes.append(proc)
    wait_for(lambda: health_cron(settings))
    assert niceness(proc.pid) == min(19, os.nice(0) + 10)


def test_worker_and_cron_refuse_to_start_without_redis(tmp_path):
    for process in ("worker", "cron"):
        env = child_env("", f"sqlite:///{tmp_path / 'x.db'}")
        env.pop("REDIS_URL")
        done = subprocess.run([sys.executable, "-m", "workers.run", process], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and "REDIS_URL is not set" in done.stderr


def scrape(port: int, token: str | None = None) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                 headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        text = resp.read().decode()
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def test_gunicorn_workers_share_metrics_and_write_json_request_logs(processes, redis_url, pg_url, tmp_path):
    """Two gunicorn workers, one multi-process directory: every scrape counts every request, even after a
    worker died; every log line on stderr is JSON and each request line has its request id."""
    from workers.run import health_web
    from app.settings import Settings

    port = free_port()
    multiproc = tmp_path / "multiproc"
    multiproc.mkdir()
    (multiproc / "counter_999999.db").write_bytes(b"stale")  # from an earlier run: removed at start
    log_path = tmp_path / "web.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "workers.run", "web"], cwd=ROOT, stdout=log_file,
                                stderr=subprocess.STDOUT,
                                env=child_env(redis_url, pg_url, GUNICORN_BIND=f"127.0.0.1:{port}",
                                              GUNICORN_WORKERS="2", GUNICORN_THREADS="2",
                                              PROMETHEUS_MULTIPROC_DIR=str(multiproc), LOG_JSON="1"))
    processes.append(proc)
    settings = Settings(redis_url=redis_url, gunicorn_bind=f"127.0.0.1:{port}")
    wait_for(lambda: health_web(settings), timeout=120)
    healthz = frozenset({"method": "GET", "status": "200", "url_rule": "/healthz"}.items())
    time.sleep(1)  # health probes queued while gunicorn booted are answered by now
    before = scrape(port)[("flask_http_request_duration_seconds_count", healthz)]
    from concurrent.futures import ThreadPoolExecutor

    def get(i):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": f"req-{i}"})
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.headers["X-Request-ID"] == f"req-{i}"

    def serving_pids():
        return {p.name.rsplit("_", 1)[1].split(".")[0] for p in multiproc.glob("histogram_*.db")}

    # concurrent batches until both workers have answered (the kernel decides who accepts)
    n = 0
    with ThreadPoolExecutor(8) as pool:
        while n < 800 and (n < 40 or len(serving_pids()) < 2):
            assert all(pool.map(get, range(n, n + 8)))
            n += 8
    pids = serving_pids()
    assert len(pids) == 2 and "999999" not in {p.name.rsplit("_", 1)[1].split(".")[0] for p in multiproc.iterdir()}
    for _ in range(4):  # whichever worker answers the scrape, it sees all requests
        assert scrape(port)[("flask_http_request_duration_seconds_count", healthz)] == before + n

    os.kill(int(sorted(pids)[0]), signal.SIGKILL)  # gunicorn replaces it; its samples stay counted
    # the replacement must answer too (again in concurrent batches); the dead worker's file stays
    def answered(i):
        try:
            return int(get(i))
        except OSError:  # refused while gunicorn replaces the worker: not counted by anyone
            return 0

    extra = 0
    deadline = time.monotonic() + 120
    with ThreadPoolExecutor(8) as pool:
        while len(serving_pids()) < 3:
            assert time.monotonic() < deadline, "the replacement worker never answered"
            extra += sum(pool.map(answered, range(1000 + extra, 1008 + extra)))
    for _ in range(3):
        assert scrape(port)[("flask_http_request_duration_seconds_count", healthz)] == before + n + extra

    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert any(r["logger"] == "gunicorn.error" for r in records)
    request_lines = [r for r in records if r["logger"] == "candlewise.request"]
    assert {f"req-{i}" for i in range(n)} <= {r["request_id"] for r in request_lines}
    assert all(r["request_id"] and r["latency_ms"] is not None for r in request_lines)
