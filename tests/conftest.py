"""Shared fixtures: settings, a migrated server per test, the one Dash app of the session, real
PostgreSQL/Redis per run, Chromium options.

Most tests need only the Flask server (``app.server.create_server``): a fresh one per test on its
own SQLite file or PostgreSQL database. Dash keeps one callback and page registry per process, so
tests that need Dash's routes or a browser share one session-scoped Dash app (``dash_app``) on its
own database; they create users with unique e-mails (``make_dash_user``).
"""
from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.settings import Settings  # noqa: E402

RUN_ID = uuid.uuid4().hex[:8]
PG_ADMIN_URL = os.environ.get("CW_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
REDIS_BASE_URL = os.environ.get("CW_TEST_REDIS_URL", "redis://127.0.0.1:6379")
TEST_SECRET = "test-secret-key-0123456789"


def pytest_setup_options():
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1400,1000"):
        options.add_argument(flag)
    return options


def make_settings(tmp_path: Path | None = None, **overrides) -> Settings:
    base = dict(
        env="testing",
        secret_key=TEST_SECRET,
        market_source="demo",
        create_demo_users=False,
        demo_days=3,
        login_limit_ip="1000 per minute",
        login_limit_account="1000 per minute",
    )
    if tmp_path is not None and "database_url" not in overrides:
        base["database_url"] = f"sqlite:///{tmp_path / 'candlewise.db'}"
    # never the checkout's var/models: each app gets its own model registry
    base["model_dir"] = str(tmp_path / "models") if tmp_path is not None else tempfile.mkdtemp(prefix="cw-models-")
    base.update(overrides)
    return Settings(**base)


def migrate_app(server) -> None:
    from flask_migrate import upgrade

    with server.app_context():
        upgrade()


def dispose(server) -> None:
    from app.extensions import db

    with server.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def app(settings):
    """A fresh, migrated Flask server on its own SQLite file (no Redis: in-process jobs), without Dash."""
    from app.server import create_server

    server = create_server(settings)
    migrate_app(server)
    yield server
    dispose(server)


@pytest.fixture
def server(app):
    return app


@pytest.fixture(scope="session")
def dash_app(tmp_path_factory):
    """The session's one Dash app (pages and callbacks), migrated, on its own SQLite file.

    Its in-process job threads are started before any ``dash.testing`` server: that harness's
    ``ThreadedRunner.stop()`` raises ``SystemExit`` in every thread created while it ran.
    """
    from app import create_app

    settings = make_settings(tmp_path_factory.mktemp("dash-app"), demo_days=3, refresh_ms=60_000)
    web = create_app(settings)
    migrate_app(web.server)
    web.server.extensions["cw_jobs"].start()
    return web


@pytest.fixture
def dash_server(dash_app):
    return dash_app.server


@pytest.fixture
def dash_client(dash_server):
    return dash_server.test_client()


@pytest.fixture
def make_dash_user(dash_server):
    """Create a user on the shared Dash app's database with a unique e-mail; returns (email, id)."""
    from app.auth.users import create_user

    def _make(name: str = "user", password: str = "correct-horse-battery", role: str = "trader",
              active: bool = True) -> tuple[str, int]:
        email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        with dash_server.app_context():
            return email, create_user(email, password, role=role, active=active).id

    return _make


@pytest.fixture
def client(server):
    return server.test_client()


@pytest.fixture
def make_user(server):
    from app.auth.users import create_user

    def _make(email: str, password: str = "correct-horse-battery", role: str = "trader", active: bool = True):
        with server.app_context():
            user = create_user(email, password, role=role, active=active)
            return user.id

    return _make


def form_token(html: str) -> str | None:
    """The CSRF token of the first form in an HTML page (None when the page has none)."""
    import re

    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    return m.group(1) if m else None


def layout_token(client) -> str | None:
    """The CSRF token of the shell's sign-out form, as a signed-in browser receives it in the layout."""
    import json

    resp = client.get("/_dash-layout")
    if resp.status_code != 200:
        return None
    stack = [resp.get_json()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and props.get("name") == "csrf_token":
                return props.get("value")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def login(client, email: str, password: str = "correct-horse-battery", next: str | None = None):
    """Sign in through the real form: GET /login for its CSRF token, then POST it."""
    from urllib.parse import quote

    url = "/login" + (f"?next={quote(next, safe='')}" if next is not None else "")
    data = {"email": email, "password": password}
    page = client.get("/login")
    token = (form_token(page.get_data(as_text=True)) if page.status_code == 200
             else layout_token(client) or session_token(client))
    if token:
        data["csrf_token"] = token
    return client.post(url, data=data)


def session_token(client) -> str:
    """A CSRF token valid for this client's session, for servers without Dash (no layout to read it from):
    what ``generate_csrf`` would have put in the page."""
    import secrets

    from flask import session
    from flask_wtf.csrf import generate_csrf

    with client.session_transaction() as sess:
        raw = sess.setdefault("csrf_token", secrets.token_hex(20))
    with client.application.test_request_context():
        session["csrf_token"] = raw
        return generate_csrf()


def logout(client):
    """Sign out the way the navbar does: POST /logout with the token from the shell's sign-out form."""
    token = layout_token(client) or session_token(client)
    return client.post("/logout", data={"csrf_token": token})


# --- real PostgreSQL and Redis ----------------------------------------------------------


@pytest.fixture(scope="session")
def pg_url():
    """A throwaway PostgreSQL database for this test run, dropped at the end."""
    import sqlalchemy as sa

    name = f"cw_test_{RUN_ID}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
        ), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_db():
    """Claim a Redis database number no other concurrent test run holds (12 down to 1).

    The claims live in database 0 (``cw:test-db-claim:<n>``), so a claimed database holds only what
    the tests write (a database still carrying an older run's in-database lock is skipped).
    """
    import redis

    registry = redis.Redis.from_url(f"{REDIS_BASE_URL}/0")
    for number in range(12, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_BASE_URL}/{number}")
        try:
            if client.exists("cw:test-run-lock"):
                continue
            claimed = registry.set(f"cw:test-db-claim:{number}", RUN_ID, nx=True, ex=3600)
        except redis.ConnectionError as exc:
            pytest.fail(f"Redis is not reachable at {REDIS_BASE_URL}: {exc}")
        if claimed:
            client.flushdb()
            yield number
            client.flushdb()
            registry.delete(f"cw:test-db-claim:{number}")
            return
    pytest.fail("no free Redis database (1..12) for this test run")


@pytest.fixture
def redis_url(redis_db):
    """This run's Redis database, emptied before each test."""
    import redis

    url = f"{REDIS_BASE_URL}/{redis_db}"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def redis_client(redis_url):
    """A client on this run's Redis database (emptied before each test)."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def fresh_pg_url(pg_url):
    """An empty PostgreSQL database of its own for one test, dropped afterwards."""
    import sqlalchemy as sa

    name = f"cw_test_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
        ), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def stop_tree(proc, timeout: float = 15.0) -> None:
    """Stop a child process *and everything it started* (an ``rq worker --with-scheduler`` forks its
    scheduler; killing only the worker after a slow warm shutdown left that scheduler running into later
    tests): SIGTERM to the process, a wait, then SIGKILL to whatever of the tree is still alive."""
    import subprocess

    import psutil

    try:
        tree = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        tree = []
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    for child in tree:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _gone, alive = psutil.wait_procs(tree, timeout=5)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


@pytest.fixture
def rq_worker(redis_url, pg_url):
    """Start real `rq worker` processes on this run's Redis db; stopped after the test.

    Usage: ``rq_worker("ingest", burst=True, env={...})`` returns the Popen.
    """
    import subprocess

    procs = []

    def _start(*queues, burst: bool = False, env: dict | None = None, database_url: str | None = None,
               scheduler: bool = False):
        child_env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            REDIS_URL=redis_url,
            DATABASE_URL=database_url or pg_url,
            SECRET_KEY=TEST_SECRET,
            CANDLEWISE_ENV="testing",
            MARKET_DATA_SOURCE="demo",
            CREATE_DEMO_USERS="0",
        )
        child_env.update(env or {})
        cmd = [str(Path(sys.executable).parent / "rq"), "worker", "--url", redis_url, "--worker-ttl", "30",
               "--worker-class", "workers.worker.Worker",
               *(["--burst"] if burst else []), *(["--with-scheduler"] if scheduler else []), *(queues or ("ingest",))]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        procs.append(proc)
        return proc

    yield _start
    for proc in procs:
        stop_tree(proc, timeout=10)


@pytest.fixture
def pg_app(fresh_pg_url, redis_url):
    """A migrated server in production mode: PostgreSQL + RQ on the real Redis (no Dash)."""
    from app.server import create_server

    server = create_server(make_settings(database_url=fresh_pg_url, redis_url=redis_url))
    migrate_app(server)
    yield server
    dispose(server)
