"""Personal API tokens end to end on PostgreSQL: the page, the CLI, bearer auth, scopes, rate limits."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import dispose, form_token, login, make_settings, migrate_app
from tests.integration.api.conftest import bearer

pytestmark = pytest.mark.integration


def _create_on_page(client, name="notebook", scopes=("read",), days="30"):
    page = client.get("/account/tokens")
    assert page.status_code == 200
    data = {"csrf_token": form_token(page.get_data(as_text=True)), "name": name, "expires_days": days,
            "scopes": list(scopes)}
    return client.post("/account/tokens", data=data)


def test_page_shows_token_once_and_stores_only_its_hash(api_app, api, make_token):
    from app.auth.tokens import digest
    from app.extensions import db
    from app.models.api_token import ApiToken

    _tok, _uid, _ = make_token(email="ann@example.com")
    assert login(api, "ann@example.com").status_code == 302
    created = _create_on_page(api, scopes=("read", "trade"))
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="token-value"[^>]*>(cw_[A-Za-z0-9_-]+)<', created.get_data(as_text=True)).group(1)
    listing = api.get("/account/tokens").get_data(as_text=True)
    assert token not in listing and token[:10] in listing and "notebook" in listing
    with api_app.app_context():
        row = db.session.scalar(db.select(ApiToken).filter_by(name="notebook"))
        assert row.token_hash == digest(token) and row.scopes == "read trade"
        assert token not in {c for c in (row.token_hash, row.prefix, row.name)}
    me = api.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.get_json()["scopes"] == ["read", "trade"]


def test_page_refuses_scope_above_role_and_bad_fields_writing_nothing(api_app, api, make_token):
    from app.extensions import db
    from app.models.api_token import ApiToken

    make_token(role="viewer", email="vera@example.com")
    login(api, "vera@example.com")
    refused = _create_on_page(api, name="bot", scopes=("read", "trade"))
    assert refused.status_code == 400 and "cannot hold the &#39;trade&#39; scope" in refused.get_data(as_text=True)
    bad_days = _create_on_page(api, name="bot", days="9999")
    assert bad_days.status_code == 400 and "expires_days must be between 1 and 366" in bad_days.get_data(as_text=True)
    no_name = _create_on_page(api, name="  ")
    assert no_name.status_code == 400 and "name is required" in no_name.get_data(as_text=True)
    with api_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ApiToken).filter_by(name="bot")) == 0


def test_page_needs_csrf_token(api, make_token):
    make_token(email="carl@example.com")
    login(api, "carl@example.com")
    resp = api.post("/account/tokens", data={"name": "x", "scopes": ["read"]})
    assert resp.status_code == 400  # Flask-WTF refuses the form without its token


def test_revoke_on_page_ends_the_token(api, make_token):
    token, _uid, token_id = make_token(email="rita@example.com")
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 200
    login(api, "rita@example.com")
    page = api.get("/account/tokens").get_data(as_text=True)
    resp = api.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": form_token(page)})
    assert resp.status_code == 302
    gone = api.get("/api/v1/me", headers=bearer(token))
    assert gone.status_code == 401 and gone.mimetype == "application/problem+json"
    assert "revoked" in api.get("/account/tokens").get_data(as_text=True)


def test_cannot_revoke_another_users_token(api, make_token):
    token, _uid, token_id = make_token()
    make_token(email="mallory@example.com")
    login(api, "mallory@example.com")
    page = api.get("/account/tokens").get_data(as_text=True)
    assert api.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": form_token(page)}).status_code == 404
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer cw_not-a-real-token", "Basic dXNlcjpwYXNz", "cw_x"])
def test_missing_or_invalid_token_is_401_problem(api, header):
    resp = api.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    body = resp.get_json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and body["type"] == "about:blank"


def test_expired_token_is_401(api_app, api, make_token):
    from app.extensions import db
    from app.models.api_token import ApiToken
    from app.models.user import utcnow

    token, _uid, token_id = make_token()
    with api_app.app_context():
        db.session.get(ApiToken, token_id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_last_use_is_recorded(api_app, api, make_token):
    from app.extensions import db
    from app.models.api_token import ApiToken

    token, _uid, token_id = make_token()
    with api_app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at is None
    api.get("/api/v1/me", headers=bearer(token))
    with api_app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at is not None


def test_session_cookie_is_not_accepted_on_the_api(api, make_token):
    make_token(email="sam@example.com")
    assert login(api, "sam@example.com").status_code == 302
    assert api.get("/account/tokens").status_code == 200  # the session works on the site
    refused = api.get("/api/v1/me")
    assert refused.status_code == 401  # but not on the API
    token, _uid, _ = make_token(email="sam@example.com")
    answered = api.get("/api/v1/me", headers=bearer(token))
    assert answered.status_code == 200
    for resp in (refused, answered):  # nor is one set or varied on there
        assert "Set-Cookie" not in resp.headers and "Cookie" not in resp.headers.get("Vary", "")


def test_token_is_not_accepted_on_site_routes(api, make_token):
    token, _uid, _ = make_token()
    resp = api.get("/account/tokens", headers=bearer(token))
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_demoted_user_loses_trade_scope(api_app, api, make_token):
    from app.extensions import db
    from app.models.user import User

    token, uid, _ = make_token(role="trader", scopes=("read", "trade"))
    assert api.get("/api/v1/me", headers=bearer(token)).get_json()["scopes"] == ["read", "trade"]
    with api_app.app_context():
        db.session.get(User, uid).role = "viewer"
        db.session.commit()
    assert api.get("/api/v1/me", headers=bearer(token)).get_json()["scopes"] == ["read"]


def test_deactivated_user_token_is_401(api_app, api, make_token):
    from app.extensions import db
    from app.models.user import User

    token, uid, _ = make_token()
    with api_app.app_context():
        db.session.get(User, uid).active = False
        db.session.commit()
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_token_is_401_while_a_one_time_password_awaits_its_change(api_app, api, make_token):
    from app.extensions import db
    from app.models.user import User

    token, uid, _ = make_token()
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 200
    with api_app.app_context():
        db.session.get(User, uid).must_change_password = True   # what an admin's reset sets
        db.session.commit()
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401
    with api_app.app_context():
        db.session.get(User, uid).must_change_password = False  # the user chose their own password
        db.session.commit()
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_cli_create_list_revoke(api_app, api, make_token):
    _t, _u, _ = make_token(email="cli@example.com", role="admin")
    runner = api_app.test_cli_runner()
    out = runner.invoke(args=["tokens", "create", "cli@example.com", "--name", "cron", "--scope", "read",
                              "--scope", "admin", "--days", "7"])
    assert out.exit_code == 0, out.output
    token = out.output.strip().splitlines()[-1]
    assert token.startswith("cw_")
    assert api.get("/api/v1/me", headers=bearer(token)).get_json()["scopes"] == ["read", "admin"]
    listing = runner.invoke(args=["tokens", "list", "cli@example.com"]).output
    assert "cron" in listing and token not in listing
    token_id = int(out.output.split()[2])
    assert runner.invoke(args=["tokens", "revoke", "cli@example.com", str(token_id)]).exit_code == 0
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401
    refused = runner.invoke(args=["tokens", "create", "cli@example.com", "--name", "x", "--scope", "root"])
    assert refused.exit_code != 0 and "unknown scope 'root'" in refused.output


def test_rate_limit_per_token_with_headers_and_retry_after(fresh_pg_url, redis_url):
    import uuid

    from app.auth.tokens import create_token
    from app.auth.users import create_user
    from app.extensions import db
    from app.server import create_server

    server = create_server(make_settings(database_url=fresh_pg_url, redis_url=redis_url, api_rate_limit="3 per minute",
                                         redis_prefix=f"cwrl{uuid.uuid4().hex[:6]}"))
    migrate_app(server)
    try:
        with server.app_context():
            user = create_user("rl@example.com", "correct-horse-battery")
            _r1, first = create_token(db.session, user, "a", ["read"], 1)
            _r2, second = create_token(db.session, user, "b", ["read"], 1)
        client = server.test_client()
        seen = [client.get("/api/v1/me", headers=bearer(first)) for _ in range(4)]
        assert [r.status_code for r in seen] == [200, 200, 200, 429]
        assert seen[0].headers["X-RateLimit-Limit"] == "3" and seen[1].headers["X-RateLimit-Remaining"] == "1"
        limited = seen[-1]
        assert limited.mimetype == "application/problem+json" and int(limited.headers["Retry-After"]) > 0
        assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200  # its own bucket
    finally:
        dispose(server)


def test_tokens_never_reach_the_logs(api, make_token, caplog):
    import logging

    token, _uid, _ = make_token()
    with caplog.at_level(logging.DEBUG):
        api.get("/api/v1/me", headers=bearer(token))
        api.get("/api/v1/me", headers=bearer(token + "x"))
    assert token not in caplog.text and token[3:20] not in caplog.text
