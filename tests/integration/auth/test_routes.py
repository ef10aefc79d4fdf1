"""Login, logout, the request guard and rate limits, through the real Flask routes."""

import pytest

from tests.conftest import form_token, login, logout, make_settings, migrate_app


def test_login_success_sets_session_and_redirects(dash_client, make_dash_user):
    client = dash_client  # the page itself needs the Dash app
    email, _ = make_dash_user("ann")
    resp = login(client, email)
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").status_code == 200


def test_login_records_last_login(client, make_user, server):
    from app.extensions import db
    from app.models import User

    uid = make_user("ann@example.com")
    login(client, "ann@example.com")
    with server.app_context():
        assert db.session.get(User, uid).last_login_at is not None


def test_wrong_password_is_refused_with_message(client, make_user):
    make_user("ann@example.com")
    resp = login(client, "ann@example.com", "wrong-password!")
    assert resp.status_code == 401
    assert b"Wrong e-mail or password." in resp.data
    assert client.get("/").status_code == 302  # still logged out


def test_unknown_email_gets_the_same_message(client):
    resp = login(client, "nobody@example.com", "whatever-password")
    assert resp.status_code == 401 and b"Wrong e-mail or password." in resp.data


def test_malformed_form_gets_clear_message_not_a_stack_trace(client):
    token = form_token(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"email": "", "csrf_token": token})
    assert resp.status_code == 400
    assert b"Enter your e-mail and password." in resp.data
    resp = client.post("/login", data="garbage", content_type="application/json", headers={"X-CSRFToken": token})
    assert resp.status_code == 400 and b"Traceback" not in resp.data


def test_inactive_user_cannot_log_in(client, make_user):
    make_user("old@example.com", active=False)
    resp = login(client, "old@example.com")
    assert resp.status_code == 401
    assert b"deactivated" in resp.data
    assert client.get("/").status_code == 302


def test_logout_ends_the_session(client, make_user):
    make_user("ann@example.com")
    login(client, "ann@example.com")
    resp = logout(client)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302


def test_next_parameter_only_allows_local_paths(client, make_user):
    make_user("ann@example.com")
    resp = login(client, "ann@example.com", next="//evil.example.com/x")
    assert resp.headers["Location"] == "/"
    logout(client)
    resp = login(client, "ann@example.com", next="/admin")
    assert resp.headers["Location"] == "/admin"


@pytest.mark.parametrize("path", ["/", "/admin", "/market", "/metrics-not-here"])
def test_pages_redirect_to_login_when_anonymous(client, path):
    resp = client.get(path)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/_dash-update-component", "/_dash-layout", "/_dash-dependencies"])
def test_dash_endpoints_refuse_anonymous_with_401_json(client, path):
    resp = client.post(path, json={}) if path == "/_dash-update-component" else client.get(path)
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "authentication required"


def test_public_paths_stay_public(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200
    css = client.get("/theme/darkly.css")
    assert css.status_code == 200 and b"--bs-body-bg:#222" in css.data
    assert b"googleapis" not in css.data and b"@import" not in css.data  # nothing fetched from a CDN
    assert client.get("/theme/nope.css").status_code == 404
    icons = client.get("/theme/icons/bootstrap-icons.min.css")
    assert icons.status_code == 200 and b".bi-graph-up-arrow::before" in icons.data
    font = client.get("/theme/icons/fonts/bootstrap-icons.woff2")
    assert font.status_code == 200 and font.data[:4] == b"wOF2"
    assert client.get("/theme/icons/../../../settings.py").status_code == 404


def test_login_rate_limited_per_account(tmp_path, make_user_factory=None):
    from app.server import create_server

    app = create_server(make_settings(tmp_path, login_limit_account="3 per minute"))
    migrate_app(app)
    c = app.test_client()
    for _ in range(3):
        assert login(c, "victim@example.com", "bad-password-1").status_code == 401
    resp = login(c, "victim@example.com", "bad-password-1")
    assert resp.status_code == 429
    assert b"Too many failed sign-in attempts" in resp.data
    # another account from the same IP is not affected by the per-account limit
    assert login(c, "other@example.com", "bad-password-1").status_code == 401


def test_login_rate_limited_per_ip(tmp_path):
    from app.server import create_server

    app = create_server(make_settings(tmp_path, login_limit_ip="4 per minute"))
    migrate_app(app)
    c = app.test_client()
    for i in range(4):
        assert login(c, f"user{i}@example.com", "bad-password-1").status_code == 401
    refused = login(c, "fresh@example.com", "bad-password-1")
    assert refused.status_code == 429 and "from your network" in refused.get_data(as_text=True)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60  # when this minute's window lets it in again
    assert "X-RateLimit-Limit" not in refused.headers


def test_successful_logins_do_not_count_towards_the_limit(tmp_path):
    from app.server import create_server
    from app.auth.users import create_user

    app = create_server(make_settings(tmp_path, login_limit_account="2 per minute"))
    migrate_app(app)
    with app.app_context():
        create_user("ann@example.com", "correct-horse-battery")
    c = app.test_client()
    for _ in range(4):
        assert login(c, "ann@example.com").status_code == 302
        logout(c)


@pytest.mark.integration
def test_login_limits_are_stored_in_redis_in_production_mode(fresh_pg_url, redis_url):
    """With REDIS_URL set the counters live in Redis, so every web process shares them."""
    import redis

    from app.server import create_server

    app = create_server(make_settings(database_url=fresh_pg_url, redis_url=redis_url,
                                   login_limit_account="2 per minute"))
    migrate_app(app)
    c = app.test_client()
    assert login(c, "victim@example.com", "bad-password-1").status_code == 401
    keys = redis.Redis.from_url(redis_url).keys("*")
    from app.auth.throttle import account_digest

    digest = account_digest("victim@example.com").encode()
    assert any(b"cw:ratelimit" in k and b"login-account:" + digest in k for k in keys), keys
    other_process = create_server(make_settings(database_url=fresh_pg_url, redis_url=redis_url,
                                                login_limit_account="2 per minute")).test_client()
    assert login(other_process, "victim@example.com", "bad-password-1").status_code == 401
    assert login(c, "victim@example.com", "bad-password-1").status_code == 429


def test_production_cookies_are_secure(tmp_path):
    from app.server import create_server
    from app.auth.users import create_user
    from app.settings import Settings

    settings = Settings.from_env({"CANDLEWISE_ENV": "production", "SECRET_KEY": "p" * 32, "ALERTS_SECRET_KEY": "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=",
                                  "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    app = create_server(settings)
    migrate_app(app)
    with app.app_context():
        create_user("ann@example.com", "correct-horse-battery")
    resp = login(app.test_client(), "ann@example.com")
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
