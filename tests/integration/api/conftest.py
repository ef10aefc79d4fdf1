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
