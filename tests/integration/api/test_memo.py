"""app.api.v1.memo on real PostgreSQL and Redis: a repeated poll is answered without a database connection,
and a write committed by another process (its own server and engine) ends what this one kept, on the next
request; in embedded mode nothing is kept."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest

from app.api.v1 import memo
from tests.conftest import dispose
from tests.integration.api.conftest import bearer, new_token

pytestmark = pytest.mark.integration
Q = "/api/v1/candles?symbol=BTC/USDT&timeframe=15m&limit=200"


@contextmanager
def checkouts(app):
    """Counts the database connections the server's pool hands out inside the block."""
    from sqlalchemy import event

    from app.extensions import db

    seen = []
    with app.app_context():
        engine = db.engine

    def _out(*_a):
        seen.append(1)

    event.listen(engine, "checkout", _out)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", _out)


@pytest.fixture
def elsewhere(resource_app):
    """Another process's server on the same database and Redis (an admin's web worker, a CLI)."""
    from app.server import create_server

    other = create_server(resource_app.config["CW_SETTINGS"])
    yield other
    dispose(other)


def test_a_repeated_poll_opens_no_database_connection(resource_app):
    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app, role="viewer", scopes=("read",))
    first = client.get(Q, headers=auth)
    assert first.status_code == 200 and len(first.get_json()["candles"]) == 200
    # the first use of a token is recorded (a write to api_tokens, which moves its counter): read once more
    assert client.get(Q, headers=auth).data == first.data
    with checkouts(resource_app) as used:
        again = client.get(Q, headers=auth)
        unchanged = client.get(Q, headers={**auth, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and again.data == first.data
    assert unchanged.status_code == 304
    assert used == []  # token, series revision, catalogue and bars all from memory
    assert again.headers["X-RateLimit-Limit"] and int(again.headers["X-RateLimit-Remaining"]) >= 0


def test_a_revocation_elsewhere_ends_the_kept_token_at_once(resource_app, elsewhere):
    from app.auth.tokens import revoke_token
    from app.extensions import db

    client = resource_app.test_client()
    auth, uid, token_id = new_token(resource_app, role="viewer", scopes=("read",))
    for _ in range(2):  # the first use is recorded, a write that moves the counter: then it is kept
        assert client.get(Q, headers=auth).status_code == 200
    with checkouts(resource_app) as used:
        assert client.get(Q, headers=auth).status_code == 200
    assert used == []  # the grant was kept
    with elsewhere.app_context():
        assert revoke_token(db.session, uid, token_id)
    gone = client.get(Q, headers=auth)
    assert gone.status_code == 401 and gone.mimetype == "application/problem+json"


def test_a_demotion_or_deactivation_elsewhere_applies_on_the_next_request(resource_app, elsewhere):
    from app.extensions import db
    from app.models.user import User

    client = resource_app.test_client()
    auth, uid, _ = new_token(resource_app, role="trader", scopes=("read", "trade"))
    for _ in range(2):
        assert client.get("/api/v1/me", headers=auth).get_json()["scopes"] == ["read", "trade"]
    with elsewhere.app_context():
        db.session.get(User, uid).role = "viewer"
        db.session.commit()
    assert client.get("/api/v1/me", headers=auth).get_json()["scopes"] == ["read"]
    with elsewhere.app_context():
        db.session.get(User, uid).active = False
        db.session.commit()
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_a_kept_token_is_refused_once_it_expires(resource_app, monkeypatch):
    from app.api.v1 import auth as api_auth
    from app.models.user import utcnow

    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app, role="viewer", scopes=("read",), days=1)
    assert client.get("/api/v1/me", headers=auth).status_code == 200
    later = utcnow() + timedelta(days=1, seconds=1)
    monkeypatch.setattr(api_auth, "utcnow", lambda: later)
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_a_new_bar_stored_elsewhere_is_in_the_next_poll(resource_app, elsewhere):
    import pandas as pd

    from app.extensions import db
    from app.market import query, store

    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app, role="viewer", scopes=("read",))
    first = client.get(Q, headers=auth)
    assert client.get(Q, headers=auth).data == first.data
    with elsewhere.app_context():
        cat = query.catalog(db.session)
        sid = store.find_series(db.session.connection(), cat.exchange["BTC/USDT"], "BTC/USDT", "15m")
        last = store.load_candles(db.session.connection(), sid, limit=1)
        bar = last.copy()
        bar.index = bar.index + pd.Timedelta(minutes=15)
        store.upsert_candles(db.session.connection(), sid, bar)
        db.session.commit()
    try:
        after = client.get(Q, headers={**auth, "If-None-Match": first.headers["ETag"]})
        assert after.status_code == 200
        assert after.get_json()["candles"][-1]["time"] == bar.index[0].isoformat()
    finally:
        with elsewhere.app_context():  # the bar removed again, and the revision advanced as a store write does
            db.session.execute(db.text("DELETE FROM candles WHERE series_id = :s AND time >= :t"),
                               {"s": sid, "t": bar.index[0].to_pydatetime()})
            db.session.execute(db.text("UPDATE series SET revision = revision + 1 WHERE id = :s"), {"s": sid})
            db.session.commit()


def test_embedded_mode_keeps_nothing(app):
    from app.auth.tokens import create_token
    from app.auth.users import create_user
    from app.extensions import db

    with app.app_context():
        user = create_user("embedded@example.com", "correct-horse-battery", role="viewer")
        _row, token = create_token(db.session, user, "t", ["read"], 1)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    with app.app_context():
        assert all(len(m) == 0 for m in app.extensions.get("cw_api_memos", {}).values())
        assert memo.WATCHED == ("api_tokens", "users", "series")
