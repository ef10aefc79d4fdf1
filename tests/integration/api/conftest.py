"""Fixtures for the /api/v1 tests: a migrated server on real PostgreSQL (+ Redis), users with tokens."""
from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def api_app(pg_app):
    """The server (no Dash) on its own PostgreSQL database and the run's Redis (RQ, rate limits)."""
    return pg_app


@pytest.fixture
def seeded(api_app):
    """Demo candles (3 days, every timeframe) stored in the API app's database."""
    from app.extensions import db
    from app.market.seed import seed_demo

    with api_app.app_context():
        seed_demo(db.session.connection(), api_app.config["CW_SETTINGS"])
        db.session.commit()
    return api_app


@pytest.fixture
def api(api_app):
    return api_app.test_client()


@pytest.fixture
def make_token(api_app):
    """make_token(role="trader", scopes=("read",), days=30) -> (token, user_id, token_id)."""
    from app.auth.tokens import create_token
    from app.auth.users import create_user
    from app.extensions import db

    def _make(role: str = "trader", scopes=("read",), days: int = 30, email: str | None = None):
        with api_app.app_context():
            from app.models.user import User

            user = db.session.scalar(db.select(User).filter_by(email=email)) if email else None
            if user is None:
                user = create_user(email or f"{role}-{uuid.uuid4().hex[:8]}@example.com", "correct-horse-battery",
                                   role=role)
            row, token = create_token(db.session, user, "test", list(scopes), days)
            return token, user.id, row.id

    return _make


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def resource_app(pg_url, redis_db):
    """One seeded server on its own PostgreSQL database and the run's Redis, shared by a module's tests
    (a fresh migrated database per test would cost seconds each). Tests create their own users."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.market.seed import seed_demo
    from app.server import create_server
    from tests.conftest import PG_ADMIN_URL, REDIS_BASE_URL, dispose, make_settings, migrate_app

    name = f"{pg_url.rsplit('/', 1)[1]}_res_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server = create_server(make_settings(database_url=PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}",
                                         redis_url=f"{REDIS_BASE_URL}/{redis_db}",
                                         api_rate_limit="100000 per minute"))
    migrate_app(server)
    with server.app_context():
        seed_demo(db.session.connection(), server.config["CW_SETTINGS"])
        db.session.commit()
    yield server
    dispose(server)
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                             "AND pid <> pg_backend_pid()"), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def new_token(app, role: str = "trader", scopes=("read", "trade"), days: int = 30) -> tuple[dict, int, int]:
    """A new user of ``role`` with a token: (Authorization header, user id, token id)."""
    from app.auth.tokens import create_token
    from app.auth.users import create_user
    from app.extensions import db

    with app.app_context():
        user = create_user(f"{role}-{uuid.uuid4().hex[:8]}@example.com", "correct-horse-battery", role=role)
        row, token = create_token(db.session, user, "test", list(scopes), days)
        return bearer(token), user.id, row.id


def count_rows(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))
