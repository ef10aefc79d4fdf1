"""Findings of the attacker's probe, each reproduced through the real routes (they failed before the fixes)."""
import hashlib
import json
import logging
import re
import time
import uuid
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from tests.conftest import layout_token, login, logout, make_settings, migrate_app

EMAIL = "ann@example.com"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def who():
    """Unique e-mails for tests that run on the session's shared Dash app (its database outlives a test)."""
    tag = uuid.uuid4().hex[:8]
    return SimpleNamespace(ann=f"ann-{tag}@example.com", bob=f"bob-{tag}@example.com",
                           boss=f"boss-{tag}@example.com")


@pytest.fixture
def web_user(dash_server):
    """``make_user`` on the shared Dash app: creates exactly the e-mail given (use ``who`` for uniqueness)."""
    from app.auth.users import create_user

    def _make(email: str, password: str = PASSWORD, role: str = "trader", active: bool = True) -> int:
        with dash_server.app_context():
            return create_user(email, password, role=role, active=active).id

    return _make


def _signed_in(client, make_user, role="trader", email=EMAIL) -> int:
    uid = make_user(email, role=role)
    assert login(client, email).status_code == 302
    return uid


def _browser_target(location: str) -> str:
    """What a browser makes of a Location header: it drops tab/CR/LF and treats backslash as slash."""
    return re.sub(r"[\t\n\r]", "", location).replace("\\", "/")


def _same_origin(location: str) -> bool:
    target = _browser_target(location)
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")


def _ping_payload():
    """A harmless callback request (the admin page's user list) for the guard and origin checks."""
    return {"output": "..admin-users.children...admin-mode.children..",
            "outputs": [{"id": "admin-users", "property": "children"}, {"id": "admin-mode", "property": "children"}],
            "inputs": [{"id": "admin-users", "property": "id", "value": "admin-users"}], "state": [],
            "changedPropIds": ["admin-users.id"]}


# -- 2. open redirect ---------------------------------------------------------------------------

EVIL_NEXT = ["/\t/evil.com", "/\n/evil.com", "/\r\n/evil.com", "\t//evil.com", " //evil.com", "/\\evil.com",
             "/\t\\evil.com", "https://evil.com/", "//evil.com", "javascript:alert(1)", "/\x00/evil.com",
             "\x1f//evil.com"]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_finding_2_open_redirect_tab_newline(client, make_user, target):
    make_user(EMAIL)
    resp = login(client, EMAIL, next=target)
    assert resp.status_code == 302
    assert _same_origin(resp.headers["Location"]), resp.headers["Location"]
    assert resp.headers["Location"] == "/"


def test_finding_2_open_redirect_when_already_signed_in(client, make_user):
    _signed_in(client, make_user)
    resp = client.get("/login?next=%2F%09%2Fevil.com")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_finding_2_local_targets_survive(client, make_user):
    make_user(EMAIL)
    resp = login(client, EMAIL, next="/signals?symbol=BTC%2FUSDT#top")
    assert resp.headers["Location"] == "/signals?symbol=BTC%2FUSDT#top"


# -- 3. sign-out ends the session ---------------------------------------------------------------

def _thief_with(server, cookie_value):
    thief = server.test_client()
    thief.set_cookie("session", cookie_value)
    return thief


def test_finding_3_copied_cookie_dies_at_logout(dash_client, web_user, dash_server, who):
    _signed_in(dash_client, web_user, email=who.ann)
    stolen = dash_client.get_cookie("session").value
    assert _thief_with(dash_server, stolen).get("/").status_code == 200  # the copy works while signed in
    resp = logout(dash_client)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    thief = _thief_with(dash_server, stolen)
    assert thief.get("/").status_code == 302
    assert thief.get("/_dash-layout").status_code == 401
    assert thief.post("/_dash-update-component", json=_ping_payload()).status_code == 401
    assert thief.get("/backtests/1/download/trades.csv").status_code == 302


def test_finding_3_sign_in_rotates_the_session_id(dash_client, web_user, dash_server, who):
    web_user(who.bob)
    _signed_in(dash_client, web_user, email=who.ann)
    first = dash_client.get_cookie("session").value
    assert login(dash_client, who.bob).status_code == 302
    second = dash_client.get_cookie("session").value
    assert second != first
    assert _thief_with(dash_server, first).get("/").status_code == 302  # the earlier session was ended
    assert dash_client.get("/").status_code == 200


def test_finding_3_deactivation_ends_every_session(dash_client, web_user, dash_server, who):
    from app.auth.users import deactivate_user
    from app.extensions import db
    from app.models import User

    admin_id = web_user(who.boss, role="admin")
    uid = web_user(who.ann)
    other = dash_server.test_client()
    assert login(dash_client, who.ann).status_code == 302 and login(other, who.ann).status_code == 302
    with dash_server.app_context():
        deactivate_user(uid, db.session.get(User, admin_id))
    assert dash_client.get("/").status_code == 302 and other.get("/_dash-layout").status_code == 401


def test_finding_3_password_change_ends_every_session(dash_client, web_user, dash_server, who):
    from app.auth.users import change_password

    uid = _signed_in(dash_client, web_user, email=who.ann)
    with dash_server.app_context():
        change_password(uid, "a-brand-new-long-passphrase")
    assert dash_client.get("/").status_code == 302
    assert login(dash_client, who.ann, "a-brand-new-long-passphrase").status_code == 302


def test_finding_3_session_check_costs_one_primary_key_lookup(dash_client, web_user, dash_server, who):
    from sqlalchemy import event

    from app.extensions import db

    _signed_in(dash_client, web_user, email=who.ann)
    dash_client.get("/")  # last-seen already fresh: no write on the next request
    statements = []
    with dash_server.app_context():
        engine = db.engine
    listener = lambda conn, cursor, stmt, *a: statements.append(stmt)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert dash_client.get("/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    queries = [s for s in statements if s.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK")]
    selects = [s for s in queries if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) == 1 and len(selects) == 1, statements
    assert "user_sessions.id = " in selects[0]


# -- 6. user enumeration by timing --------------------------------------------------------------

def test_finding_6_unknown_email_does_the_same_hashing_work(client, make_user, monkeypatch):
    make_user(EMAIL)
    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(kwargs.get("n"))
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    work = {}
    for who in (EMAIL, "nobody@example.com", "not-an-email"):
        calls.clear()
        assert login(client, who, "wrong-password-123").status_code == 401
        work[who] = list(calls)
    assert work[EMAIL] == work["nobody@example.com"] == work["not-an-email"]
    assert len(work[EMAIL]) == 1


def test_finding_6_unknown_email_takes_as_long_as_a_wrong_password(client, make_user):
    make_user(EMAIL)

    def timed(who):
        best = []
        for _ in range(3):
            t0 = time.perf_counter()
            assert login(client, who, "wrong-password-123").status_code == 401
            best.append(time.perf_counter() - t0)
        return sorted(best)[1]

    known, unknown = timed(EMAIL), timed("nobody@example.com")
    # scrypt dominates both; a shortcut for unknown e-mails was ~17x faster (14 ms vs 237 ms)
    assert unknown > 0.5 * known, (known, unknown)


# -- 7. lockout by anyone -----------------------------------------------------------------------

def _wait_seconds(resp) -> int:
    m = re.search(r"Try again in (\d+) s", resp.get_data(as_text=True))
    assert m, resp.get_data(as_text=True)
    return int(m.group(1))


def _client_from(app, ip):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_finding_7_attacker_cannot_lock_the_owner_out(tmp_path):
    from app.server import create_server
    from app.auth.users import create_user

    app = create_server(make_settings(tmp_path, login_limit_account="3 per minute", login_delay_max_s=60))
    migrate_app(app)
    with app.app_context():
        create_user(EMAIL, PASSWORD)
    owner_laptop = _client_from(app, "192.0.2.10")
    assert login(owner_laptop, EMAIL).status_code == 302  # a browser the owner has used before
    assert logout(owner_laptop).status_code == 302

    attacker = _client_from(app, "203.0.113.7")
    for _ in range(3):  # the free failures; the third sets a 1 s delay
        assert login(attacker, EMAIL, "guess-password-1").status_code == 401
    for expected_delay in (1, 2):  # each guess after a delay doubles it: 2 s, then 4 s
        refused = login(attacker, EMAIL, "guess-password-2")
        assert refused.status_code == 429 and _wait_seconds(refused) <= expected_delay
        time.sleep(expected_delay + 0.1)
        assert login(attacker, EMAIL, "guess-password-2").status_code == 401
    for _ in range(5):  # guesses inside the delay are refused at once, without checking the password
        refused = login(attacker, EMAIL, "guess-password-3")
        assert refused.status_code == 429 and 2 <= _wait_seconds(refused) <= 4

    # the owner's known browser and a new browser on another network get in at once
    assert login(owner_laptop, EMAIL).status_code == 302
    assert login(_client_from(app, "198.51.100.20"), EMAIL).status_code == 302

    # a new browser on the attacker's own network gets in after the stated delay; the attacker's
    # guesses meanwhile do not extend it
    same_network = _client_from(app, "203.0.113.7")
    refused = login(same_network, EMAIL)
    assert refused.status_code == 429
    wait = _wait_seconds(refused)
    assert 1 <= wait <= 4 and int(refused.headers["Retry-After"]) >= wait
    for _ in range(3):
        assert login(attacker, EMAIL, "guess-password-4").status_code == 429
    time.sleep(wait + 0.1)
    assert login(same_network, EMAIL).status_code == 302
    # and the attacker's wrong guesses still fail, now with an 8 s delay
    assert login(attacker, EMAIL, "guess-password-5").status_code == 401
    refused = login(attacker, EMAIL, "guess-password-6")
    assert refused.status_code == 429 and 4 < _wait_seconds(refused) <= 8


def test_finding_7_guesses_spread_over_many_networks_hit_the_account_budget(tmp_path):
    from app.server import create_server
    from app.auth.users import create_user

    app = create_server(make_settings(tmp_path, login_limit_account="3 per minute",
                                   login_limit_account_total="4 per minute"))
    migrate_app(app)
    with app.app_context():
        create_user(EMAIL, PASSWORD)
    owner_laptop = _client_from(app, "192.0.2.10")
    assert login(owner_laptop, EMAIL).status_code == 302
    for i in range(4):
        assert login(_client_from(app, f"203.0.113.{i + 1}"), EMAIL, "guess-password-1").status_code == 401
    refused = login(_client_from(app, "203.0.113.99"), EMAIL, "guess-password-1")
    assert refused.status_code == 429 and b"browser you have used before" in refused.data
    assert login(_client_from(app, "198.51.100.20"), EMAIL).status_code == 429  # new browsers wait for the window
    assert login(owner_laptop, EMAIL).status_code == 302  # the owner's known browser does not


# -- 8. CSRF --------------------------------------------------------------------------------------

def test_finding_8_login_without_csrf_token_is_refused(client, make_user):
    make_user(EMAIL)
    resp = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert resp.status_code == 400 and b"form has expired" in resp.data
    assert client.get("/").status_code == 302  # not signed in


def test_finding_8_cross_site_login_post_is_refused(client, make_user):
    make_user(EMAIL)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"email": EMAIL, "password": PASSWORD, **({"csrf_token": token.group(1)} if token else {})}
    resp = client.post("/login", data=data, headers={"Origin": "https://evil.example"})
    assert resp.status_code == 403 and b"cross-site" in resp.data
    assert client.get("/").status_code == 302


def test_finding_8_get_logout_does_not_sign_out(dash_client, web_user, who):
    _signed_in(dash_client, web_user, email=who.ann)
    assert dash_client.get("/logout").status_code == 405
    assert dash_client.get("/").status_code == 200
    # a POST without the token is refused too
    assert dash_client.post("/logout").status_code == 400
    assert dash_client.get("/").status_code == 200


def test_finding_8_foreign_origin_callback_is_refused(dash_client, web_user, who):
    _signed_in(dash_client, web_user, role="admin", email=who.ann)
    evil = dash_client.post("/_dash-update-component", json=_ping_payload(), headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "cross-site" in evil.get_data(as_text=True)
    referer = dash_client.post("/_dash-update-component", json=_ping_payload(),
                          headers={"Referer": "https://evil.example/page"})
    assert referer.status_code == 403
    null = dash_client.post("/_dash-update-component", json=_ping_payload(), headers={"Origin": "null"})
    assert null.status_code == 403
    same = dash_client.post("/_dash-update-component", json=_ping_payload(), headers={"Origin": "http://localhost"})
    assert same.status_code == 200


# -- 9. non-ASCII symbols break downloads --------------------------------------------------------

def test_finding_9_download_name_of_a_non_ascii_symbol(app, client, make_user):
    """A run stored with a look-alike symbol (before symbols were ASCII-only) still downloads."""
    from app.extensions import db
    from workers.backtests import submit
    from app.market.seed import seed_demo
    from app.models import Backtest
    from workers.queues import runner

    uid = _signed_in(client, make_user)
    with app.app_context():
        seed_demo(db.session.connection(), app.config["CW_SETTINGS"])
        db.session.commit()
        sub = submit(db.session, uid, {"symbols": ["BTC/USDT"], "timeframe": "1h", "start": "2000-01-01",
                                               "end": "2100-01-01", "strategy": "rsi_reversion",
                                               "params": {"length": "14"}})
        runner().wait(60)
        db.session.rollback()
        row = db.session.get(Backtest, sub.ids[0])
        assert row.status == "finished"
        row.symbol = "ВТС/USDT"
        db.session.commit()
    for name in ("trades.csv", "result.json", "report.xlsx", "tearsheet.html"):
        resp = client.get(f"/backtests/{sub.ids[0]}/download/{name}")
        assert resp.status_code == 200, name
        disposition = resp.headers["Content-Disposition"]
        disposition.encode("latin-1")  # a valid header value
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''" in disposition and "%D0%92%D0%A2%D0%A1USDT" in disposition
        fallback = re.search(r'filename="?([^";]+)"?', disposition).group(1)
        assert fallback.isascii() and fallback.endswith(name)


# -- 12. hardening headers and limits -------------------------------------------------------------

def test_finding_12_large_callback_payload_is_refused(dash_client, web_user, who):
    _signed_in(dash_client, web_user, email=who.ann)
    big = json.dumps({**_ping_payload(), "state": [{"id": "x", "property": "data", "value": "A" * 10_000_000}]})
    resp = dash_client.post("/_dash-update-component", data=big, content_type="application/json")
    assert resp.status_code == 413
    assert b"A" * 1000 not in resp.data


@pytest.mark.parametrize("path", ["/login", "/", "/_dash-layout", "/theme/darkly.css", "/healthz"])
def test_finding_12_security_headers(dash_client, web_user, path, who):
    if path != "/login":
        _signed_in(dash_client, web_user, email=who.ann)
    resp = dash_client.get(path)
    assert resp.status_code == 200
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] in ("DENY", "SAMEORIGIN")
    csp = resp.headers["Content-Security-Policy"]
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert directives["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == "'none'" and "default-src" in directives
    assert resp.headers["Referrer-Policy"]


def test_finding_12_dash_index_inline_scripts_are_allowed_by_hash(dash_client, web_user, who):
    _signed_in(dash_client, web_user, email=who.ann)
    resp = dash_client.get("/")
    html = re.sub(r"<!--.*?-->", "", resp.get_data(as_text=True), flags=re.S)  # (IE-only conditional comment)
    script_src = [d for d in resp.headers["Content-Security-Policy"].split(";") if d.strip().startswith("script-src")][0]
    import base64

    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", html, re.S)
    assert inline
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src


@pytest.mark.parametrize("path", ["/theme/anything", "/theme/", "/theme/icons/", "/theme/icons/nope.css",
                                  "/assets/nope.js", "/_dash-component-suites/nope/x.js"])
def test_finding_12_unknown_public_paths_are_404_for_anonymous(dash_client, path, who):
    resp = dash_client.get(path)
    assert resp.status_code == 404
    assert b"_dash-renderer" not in resp.data and b"<!DOCTYPE html>" not in resp.data


@pytest.mark.parametrize("path", ["/_dash-component-suites/../app/settings.py",
                                  "/_dash-component-suites/dash/../../app/settings.py"])
def test_finding_12_component_suite_traversal_is_a_quiet_404(dash_client, caplog, path, who):
    with caplog.at_level(logging.ERROR):
        resp = dash_client.get(path)
    assert resp.status_code == 404
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert b"Traceback" not in resp.data


# -- 13. idempotent admin actions and the password policy ----------------------------------------

def _admin_action_payload(dash_client, action, target_id):
    deps = dash_client.get("/_dash-dependencies").get_json()
    spec = next(d for d in deps if "admin-users-msg.children" in d["output"])
    outs = []
    for part in spec["output"].strip(".").split("..."):
        cid, prop = part.rsplit(".", 1)
        outs.append({"id": cid, "property": prop})
    inputs = []
    changed = None
    for dep in spec["inputs"]:
        kind = json.loads(dep["id"])["type"]
        if kind == f"admin-user-{action}":
            inputs.append([{"id": {"type": kind, "index": target_id}, "property": "n_clicks", "value": 1}])
            changed = json.dumps({"index": target_id, "type": kind}, separators=(",", ":")) + ".n_clicks"
        else:
            inputs.append([])
    assert changed, f"no admin-user-{action} input in {spec['inputs']}"
    return {"output": spec["output"], "outputs": outs, "state": [], "inputs": inputs, "changedPropIds": [changed]}


def test_finding_13_replayed_deactivate_stays_deactivated(dash_client, web_user, dash_server, who):
    from app.extensions import db
    from app.models import User

    web_user(who.boss, role="admin")
    tid = web_user(who.ann)
    login(dash_client, who.boss)
    payload = _admin_action_payload(dash_client, "deactivate", tid)
    for _ in range(3):  # the original click and two replays
        resp = dash_client.post("/_dash-update-component", json=payload)
        assert resp.status_code == 200
        with dash_server.app_context():
            assert db.session.get(User, tid).active is False
    activate = _admin_action_payload(dash_client, "activate", tid)
    for _ in range(2):
        assert dash_client.post("/_dash-update-component", json=activate).status_code == 200
        with dash_server.app_context():
            assert db.session.get(User, tid).active is True


@pytest.mark.parametrize("password", [" " * 10, "1234567890", "qwertyuiop", "password123", "aaaaaaaaaaaa",
                                      "ann@example.com!"])
def test_finding_13_weak_passwords_are_refused_by_the_cli(server, password):
    runner = server.test_cli_runner()
    result = runner.invoke(args=["users", "create", EMAIL, "--password", password])
    assert result.exit_code != 0 and "password" in result.output.lower(), result.output
    listing = runner.invoke(args=["users", "list"])
    assert EMAIL not in listing.output
