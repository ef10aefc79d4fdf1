"""Fixtures for the /api/v1 tests: a migrated server on real PostgreSQL (+ Redis), users with tokens."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import dispose, make_settings, migrate_app


@pytest.fixture
def api_app(fresh_pg_url, redis_url):
    """The server (no Dash) on its own PostgreSQL database and the run's Redis, 5 API requests per minute."""
    from app.server import create_server

    server = create_server(make_settings(database_url=fresh_pg_url, redis_url=redis_url,
                                         redis_prefix=f"cwapi{uuid.uuid4().hex[:6]}",
                                         api_rate_limit="1000 per minute"))
    migrate_app(server)
    yield server
    dispose(server)


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
