"""Logs captured while people sign in and post forms: JSON lines with request ids, and no password in them."""
from __future__ import annotations

import io
import json
import logging

import pytest

from app.ops.logs import make_handler
from app.settings import Settings
from tests.conftest import migrate_app

PASSWORD = "S3cret-Passw0rd-never-logged"


@pytest.fixture
def captured(tmp_path):
    """A production app (JSON logs) and every log line written while it serves, at DEBUG."""
    from app.server import create_server
    from app.auth.users import create_user

    app = create_server(Settings.from_env({"CANDLEWISE_ENV": "production", "SECRET_KEY": "q" * 32, "ALERTS_SECRET_KEY": "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=",
                                        "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
                                        "MODEL_DIR": str(tmp_path / "models")}))
    migrate_app(app)
    server = app

    @server.post("/profile-form")
    def profile_form():
        # a careless handler that logs the whole form and headers: redaction must still catch it
        from flask import request

        logging.getLogger("candlewise.test").info("profile form %s headers %s", request.form.to_dict(),
                                                  dict(request.headers))
        return "ok"

    from app.extensions import csrf

    csrf.exempt(profile_form)  # a form without a token: this test is about logging, not CSRF
    with server.app_context():
        user_id = create_user("ann@example.com", PASSWORD).id
    stream = io.StringIO()
    handler = make_handler(json_logs=True, stream=stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield server, stream, user_id
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_login_and_form_posts_never_log_the_password(captured):
    server, stream, user_id = captured
    from tests.conftest import form_token

    client = server.test_client()
    token = form_token(client.get("/login").get_data(as_text=True))
    # a failed and a successful sign-in, with the password in the form and in the query string
    assert client.post("/login", data={"email": "ann@example.com", "password": PASSWORD + "x",
                                       "csrf_token": token}).status_code == 401
    resp = client.post(f"/login?password={PASSWORD}", data={"email": "ann@example.com", "password": PASSWORD,
                                                            "csrf_token": token},
                       headers={"X-Request-ID": "login-req-1"})
    assert resp.status_code == 302 and resp.headers["X-Request-ID"] == "login-req-1"
    assert client.post("/profile-form", data={"display_name": "Ann", "new_password": PASSWORD,
                                              "api_token": PASSWORD},
                       headers={"Authorization": f"Bearer {PASSWORD}"}).data == b"ok"
    client.post("/_dash-update-component", json={"inputs": [{"id": "pw", "property": "value", "value": PASSWORD}]})
    text = stream.getvalue()
    assert text, "nothing was logged"
    assert PASSWORD not in text and PASSWORD[:12] not in text

    logged = lines(stream)  # every line is JSON
    requests = [r for r in logged if r["logger"] == "candlewise.request"]
    assert len(requests) >= 4
    for r in requests:
        assert r["request_id"] and isinstance(r["latency_ms"], float) and r["status"] and r["method"]
    login_ok = next(r for r in requests if r["request_id"] == "login-req-1")
    assert login_ok["user_id"] == str(user_id) and login_ok["path"] == "/login" and login_ok["status"] == 302
    assert login_ok["endpoint"] == "/login"
    form_line = next(r for r in logged if r["logger"] == "candlewise.test")
    assert "[REDACTED]" in form_line["message"] and "Ann" in form_line["message"]
    # lines logged inside a request carry its id and user
    assert form_line["request_id"] and form_line["user_id"] == str(user_id)


def test_request_ids_are_generated_and_unique_when_not_given(captured):
    server, stream, _ = captured
    client = server.test_client()
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
    logged = [r["request_id"] for r in lines(stream) if r["logger"] == "candlewise.request"]
    assert set(logged) == ids
    bad = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"]
    assert bad != "bad id <script>" and len(bad) == 32


def test_a_password_change_never_logs_either_password(captured):
    """The /account/password form carries the current and the new password: neither reaches a log line,
    when it is refused or accepted; the change itself is logged as a request with its id and user."""
    server, stream, user_id = captured
    from tests.conftest import form_token

    new = "Brand-new-Passphrase-also-never-logged"
    client = server.test_client()
    token = form_token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": "ann@example.com", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    token = form_token(client.get("/account/password").get_data(as_text=True))
    refused = client.post("/account/password", data={"current_password": PASSWORD, "new_password": new,
                                                      "confirm_password": new + "x", "csrf_token": token})
    assert refused.status_code == 400
    done = client.post("/account/password", data={"current_password": PASSWORD, "new_password": new,
                                                   "confirm_password": new, "csrf_token": token},
                       headers={"X-Request-ID": "pw-change-1"})
    assert done.status_code == 302
    text = stream.getvalue()
    for secret in (PASSWORD, new):
        assert secret not in text and secret[:12] not in text
    change = next(r for r in lines(stream) if r.get("request_id") == "pw-change-1" and r["logger"] == "candlewise.request")
    assert change["path"] == "/account/password" and change["status"] == 302 and change["user_id"] == str(user_id)
