"""Server-side sessions: idle expiry, last-seen writes at most once a minute, what the table stores."""
from datetime import timedelta

from tests.conftest import login


def _only_session(server, uid):
    from app.auth.sessions import live_sessions

    with server.app_context():
        rows = live_sessions(uid)
        assert len(rows) == 1
        return rows[0]


def test_the_table_stores_a_digest_not_the_cookie_token(client, make_user, server):
    uid = make_user("ann@example.com")
    client.environ_base["HTTP_USER_AGENT"] = "pytest-browser/1.0"
    assert login(client, "ann@example.com").status_code == 302
    row = _only_session(server, uid)
    with client.session_transaction() as sess:
        token = sess["_user_id"]
    from app.auth.sessions import token_digest

    assert row.id == token_digest(token) and token not in row.id
    assert (row.user_agent, row.ip) == ("pytest-browser/1.0", "127.0.0.1")
    assert row.created_at.tzinfo is not None and row.revoked_at is None


def test_last_seen_is_written_at_most_once_a_minute_and_idle_sessions_end(client, make_user, server):
    from app.auth.sessions import load_session_user
    from app.extensions import db
    from app.models import UserSession

    uid = make_user("ann@example.com")
    login(client, "ann@example.com")
    with client.session_transaction() as sess:
        token = sess["_user_id"]
    row = _only_session(server, uid)
    t0 = row.last_seen_at
    idle = timedelta(minutes=30)
    with server.test_request_context():
        assert load_session_user(token, idle_timeout=idle, now=t0 + timedelta(seconds=59)).id == uid
        assert db.session.get(UserSession, row.id).last_seen_at == t0
        assert load_session_user(token, idle_timeout=idle, now=t0 + timedelta(seconds=61)).id == uid
        db.session.expire_all()
        assert db.session.get(UserSession, row.id).last_seen_at == t0 + timedelta(seconds=61)
        # 31 idle minutes later the session is over, and stays over
        late = t0 + timedelta(seconds=61) + timedelta(minutes=31)
        assert load_session_user(token, idle_timeout=idle, now=late) is None
        assert load_session_user(token, idle_timeout=idle, now=t0 + timedelta(seconds=62)) is None
        assert db.session.get(UserSession, row.id).revoked_at is not None
        assert load_session_user("x" * 500, idle_timeout=idle) is None and load_session_user(None, idle_timeout=idle) is None


def test_role_change_ends_sessions_and_cli_prunes_old_rows(client, make_user, server):
    from app.auth.users import set_role
    from app.extensions import db
    from app.models import User, UserSession

    admin = make_user("boss@example.com", role="admin")
    uid = make_user("ann@example.com")
    login(client, "ann@example.com")
    with server.app_context():
        set_role(uid, "admin", db.session.get(User, admin))
    assert client.get("/").status_code == 302
    result = server.test_cli_runner().invoke(args=["users", "prune-sessions", "--days", "1"])
    assert result.exit_code == 0 and "deleted 0 old session rows" in result.output
    with server.app_context():
        row = db.session.scalar(db.select(UserSession).filter_by(user_id=uid))
        row.revoked_at = row.revoked_at - timedelta(days=2)
        db.session.commit()
    result = server.test_cli_runner().invoke(args=["users", "prune-sessions", "--days", "1"])
    assert "deleted 1 old session rows" in result.output


def test_cli_set_password_and_activate(dash_server, dash_client, make_dash_user):
    server, client = dash_server, dash_client  # the page itself needs the Dash app
    ann, _ = make_dash_user("ann")
    login(client, ann)
    runner = server.test_cli_runner()
    weak = runner.invoke(args=["users", "set-password", ann, "--password", "1234567890"])
    assert weak.exit_code != 0 and "too easy to guess" in weak.output
    assert client.get("/").status_code == 200  # nothing changed
    ok = runner.invoke(args=["users", "set-password", ann, "--password", "a-brand-new-passphrase"])
    assert ok.exit_code == 0 and "every session ended" in ok.output
    assert client.get("/").status_code == 302
    assert runner.invoke(args=["users", "deactivate", ann]).output.strip() == f"deactivated {ann}"
    assert "already inactive" in runner.invoke(args=["users", "deactivate", ann]).output
    assert runner.invoke(args=["users", "activate", ann]).output.strip() == f"activated {ann}"
    assert login(client, ann, "a-brand-new-passphrase").status_code == 302
