"""Who may call what: every callback from ``/_dash-dependencies`` and every route of ``url_map``.

Callbacks are classified from their own code: a callback that calls ``require_admin()`` is an
admin action, one that calls ``require_writer()`` a write action, and every other callback must be
listed in ``READ_CALLBACKS`` (open to any signed-in user, viewers included). A callback added later
that is none of these fails ``test_every_callback_is_classified`` until someone decides.
"""
from __future__ import annotations

import json

import pytest

from tests.security.callback_requests import UPDATE, body

# Read-only callbacks: they show the signed-in user's own or shared data and change nothing.
READ_CALLBACKS = {
    "callbacks.backtests.render_params", "callbacks.backtests.toggle_walk_forward", "callbacks.backtests.poll",
    "callbacks.backtests.open_from_history", "callbacks.backtests.show_result", "callbacks.backtests.compare",
    "callbacks.market.update_tickers", "callbacks.market.update_chart", "callbacks.market.show_charts",
    # saves the signed-in user's own chart layout (viewers included): their own row, nothing anyone else sees
    "callbacks.market.save_layout",
    # the data's age per chart and the exchanges' breaker states (one Redis read; no database, changes nothing)
    "callbacks.market_feed.feed_status",
    "callbacks.signals.update_overview", "callbacks.signals.select_symbol", "callbacks.signals.update_detail",
    "callbacks.signals.update_quality", "callbacks.signals.show_lstm",
    "callbacks.alerts.kind_changed", "callbacks.alerts.show_preview", "callbacks.alerts.list_rules",
    "callbacks.alerts.load_settings", "callbacks.alerts.bell",
    # marks the signed-in user's own notifications read (viewers included); changes nothing else
    "callbacks.alerts.list_events",
    # the user's own holdings, transactions, exports, paper fills and orders (reconcile re-runs the backtest
    # over stored bars and compares; it stores nothing)
    "callbacks.portfolio.refresh", "callbacks.portfolio.load_selected", "callbacks.portfolio.export",
    "callbacks.portfolio.show_fills", "callbacks.portfolio.reconcile", "callbacks.portfolio.refresh_orders",
    "dash.dash.Dash.enable_pages.<locals>.router_sync.<locals>.update",  # Dash's own page router
}

# Every Flask route: who may reach it. "public" = anyone (its own checks apply, e.g. /metrics);
# "signed-in" = any active user; "admin" = admins only.
ROUTES = {
    "/": "signed-in", "/<path:path>": "signed-in", "/market": "signed-in",
    "/_dash-layout": "signed-in", "/_dash-dependencies": "signed-in", "/_dash-update-component": "signed-in",
    "/_reload-hash": "signed-in", "/backtests/<int:backtest_id>/download/<name>": "signed-in",
    "/logout": "signed-in",
    "/login": "public", "/healthz": "public", "/readyz": "public", "/metrics": "public", "/_favicon.ico": "public",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": "public",
    "/assets/<path:filename>": "public", "/theme/<name>.css": "public", "/theme/icons/<path:filename>": "public",
}
SAMPLE_ARGS = {"path": "signals", "backtest_id": 1, "name": "trades.csv", "package_name": "dash",
               "fingerprinted_path": "dash.js", "filename": "x.css"}

# The shell and the Admin page's sections.
READ_CALLBACKS |= {
    "callbacks.shell.refresh_stop_banner",  # the emergency-stop banner every signed-in user sees
    "callbacks.shell.refresh_degraded_banner",  # the degraded-mode banner (Redis unreachable), read-only
}
ROUTES |= {
    "/admin/audit.csv": "admin",  # the audit log's CSV export (app.api.audit re-checks the role)
}

# The REST API: "token" = a bearer token only (no session cookie, no anonymous caller); its scopes and
# roles are tested in tests/integration/api. Its description and docs page are public; the token page is
# a signed-in Flask page.
ROUTES |= {
    "/api/v1/me": "token", "/api/v1/markets": "token", "/api/v1/markets/tickers": "token",
    "/api/v1/candles": "token", "/api/v1/signals": "token", "/api/v1/signals/history": "token",
    "/api/v1/predictions": "token", "/api/v1/backtests": "token",
    "/api/v1/backtests/<int(min=1, max=2147483647):backtest_id>": "token",
    "/api/v1/backtests/<int(min=1, max=2147483647):backtest_id>/reports/<name>": "token",
    "/api/v1/openapi.json": "public", "/api/v1/docs": "public", "/api/v1/docs/assets/<name>": "public",
    "/account/tokens": "signed-in", "/account/tokens/<int:token_id>/revoke": "signed-in",
}
# The signed-in user's own password change (the forced change after a one-time password lands here).
ROUTES |= {"/account/password": "signed-in"}
SAMPLE_ARGS |= {"token_id": 1}
# Alerts, portfolio and admin resources of the REST API (bearer token; scopes and roles in tests/integration/api).
_ID = "<int(min=1, max=2147483647):{}>"
ROUTES |= {
    "/api/v1/alerts/rules": "token", f"/api/v1/alerts/rules/{_ID.format('rule_id')}": "token",
    "/api/v1/alerts/events": "token",
    "/api/v1/portfolio": "token", "/api/v1/portfolio/holdings/<name>": "token",
    "/api/v1/portfolio/transactions": "token", f"/api/v1/portfolio/transactions/{_ID.format('tx_id')}": "token",
    "/api/v1/portfolio/orders": "token", f"/api/v1/portfolio/orders/{_ID.format('order_id')}/cancel": "token",
    "/api/v1/portfolio/paper": "token", f"/api/v1/portfolio/paper/{_ID.format('strategy_id')}": "token",
    f"/api/v1/portfolio/paper/{_ID.format('strategy_id')}/stop": "token",
    f"/api/v1/portfolio/paper/{_ID.format('strategy_id')}/start": "token",
    "/api/v1/admin/users": "token", f"/api/v1/admin/users/{_ID.format('user_id')}": "token",
    "/api/v1/admin/jobs": "token", "/api/v1/admin/jobs/failed": "token", "/api/v1/admin/system": "token",
    "/api/v1/admin/system/stop": "token", "/api/v1/admin/system/resume": "token",
}
SAMPLE_ARGS |= {"rule_id": 1, "tx_id": 1, "order_id": 1, "strategy_id": 1, "user_id": 1}
# Issue 19's remaining resources: notification settings, transaction update and CSV import, model versions,
# and the admin page's user, failed-job and cache actions (bearer token; scopes in tests/integration/api).
_FAILED = "/api/v1/admin/jobs/failed/<string(minlength=1, maxlength=32):queue>/<string(minlength=1, maxlength=64):job_id>"
ROUTES |= {
    "/api/v1/alerts/settings": "token", "/api/v1/portfolio/transactions/import": "token",
    "/api/v1/predictions/models": "token",
    f"/api/v1/admin/users/{_ID.format('user_id')}/password": "token",
    f"/api/v1/admin/users/{_ID.format('user_id')}/deletion": "token",
    _FAILED: "token", _FAILED + "/requeue": "token", "/api/v1/admin/cache/clear": "token",
}
SAMPLE_ARGS |= {"queue": "alerts", "job_id": "x1"}


def _call(client, cb):
    return client.post(UPDATE, data=json.dumps(body(cb.spec)), content_type="application/json")


def test_every_callback_is_classified(callbacks):
    unclassified = [c.name for c in callbacks if c.guard is None and c.name not in READ_CALLBACKS]
    assert not unclassified, ("callbacks without require_admin()/require_writer() that are not listed as "
                              f"read-only in READ_CALLBACKS: {unclassified}")
    assert not [c.name for c in callbacks if c.guard == "ambiguous"]
    guarded_and_listed = [c.name for c in callbacks if c.guard and c.name in READ_CALLBACKS]
    assert not guarded_and_listed
    stale = READ_CALLBACKS - {c.name for c in callbacks}
    assert not stale, f"READ_CALLBACKS names callbacks that no longer exist: {stale}"


def test_admin_page_callbacks_are_all_admin_guarded(callbacks):
    """Everything that writes to the admin page's components re-checks the admin role on the server."""
    on_admin_page = [c for c in callbacks if any(cid.startswith("admin-") for cid, _ in c.spec.outputs)]
    assert len(on_admin_page) >= 9
    assert [c.name for c in on_admin_page if c.guard != "admin"] == []


def test_the_suite_sees_the_guarded_callbacks(callbacks):
    """Sanity: the classification found the guards the app is known to have (it cannot pass vacuously)."""
    guards = {c.name: c.guard for c in callbacks}
    assert guards["callbacks.admin.set_user_active"] == "admin"
    assert guards["callbacks.admin_models.change_champion"] == "admin"
    assert guards["callbacks.backtests.submit"] == "writer"


def test_anonymous_is_refused_on_every_callback(callbacks, as_role):
    answers = {c.name: _call(as_role[None], c).status_code for c in callbacks}
    assert set(answers.values()) == {401}, answers


@pytest.mark.parametrize("role", ["viewer", "trader"])
def test_viewer_and_trader_are_refused_on_admin_callbacks(callbacks, as_role, role):
    admin = [c for c in callbacks if c.guard == "admin"]
    answers = {c.name: _call(as_role[role], c).status_code for c in admin}
    assert answers and set(answers.values()) == {403}, answers


def test_viewer_is_refused_on_every_write_callback(callbacks, as_role):
    writes = [c for c in callbacks if c.guard == "writer"]
    answers = {c.name: _call(as_role["viewer"], c).status_code for c in writes}
    assert answers and set(answers.values()) == {403}, answers


def test_allowed_roles_get_past_the_guards(callbacks, as_role):
    """The refusals above are the guards' doing: the roles that may call a callback are not refused."""
    allowed = {"admin": ("admin",), "writer": ("trader", "admin"), None: ("viewer", "trader", "admin")}
    refused = {}
    for c in callbacks:
        for role in allowed[c.guard]:
            status = _call(as_role[role], c).status_code
            if status in (401, 403) or status >= 500:
                refused[(c.name, role)] = status
    assert not refused, refused


def _rules(web):
    return [r for r in web.server.url_map.iter_rules() if r.endpoint != "static"]


def test_every_route_is_classified(web):
    rules = {r.rule for r in _rules(web)}
    assert not rules - set(ROUTES), f"routes missing from ROUTES: {rules - set(ROUTES)}"
    assert not set(ROUTES) - rules, f"ROUTES lists routes that no longer exist: {set(ROUTES) - rules}"


def _requests(web, access):
    """(method, url, rule) for every route of the given access level, with sample arguments."""
    adapter = web.server.url_map.bind("localhost")
    for rule in _rules(web):
        if ROUTES[rule.rule] != access:
            continue
        url = adapter.build(rule.endpoint, {a: SAMPLE_ARGS[a] for a in rule.arguments}, method=None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url, rule.rule


def test_anonymous_is_refused_on_every_non_public_route(web, as_role):
    anonymous = as_role[None]
    answers = {}
    for method, url, _ in (*_requests(web, "signed-in"), *_requests(web, "admin")):
        resp = anonymous.open(url, method=method)
        answers[(method, url)] = (resp.status_code, resp.headers.get("Location", ""))
    for (method, url), (status, location) in answers.items():
        if url.startswith(("/_dash-", "/_reload")):  # JSON routes answer 401, pages redirect to sign-in
            assert status == 401, (method, url, status)
        elif method == "GET" and url != "/logout":
            assert status == 302 and location.startswith("/login"), (method, url, status, location)
        else:  # POST /logout without a session or token; GET /logout is not an action
            assert status in (302, 400, 401, 405), (method, url, status)
    assert len(answers) >= 10


@pytest.mark.parametrize("role", [None, "viewer", "admin"])
def test_api_routes_refuse_callers_without_a_token(web, as_role, role):
    """Anonymous callers and session cookies (an admin's included) get 401 on every token route."""
    requests = list(_requests(web, "token"))
    assert len(requests) >= 10  # the check cannot pass vacuously
    for method, url, _ in requests:
        resp = as_role[role].open(url, method=method)
        assert resp.status_code == 401, (role, method, url, resp.status_code)


@pytest.mark.parametrize("role", ["viewer", "trader"])
def test_viewer_and_trader_are_refused_on_admin_routes(web, as_role, role):
    requests = list(_requests(web, "admin"))
    assert "/admin/audit.csv" in {rule for _, _, rule in requests}  # the check cannot pass vacuously
    for method, url, _ in requests:
        resp = as_role[role].open(url, method=method)
        assert resp.status_code == 403, (method, url, resp.status_code)
        assert b"actor_email" not in resp.data, (method, url)  # no export leaks with the refusal


def test_admin_routes_open_for_an_admin(web, as_role):
    """The refusals above are the guard's doing: an admin gets the admin routes."""
    for method, url, _ in _requests(web, "admin"):
        assert as_role["admin"].open(url, method=method).status_code == 200, (method, url)


def test_signed_in_routes_open_for_a_viewer(web, as_role):
    """A viewer gets past the guard on the read routes (the refusals above are not blanket refusals)."""
    viewer = as_role["viewer"]
    for url in ("/", "/signals", "/backtests", "/_dash-layout", "/_dash-dependencies"):
        assert viewer.get(url).status_code == 200, url
    alias = viewer.get("/market")
    assert alias.status_code == 302 and not alias.headers["Location"].startswith("/login")
    assert viewer.get("/backtests/1/download/trades.csv").status_code == 404  # past the guard: not their run


def test_a_one_time_password_is_refused_on_every_callback_and_sent_to_the_change_form(web, callbacks):
    """Signed in with an admin's one-time password (``app.auth.forced``): every callback the app serves
    answers 403 and every page redirects to /account/password, whatever the role, until it is changed."""
    import uuid

    from app.auth.users import create_with_password
    from tests.conftest import login

    email = f"sec-forced-{uuid.uuid4().hex[:8]}@example.com"
    with web.server.app_context():
        _user, one_time = create_with_password(email, "admin", None)
    client = web.server.test_client()
    assert login(client, email, one_time).status_code == 302
    answers = {c.name: _call(client, c).status_code for c in callbacks}
    assert set(answers.values()) == {403}, answers
    for method, url, _ in (*_requests(web, "signed-in"), *_requests(web, "admin")):
        resp = client.open(url, method=method)
        if url in ("/account/password", "/logout"):
            continue
        if url.startswith(("/_dash-", "/_reload")) or method != "GET":
            assert resp.status_code == 403, (method, url, resp.status_code)
        else:
            assert resp.status_code == 302 and resp.headers["Location"].startswith("/account/password?next="), (
                method, url, resp.status_code)
