"""The fault suite's own servers: a Redis with AOF, a PostgreSQL cluster, gunicorn, RQ workers, each on a
free loopback port and stopped after its test, so a test can kill and restart them without touching the
shared services other tests use."""
from __future__ import annotations

import contextlib

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.conftest import TEST_SECRET, stop_tree

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float = 60.0, every: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            got = check()
            if got:
                return got
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last error
            last = exc
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what} (last error: {last!r})")


def child_env(redis_url: str, database_url: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(dict(PYTHONPATH=str(ROOT), REDIS_URL=redis_url, DATABASE_URL=database_url, SECRET_KEY=TEST_SECRET,
                    CANDLEWISE_ENV="testing", MARKET_DATA_SOURCE="demo", CREATE_DEMO_USERS="0", LOG_LEVEL="WARNING")
               | extra)
    return env


def _stop(proc: subprocess.Popen) -> None:
    stop_tree(proc, timeout=15)


class OwnRedis:
    """A ``redis-server`` of this test's own on a free port, AOF on (``appendfsync always``)."""

    def __init__(self, directory: Path):
        self.dir, self.port, self.proc = directory, free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "OwnRedis":
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        wait_for(lambda: redis.Redis.from_url(self.url).ping(), 20, what="redis-server")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)
            self.proc = None


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path).start()
    yield server
    if server.proc is not None:
        _stop(server.proc)


class OwnPostgres:
    """A PostgreSQL cluster of this test's own (``initdb`` + ``pg_ctl``) on a free port, run as ``postgres``."""

    def __init__(self, directory: Path):
        self.dir, self.port = directory / "pgdata", free_port()
        self.sock = directory / "sock"
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *argv: str, check=True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *argv], check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> "OwnPostgres":
        self.sock.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir.parent, "postgres")
            shutil.chown(self.sock, "postgres")
            os.chmod(self.dir.parent, 0o755)
        got = self._as_postgres("initdb", "-D", str(self.dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                          "--no-sync", check=False)
        assert got.returncode == 0, got.stderr[-2000:]
        return self

    def start(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.dir), "-w", "-t", "60", "-l", str(self.dir / "log"), "-o",
                          f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                          "-c max_connections=40", "start")

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.dir), "-w", "-m", "fast", "stop", check=False)


@pytest.fixture
def own_pg():
    import tempfile

    # not under pytest's tmp dirs: those are private to root, and the cluster runs as postgres
    base = Path(tempfile.mkdtemp(prefix="cw-faults-pg-"))
    cluster = OwnPostgres(base).init()
    cluster.start()
    yield cluster
    cluster.stop()
    shutil.rmtree(base, ignore_errors=True)


class Gunicorn:
    """The app under gunicorn (``deploy/gunicorn.conf.py``) on a free port."""

    def __init__(self, env: dict):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(env, GUNICORN_BIND=f"127.0.0.1:{self.port}", GUNICORN_WORKERS=env.get("GUNICORN_WORKERS", "1"),
                   GUNICORN_THREADS=env.get("GUNICORN_THREADS", "4"))
        self.proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "wsgi:server"],
                                     cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: requests.get(self.base + "/healthz", timeout=2).ok, 120, 0.5, what="gunicorn")

    def worker_pids(self) -> set[int]:
        return {c.pid for c in psutil.Process(self.proc.pid).children()}

    def signed_in(self, email: str, password: str) -> requests.Session:
        s = requests.Session()
        page = s.get(self.base + "/login", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page)
        resp = s.post(self.base + "/login", data={"email": email, "password": password,
                                                  "csrf_token": token.group(1) if token else ""},
                      timeout=10, allow_redirects=False)
        assert resp.status_code in (302, 303), resp.text[:300]
        return s


@pytest.fixture
def gunicorn():
    started = []

    def _start(env: dict) -> Gunicorn:
        g = Gunicorn(env)
        started.append(g)
        return g

    yield _start
    for g in started:
        _stop(g.proc)


@pytest.fixture
def workers(tmp_path):
    """Start ``rq worker`` processes (``workers.worker.Worker``) with an environment; stopped after the test.
    Each one's output goes to a file whose tail is printed at teardown (pytest shows it when the test failed)."""
    procs = []

    def _start(env: dict, *queues: str, scheduler: bool = False) -> subprocess.Popen:
        cmd = [str(BIN / "rq"), "worker", "--url", env["REDIS_URL"], "--worker-ttl", "30",
               "--worker-class", "workers.worker.Worker", *(["--with-scheduler"] if scheduler else []),
               *(queues or ("ingest",))]
        log = tmp_path / f"worker-{len(procs)}-{'-'.join(queues or ('ingest',))}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        proc.log_path = log
        procs.append(proc)
        return proc

    yield _start
    for proc in procs:
        _stop(proc)
        tail = proc.log_path.read_text(errors="replace")[-4000:]
        print(f"--- {proc.log_path.name} (exit {proc.returncode}) ---\n{tail}")


def horse_of(worker: subprocess.Popen) -> psutil.Process | None:
    """The work horse an ``rq worker`` forked for its current job, or None while it is idle.

    RQ puts each horse in its own process group (``os.setpgrp``); the scheduler process
    (``--with-scheduler``) is a child too, but stays in the worker's group."""
    for kid in psutil.Process(worker.pid).children():
        try:
            if os.getpgid(kid.pid) == kid.pid:
                return kid
        except (psutil.Error, ProcessLookupError):
            continue
    return None


def migrated(database_url: str, redis_url: str | None = None, **overrides):
    """A migrated server (no Dash) on ``database_url``, for the test's own reads and writes."""
    from tests.conftest import make_settings, migrate_app
    from app.server import create_server

    server = create_server(make_settings(database_url=database_url, redis_url=redis_url, **overrides))
    migrate_app(server)
    return server


@contextlib.contextmanager
def tiny_tmpfs(target: Path, size: str = "32k"):
    """``target`` made a tmpfs of ``size`` (needs root; the test is skipped where mounting is impossible),
    unmounted afterwards. ``mount -o remount,size=...`` grows it."""
    target.mkdir()
    got = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)], capture_output=True,
                         text=True)
    if got.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {got.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)
