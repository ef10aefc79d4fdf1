"""Fixtures for the stream tests: one migrated PostgreSQL database per module with users and tokens, the
run's Redis database, and real ``python -m app.stream`` processes (uvicorn) on free 127.0.0.1 ports."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import PG_ADMIN_URL, REDIS_BASE_URL, ROOT, RUN_ID, TEST_SECRET, dispose, make_settings, migrate_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class StreamProcess:
    port: int
    proc: subprocess.Popen
    env: dict = field(repr=False)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/stream/v1"

    def health(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stream/healthz", timeout=2) as resp:
            return json.loads(resp.read())

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"stream exited {self.proc.returncode}: {self.proc.stdout.read()[-3000:]}")
            try:
                self.health()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("stream did not answer /stream/healthz in time")

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_stream(database_url: str, redis_url: str, port: int | None = None, **env) -> StreamProcess:
    child = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
                 DATABASE_URL=database_url, REDIS_URL=redis_url, SECRET_KEY=TEST_SECRET, CANDLEWISE_ENV="testing",
                 CREATE_DEMO_USERS="0", LOG_LEVEL="WARNING")
    port = port or free_port()
    child.update({"STREAM_BIND": f"127.0.0.1:{port}", **{k: str(v) for k, v in env.items()}})
    proc = subprocess.Popen([sys.executable, "-m", "workers.run", "stream"], cwd=ROOT, env=child,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stream = StreamProcess(port, proc, child)
    stream.wait_ready()
    return stream


@pytest.fixture(scope="package")
def stream_db():
    """A migrated PostgreSQL database of this module's own, dropped afterwards."""
    name = f"cw_test_{RUN_ID}_stream_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="package")
def stream_redis_url(redis_db):
    return f"{REDIS_BASE_URL}/{redis_db}"


@pytest.fixture(scope="package")
def stream_server_app(stream_db, stream_redis_url):
    """The Flask server (no Dash) on the module's database and the run's Redis: jobs run in its context."""
    from app.server import create_server

    server = create_server(make_settings(database_url=stream_db, redis_url=stream_redis_url))
    migrate_app(server)
    yield server
    dispose(server)


@pytest.fixture(scope="package")
def make_token(stream_server_app):
    """make_token(role="trader", scopes=("read",)) -> (token, user_id, token_id) for a new user."""
    from app.auth.tokens import create_token
    from app.auth.users import create_user
    from app.extensions import db

    def _make(role: str = "trader", scopes=("read",), user_id: int | None = None):
        with stream_server_app.app_context():
            from app.models.user import User

            user = db.session.get(User, user_id) if user_id else create_user(
                f"{role}-{uuid.uuid4().hex[:8]}@example.com", "correct-horse-battery", role=role)
            _, token = create_token(db.session, user, "stream test", list(scopes), 30)
            tid = db.session.execute(sa.text("SELECT max(id) FROM api_tokens")).scalar()
            return token, user.id, tid

    return _make


@pytest.fixture(scope="package")
def expire_token(stream_server_app):
    def _expire(token_id: int) -> None:
        from app.extensions import db

        with stream_server_app.app_context():
            db.session.execute(sa.text("UPDATE api_tokens SET expires_at = now() - :d WHERE id = :i"),
                               {"d": timedelta(minutes=1), "i": token_id})
            db.session.commit()

    return _expire


@pytest.fixture(scope="package")
def stream(stream_db, stream_redis_url, stream_server_app):
    """One stream process for the module: small queues and a fast heartbeat so the tests stay short."""
    proc = start_stream(stream_db, stream_redis_url, STREAM_QUEUE_MAX=16, STREAM_HEARTBEAT_S=0.5,
                        STREAM_RECHECK_S=1, STREAM_MAX_PER_USER=50)
    yield proc
    proc.stop()


@pytest.fixture
def publisher(stream_redis_url):
    from app.hot.stream import Publisher
    import redis

    client = redis.Redis.from_url(stream_redis_url)
    yield Publisher(client, prefix="cw")
    client.close()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
