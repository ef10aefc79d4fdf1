"""app/api/v1/sessionless.py: the API neither reads nor sets the session cookie, also when an API call is
the first request a fresh web process (Dash pages included) serves."""
from __future__ import annotations

import pytest

from tests.conftest import dispose, login, make_settings, migrate_app
from tests.integration.api.conftest import bearer

pytestmark = pytest.mark.integration


@pytest.fixture
def fresh_web(tmp_path):
    """A new Dash app that has served no request yet (Dash builds its layout on the first one)."""
    from app import create_app
    from app.auth.tokens import create_token
    from app.auth.users import create_user
    from app.extensions import db

    web = create_app(make_settings(tmp_path, demo_days=1, refresh_ms=60_000))
    migrate_app(web.server)
    with web.server.app_context():
        user = create_user("nia@example.com", "correct-horse-battery")
        _row, token = create_token(db.session, user, "notebook", ["read"], 30)
    yield web.server, token
    dispose(web.server)


def _no_cookie(resp) -> bool:
    return "Set-Cookie" not in resp.headers and "Cookie" not in resp.headers.get("Vary", "")


def test_an_api_call_as_a_processs_first_request_sets_no_cookie(fresh_web):
    server, token = fresh_web
    client = server.test_client()
    first = client.get("/api/v1/me", headers=bearer(token))
    assert first.status_code == 200 and first.get_json()["email"] == "nia@example.com"
    assert _no_cookie(first), first.headers  # before: session={"csrf_token": ...} from Dash's first layout
    assert client.get_cookie("session") is None
    page = client.get("/login")  # the site's own session is as before
    assert page.status_code == 200 and "session=" in page.headers.get("Set-Cookie", "")


def test_a_signed_in_session_cookie_is_not_read_on_the_api(fresh_web):
    server, token = fresh_web
    client = server.test_client()
    assert login(client, "nia@example.com").status_code == 302
    assert client.get_cookie("session") is not None
    assert client.get("/account/tokens").status_code == 200  # signed in on the site
    without = client.get("/api/v1/me")
    assert without.status_code == 401 and _no_cookie(without)
    with_token = client.get("/api/v1/me", headers=bearer(token))
    assert with_token.status_code == 200 and _no_cookie(with_token)
    assert client.get("/account/tokens").status_code == 200  # and the API left the site's session alone
