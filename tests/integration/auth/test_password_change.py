"""The forced password change and ``/account/password``: a user given a one-time password by an admin
reaches nothing but the change form (pages redirect, Dash refuses) until they choose their own; the
change checks the current password, the policy and the repeat (each refusal names its field and
changes nothing), is CSRF-protected, audited, and ends every other session of the user."""
import json

import pytest
from sqlalchemy import select

from tests.conftest import form_token, login

pytestmark = pytest.mark.integration

STRONG = "plum-orbit-lantern-quietly-87"


def _change(client, current, new, confirm=None, next_=None, token=True):
    page = client.get("/account/password")
    data = {"current_password": current, "new_password": new, "confirm_password": new if confirm is None else confirm}
    if token:
        data["csrf_token"] = form_token(page.get_data(as_text=True))
    url = "/account/password" + (f"?next={next_}" if next_ else "")
    return client.post(url, data=data)


def _user(server, email):
    from app.extensions import db
    from app.models import User

    with server.app_context():
        user = db.session.scalar(select(User).filter_by(email=email))
        db.session.expunge(user)
        return user


def _audits(server, action):
    from app.extensions import db
    from app.models.audit import AuditEvent

    with server.app_context():
        return [(e.actor_email, e.target, e.after) for e in
                db.session.scalars(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id))]


def test_one_time_password_reaches_only_the_change_form_until_changed(dash_server, make_dash_user):
    from app.auth.users import create_with_password
    from app.extensions import db
    from app.models import User

    admin_email, admin_id = make_dash_user("boss", role="admin")
    email = f"new-{admin_id}@example.com"
    with dash_server.app_context():
        user, one_time = create_with_password(email, "trader", db.session.get(User, admin_id))
        assert user.must_change_password is True
    client = dash_server.test_client()
    assert login(client, email, one_time).status_code == 302

    resp = client.get("/signals")
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/password?next=%2Fsignals"
    assert client.get("/account/tokens").headers["Location"].startswith("/account/password")
    for url in ("/_dash-layout", "/_dash-dependencies"):
        resp = client.get(url)
        assert resp.status_code == 403 and resp.get_json()["change_password"] == "/account/password", url
    admin = dash_server.test_client()
    login(admin, admin_email)
    spec = admin.get("/_dash-dependencies").get_json()[0]
    resp = client.post("/_dash-update-component", data=json.dumps({"output": spec["output"], "inputs": [],
                                                                   "changedPropIds": []}),
                       content_type="application/json")
    assert resp.status_code == 403 and "Choose a new password" in resp.get_json()["error"]
    page = client.get("/account/password?next=%2Fsignals")
    assert page.status_code == 200 and 'id="password-forced"' in page.get_data(as_text=True)

    # bad input: each names its field and changes nothing
    for current, new, confirm, field, text in (
            ("wrong-one-time-pass", STRONG, STRONG, "current_password", "not your current password"),
            (one_time, STRONG, STRONG + "x", "confirm_password", "differ"),
            (one_time, "password123", "password123", "new_password", "password"),
            (one_time, "short", "short", "new_password", "at least 10 characters"),
            (one_time, one_time, one_time, "new_password", "different from the current"),
            ("", STRONG, STRONG, "current_password", "enter it")):
        resp = _change(client, current, new, confirm)
        body = resp.get_data(as_text=True)
        assert resp.status_code == 400 and f'data-field="{field}"' in body and text in body, (field, text, body[-900:])
    assert _change(client, one_time, STRONG, token=False).status_code == 400  # no CSRF token: refused
    still = _user(dash_server, email)
    assert still.must_change_password is True and still.check_password(one_time)
    assert [a for a in _audits(dash_server, "user.password_change") if a[1] == email] == []

    resp = _change(client, one_time, STRONG, next_="%2Fsignals")
    assert resp.status_code == 302 and resp.headers["Location"] == "/signals"
    assert client.get("/signals").status_code == 200 and client.get("/_dash-layout").status_code == 200
    done = _user(dash_server, email)
    assert done.must_change_password is False and done.password_changed_at.tzinfo is not None
    assert done.check_password(STRONG) and not done.check_password(one_time)
    row = [a for a in _audits(dash_server, "user.password_change") if a[1] == email]
    assert row == [(email, email, {"sessions_ended": 0, "was_one_time": True})]
    assert STRONG not in json.dumps(row) and one_time not in json.dumps(row)
    assert login(dash_server.test_client(), email, one_time).status_code == 401
    assert login(dash_server.test_client(), email, STRONG).status_code == 302


def test_reset_forces_a_change_and_the_change_ends_every_other_session(pg_app):
    from app.auth.users import create_user, reset_password
    from app.auth.sessions import live_sessions

    with pg_app.app_context():
        uid = create_user("t@example.com", "correct-horse-battery").id
    here, elsewhere = pg_app.test_client(), pg_app.test_client()
    for c in (here, elsewhere):
        assert login(c, "t@example.com").status_code == 302
    assert here.get("/account/tokens").status_code == 200  # a normal user is not sent anywhere
    assert _user(pg_app, "t@example.com").must_change_password is False

    # anyone may change their own password; the other browser is signed out, this one stays
    resp = _change(here, "correct-horse-battery", STRONG)
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert here.get("/account/tokens").status_code == 200
    assert elsewhere.get("/account/tokens").headers["Location"].startswith("/login")
    with pg_app.app_context():
        assert len(live_sessions(uid)) == 1
    assert _audits(pg_app, "user.password_change")[-1][2] == {"sessions_ended": 1, "was_one_time": False}

    with pg_app.app_context():
        _user_row, one_time = reset_password(uid, None)
    assert _user(pg_app, "t@example.com").must_change_password is True
    assert here.get("/account/tokens").headers["Location"].startswith("/login")  # the reset ended it
    assert login(here, "t@example.com", one_time).status_code == 302
    assert here.get("/account/tokens").headers["Location"] == "/account/password?next=%2Faccount%2Ftokens"
    assert here.post("/account/tokens", data={"name": "x"}).status_code == 403  # no write either
    assert _change(here, one_time, "another-sturdy-phrase-42").status_code == 302
    assert here.get("/account/tokens").status_code == 200
    assert _user(pg_app, "t@example.com").must_change_password is False
