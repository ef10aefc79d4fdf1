"""The session check from hot state (app.hot.sessions) on PostgreSQL + Redis: a checked session costs no
query, and a deactivation, role change, sign-out or deletion takes effect on the very next request."""
import pytest
from sqlalchemy import event

from tests.conftest import dispose, login, make_settings, migrate_app

PROBE = "/_dash-layout"  # no Dash here: 404 for a signed-in request (past the guard), 401 otherwise


@pytest.fixture
def prod(fresh_pg_url, redis_url, tmp_path):
    from app.server import create_server

    server = create_server(make_settings(tmp_path, database_url=fresh_pg_url, redis_url=redis_url))
    migrate_app(server)
    yield server
    dispose(server)


@pytest.fixture
def users(prod):
    from app.auth.users import create_user

    with prod.app_context():
        admin = create_user("boss@example.com", "correct-horse-battery", role="admin").id
        ann = create_user("ann@example.com", "correct-horse-battery", role="trader").id
    return admin, ann


class SessionQueries:
    """Counts statements that touch user_sessions or users on the server's engine."""

    def __init__(self, server):
        from app.extensions import db

        with server.app_context():
            self.engine = db.engine
        self.n = 0
        event.listen(self.engine, "before_cursor_execute", self._on)

    def _on(self, conn, cursor, statement, *args):
        if "user_sessions" in statement or " users" in statement:
            self.n += 1

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._on)


def _signed_in(prod, email="ann@example.com"):
    client = prod.test_client()
    assert login(client, email).status_code == 302
    assert client.get(PROBE).status_code == 404
    return client


def test_a_checked_session_costs_no_query_and_its_user_is_whole(prod, users):
    client = _signed_in(prod)
    queries = SessionQueries(prod)
    try:
        for _ in range(5):
            assert client.get(PROBE).status_code == 404
    finally:
        queries.close()
    assert queries.n == 0
    import app.hot as hot
    from app.auth.sessions import token_digest

    with client.session_transaction() as sess:
        token = sess["_user_id"]
    with prod.app_context():
        doc = hot.session_cache().read(token_digest(token))
    assert doc["email"] == "ann@example.com" and doc["role"] == "trader" and doc["seen"].tzinfo is not None
    assert "password" not in str(doc) and token not in str(doc)


@pytest.mark.parametrize("change", ["deactivate", "role", "password", "delete"])
def test_revocation_takes_effect_on_the_next_request(prod, users, change):
    from app.auth import users as accounts
    from app.extensions import db
    from app.models.user import User

    admin_id, ann_id = users
    client = _signed_in(prod)
    assert client.get(PROBE).status_code == 404  # now cached
    with prod.app_context():
        admin = db.session.get(User, admin_id)
        if change == "deactivate":
            accounts.deactivate_user(ann_id, admin)
        elif change == "role":
            accounts.set_role(ann_id, "viewer", admin)
        elif change == "password":
            accounts.change_password(ann_id, "another-long-passphrase-9", acting=admin)
        else:
            accounts.delete_user(ann_id, admin)
    assert client.get(PROBE).status_code == 401


def test_sign_out_ends_the_cached_session_at_once(prod, users):
    from tests.conftest import logout

    client = _signed_in(prod)
    with client.session_transaction() as sess:
        saved = dict(sess)
    logout(client)
    with client.session_transaction() as sess:  # a copied cookie replayed after sign-out
        sess.update(saved)
    assert client.get(PROBE).status_code == 401


def test_a_stale_entry_written_by_a_racing_read_is_not_served(prod, users):
    """An entry carrying the version from before a revocation (a check that read the row just before the
    revoking commit) never counts."""
    import app.hot as hot
    from app.auth.sessions import revoke_all_sessions, token_digest
    from app.models.user import utcnow

    admin_id, ann_id = users
    client = _signed_in(prod)
    with client.session_transaction() as sess:
        digest = token_digest(sess["_user_id"])
    with prod.app_context():
        from app.extensions import db

        cache = hot.session_cache()
        before = cache.version(ann_id)
        revoke_all_sessions(ann_id)
        db.session.commit()
        cache.write(digest, user_id=ann_id, email="ann@example.com", role="trader", active=True, seen=utcnow(),
                    version=before)
        assert cache.read(digest) is None
    assert client.get(PROBE).status_code == 401
