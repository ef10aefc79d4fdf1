"""User lifecycle from the Admin page: search, create, role, reset, delete, and the last-admin rule,
in the domain and over HTTP as the browser sends it (refused for traders and viewers)."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.integration.admin.dash_calls import dash_post

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _count(model, **where):
    from app.extensions import db

    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def _audit_actions():
    from app.extensions import db
    from app.models.audit import AuditEvent

    return [a for (a,) in db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id))]


def _backtest(user_id, trades=2):
    from app.extensions import db
    from app.models import Backtest, BacktestTrade

    run = Backtest(user_id=user_id, exchange="demo", symbol="BTC/USDT", timeframe="1h", strategy="sma_cross",
                   params={}, config={}, start_at=T0, end_at=T0 + timedelta(days=1), status="finished")
    db.session.add(run)
    db.session.flush()
    for seq in range(trades):
        db.session.add(BacktestTrade(backtest_id=run.id, seq=seq, symbol="BTC/USDT", side="long", qty=1.0,
                                     entry_time=T0, entry_price=1.0, exit_time=T0 + timedelta(hours=1),
                                     exit_price=1.1, pnl=0.1, return_pct=10.0, fees=0.0, slippage=0.0,
                                     funding=0.0, exit_reason="signal", bars_held=1))
    db.session.commit()
    return run.id


def _alerts_and_portfolio(user_id):
    """An alert rule with an event, its delivery and an attempt, notification settings, a portfolio
    transaction, a paper strategy with a fill and a paper order, all the user's."""
    from app.extensions import db
    from app.models.alert import AlertAttempt, AlertDelivery, AlertEvent, AlertRule, NotificationSettings
    from app.models.portfolio import PaperFill, PaperOrder, PaperStrategy, PortfolioTransaction

    rule = AlertRule(user_id=user_id, name="cross", exchange="demo", symbol="BTC/USDT", timeframe="1h",
                     kind="price_above", params={"level": 1}, channels=["inapp"])
    strategy = PaperStrategy(user_id=user_id, exchange="demo", symbol="BTC/USDT", timeframe="1h", strategy="ma_cross",
                             params={}, config={}, start_at=T0, warmup_from=T0)
    db.session.add_all([rule, strategy, NotificationSettings(user_id=user_id),
                        PortfolioTransaction(user_id=user_id, kind="deposit", asset="USDT", quantity=100.0, price=1.0,
                                             time=T0),
                        PaperOrder(user_id=user_id, exchange="demo", symbol="BTC/USDT", timeframe="1h", side="buy",
                                   type="market", qty=1.0, tif="gtc", placed_at=T0, config={})])
    db.session.flush()
    event = AlertEvent(rule_id=rule.id, user_id=user_id, exchange="demo", symbol="BTC/USDT", timeframe="1h",
                       bar_time=T0, message="BTC/USDT above 1")
    db.session.add_all([event, PaperFill(strategy_id=strategy.id, trade_no=0, leg="entry", side="buy", qty=1.0,
                                         price=1.0, fee=0.0, time=T0, reason="signal")])
    db.session.flush()
    delivery = AlertDelivery(event_id=event.id, channel="inapp", status="sent")
    db.session.add(delivery)
    db.session.flush()
    db.session.add(AlertAttempt(delivery_id=delivery.id, status="sent"))
    db.session.commit()
    return rule.id, strategy.id


def test_the_last_active_admin_cannot_be_deactivated_demoted_or_deleted(server, make_user):
    from app.auth.users import UserError, deactivate_user, delete_user, set_role
    from app.extensions import db
    from app.models import User

    boss = make_user("boss@example.com", role="admin")
    with server.app_context():
        for attempt in (lambda: deactivate_user(boss, None), lambda: set_role(boss, "trader", None),
                        lambda: delete_user(boss, None),
                        lambda: set_role(boss, "viewer", db.session.get(User, boss))):  # themselves included
            with pytest.raises(UserError, match="last active admin"):
                attempt()
            db.session.rollback()
        user = db.session.get(User, boss)
        assert (user.role, user.active) == ("admin", True) and _audit_actions() == []
    second = make_user("second@example.com", role="admin")
    with server.app_context():
        set_role(boss, "trader", db.session.get(User, second))  # another admin remains: allowed
        assert db.session.get(User, boss).role == "trader"
        with pytest.raises(UserError, match="last active admin"):
            deactivate_user(second, None)


def test_an_inactive_admin_does_not_count(server, make_user):
    from app.auth.users import UserError, deactivate_user

    boss = make_user("boss@example.com", role="admin")
    make_user("old@example.com", role="admin", active=False)
    with server.app_context():
        with pytest.raises(UserError, match="last active admin"):
            deactivate_user(boss, None)


def test_create_with_password_signs_in_and_bad_input_changes_nothing(server, client, make_user):
    from app.auth.users import UserError, create_user, create_with_password
    from app.extensions import db
    from app.models import User
    from app.models.audit import AuditEvent

    admin = make_user("a@example.com", role="admin")
    with server.app_context():
        user, password = create_with_password("New@Example.com", "viewer", db.session.get(User, admin), ip="10.0.0.9")
        assert (user.email, user.role) == ("new@example.com", "viewer")
        row = db.session.scalar(select(AuditEvent).filter_by(action="user.create"))
        assert (row.actor_email, row.target, row.ip) == ("a@example.com", "new@example.com", "10.0.0.9")
        assert password not in repr((row.before, row.after))
        for email, role, field in (("new@example.com", "trader", "e-mail"), ("not-an-address", "trader", "e-mail"),
                                   ("x@example.com", "superuser", "role")):
            with pytest.raises(UserError, match=field):
                create_with_password(email, role, None)
        with pytest.raises(UserError, match="password"):
            create_user("weak@example.com", "password1", audit=True)
        db.session.rollback()
        assert _count(User) == 2 and _audit_actions() == ["user.create"]
    assert login(client, "new@example.com", password).status_code == 302


def test_reset_password_ends_sessions_and_replaces_the_password(server, client, make_user):
    from app.auth.users import reset_password

    uid = make_user("t@example.com")
    login(client, "t@example.com")
    assert client.get("/").status_code == 404  # signed in (this server has no Dash pages); signed out is 302
    with server.app_context():
        _user, password = reset_password(uid, None)
    assert client.get("/").status_code == 302  # the old session ended at once
    assert login(server.test_client(), "t@example.com").status_code == 401
    assert login(server.test_client(), "t@example.com", password).status_code == 302


def test_delete_removes_everything_they_own_and_keeps_the_audit(server, client, make_user):
    from app.auth.users import delete_user, owned_counts, search_users
    from app.extensions import db
    from app.models import Backtest, BacktestTrade, User, UserSession
    from app.models.alert import AlertAttempt, AlertDelivery, AlertEvent, AlertRule, NotificationSettings
    from app.models.audit import AuditEvent
    from app.models.portfolio import PaperFill, PaperOrder, PaperStrategy, PortfolioTransaction

    owned_models = (AlertAttempt, AlertDelivery, AlertEvent, AlertRule, NotificationSettings, PaperFill, PaperOrder,
                    PaperStrategy, PortfolioTransaction, BacktestTrade, Backtest, UserSession)

    admin = make_user("a@example.com", role="admin")
    uid = make_user("t@example.com")
    other = make_user("o@example.com")
    login(client, "t@example.com")
    with server.app_context():
        _backtest(uid, trades=3)
        rule, strategy = _alerts_and_portfolio(uid)
        kept = _backtest(other, trades=1)
        other_rule, other_strategy = _alerts_and_portfolio(other)
        totals = {m: _count(m) for m in owned_models}
        [row] = search_users("t@exa")
        assert row.user.id == uid and row.last_activity_at is not None
        assert row.last_activity_at.tzinfo is not None and row.user.last_login_at is not None
        expected = {"alert_attempts": 1, "alert_deliveries": 1, "alert_events": 1, "alert_rules": 1,
                    "notification_settings": 1, "paper_fills": 1, "paper_strategies": 1, "paper_orders": 1,
                    "portfolio_transactions": 1, "backtest_trades": 3, "backtests": 1, "sessions": 1}
        assert owned_counts(uid) == expected
        counts = delete_user(uid, db.session.get(User, admin), ip="10.0.0.1")
        assert counts == expected
        assert db.session.get(User, uid) is None
        assert _count(Backtest, user_id=uid) == 0 and _count(UserSession, user_id=uid) == 0
        assert _count(Backtest, id=kept) == 1 and _count(BacktestTrade, backtest_id=kept) == 1
        # the alert rule with its event (and delivery, attempt), the settings, the transaction, the paper
        # strategy with its fill and the order are gone; the other user's are all still there
        assert _count(AlertRule, id=rule) == 0 and _count(AlertEvent, rule_id=rule) == 0
        assert _count(PaperStrategy, id=strategy) == 0 and _count(PaperFill, strategy_id=strategy) == 0
        for model in (AlertRule, AlertEvent, NotificationSettings, PortfolioTransaction, PaperStrategy, PaperOrder):
            assert _count(model, user_id=uid) == 0, model.__name__
        assert {m: _count(m) for m in owned_models} == {
            m: totals[m] - (3 if m is BacktestTrade else 1) for m in owned_models}
        assert _count(AlertEvent, rule_id=other_rule) == 1 and _count(PaperFill, strategy_id=other_strategy) == 1
        assert _count(NotificationSettings, user_id=other) == 1 and _count(PaperOrder, user_id=other) == 1
        audit = db.session.scalar(select(AuditEvent).filter_by(action="user.delete"))
        assert audit.target == "t@example.com" and audit.after == {"deleted": counts}
        assert db.session.scalar(select(AuditEvent).filter_by(action="sign_in.success")).actor_email == "t@example.com"
    assert client.get("/").status_code == 302


# --- over HTTP, as the Admin page sends it --------------------------------------------------------

def _filters(extra=None):
    return {"admin-users-search.value": None, "admin-users-role-filter.value": None, **(extra or {})}


@pytest.mark.parametrize("role", ["trader", "viewer"])
def test_user_callbacks_are_refused_to_non_admins(dash_server, make_dash_user, role):
    from app.extensions import db
    from app.models import User
    from tests.integration.admin.dash_calls import dash_post_by_input

    email, _ = make_dash_user("nonadmin", role=role)
    _, target = make_dash_user("target")
    client = dash_server.test_client()
    login(client, email)
    search = dash_post_by_input(client, "admin-users-search", values=_filters({"admin-users-search.value": "t"}),
                                changed=["admin-users-search.value"])
    create = dash_post_by_input(client, "admin-user-create", changed=["admin-user-create.n_clicks"],
                                values=_filters({"admin-user-create.n_clicks": 1, "admin-user-new-role.value": "admin",
                                                 "admin-user-new-email.value": "evil@example.com"}))
    role_change = _pattern_call(client, "admin-user-set-role", {("admin-user-set-role", "n_clicks"): [(target, 1)],
                                                               ("admin-user-role-choice", "value"): [(target, "admin")]})
    reset_ = _pattern_call(client, "admin-user-reset", {("admin-user-reset", "n_clicks"): [(target, 1)]})
    ask = _pattern_call(client, "admin-user-delete", {("admin-user-delete", "n_clicks"): [(target, 1)]})
    assert [r.status_code for r in (search, create, role_change, reset_, ask, _confirm_delete(client, target))] == [403] * 6
    with dash_server.app_context():
        user = db.session.get(User, target)
        assert user is not None and user.role == "trader"
        assert db.session.scalar(select(User).filter_by(email="evil@example.com")) is None


def _pattern_call(client, kind, pattern):
    """The callback whose input is the pattern-matching button ``kind``."""
    from tests.integration.admin.dash_calls import dash_post_by_input

    [(index, _v)] = pattern[(kind, "n_clicks")]
    changed = [json.dumps({"index": index, "type": kind}, separators=(",", ":")) + ".n_clicks"]
    return dash_post_by_input(client, kind, pattern=pattern, values=_filters(), changed=changed)


def _confirm_delete(client, uid):
    from tests.integration.admin.dash_calls import dash_post_by_input

    return dash_post_by_input(client, "admin-user-confirm-delete",
                              values=_filters({"admin-user-confirm-delete.submit_n_clicks": 1,
                                               "admin-user-pending-delete.data": uid}),
                              changed=["admin-user-confirm-delete.submit_n_clicks"])


def test_admin_creates_changes_resets_and_deletes_over_http(dash_server, make_dash_user):
    from app.extensions import db
    from app.models import User

    admin_email, admin_id = make_dash_user("boss", role="admin")
    client = dash_server.test_client()
    login(client, admin_email)
    new_email = f"made-{admin_id}@example.com"
    create = _filters({"admin-user-create.n_clicks": 1, "admin-user-new-email.value": new_email,
                       "admin-user-new-role.value": "trader"})
    from tests.integration.admin.dash_calls import dash_post_by_input

    resp = dash_post_by_input(client, "admin-user-create", values=create, changed=["admin-user-create.n_clicks"])
    assert resp.status_code == 200
    msg = resp.get_json()["response"]["admin-users-msg"]["children"]
    password = _find(msg, "admin-users-password")
    assert password and login(dash_server.test_client(), new_email, password).status_code == 302
    again = dash_post_by_input(client, "admin-user-create", values=create, changed=["admin-user-create.n_clicks"])
    assert "already exists" in again.get_data(as_text=True)
    bad_role = dict(create, **{"admin-user-new-email.value": f"x-{admin_id}@example.com",
                               "admin-user-new-role.value": "root"})
    assert "role must be one of" in dash_post_by_input(client, "admin-user-create", values=bad_role,
                                                       changed=["admin-user-create.n_clicks"]).get_data(as_text=True)
    with dash_server.app_context():
        uid = db.session.scalar(select(User.id).filter_by(email=new_email))
        assert db.session.scalar(select(User).filter_by(email=f"x-{admin_id}@example.com")) is None

    resp = _pattern_call(client, "admin-user-set-role", {("admin-user-set-role", "n_clicks"): [(uid, 1)],
                                                         ("admin-user-role-choice", "value"): [(uid, "viewer")]})
    assert resp.status_code == 200 and "is now viewer" in resp.get_data(as_text=True)
    resp = _pattern_call(client, "admin-user-set-role", {("admin-user-set-role", "n_clicks"): [(uid, 1)],
                                                         ("admin-user-role-choice", "value"): [(uid, "god")]})
    assert "role must be one of" in resp.get_data(as_text=True)
    resp = _pattern_call(client, "admin-user-reset", {("admin-user-reset", "n_clicks"): [(uid, 1)]})
    new_password = _find(resp.get_json()["response"]["admin-users-msg"]["children"], "admin-users-password")
    assert new_password and new_password != password
    resp = _pattern_call(client, "admin-user-delete", {("admin-user-delete", "n_clicks"): [(uid, 1)]})
    out = resp.get_json()["response"]
    assert out["admin-user-confirm-delete"]["displayed"] is True
    assert "0 backtest(s)" in out["admin-user-confirm-delete"]["message"]
    assert out["admin-user-pending-delete"]["data"] == uid
    with dash_server.app_context():
        assert db.session.get(User, uid).role == "viewer"  # asking does not delete
    resp = _confirm_delete(client, uid)
    assert resp.status_code == 200 and f"Deleted {new_email}" in resp.get_data(as_text=True)
    with dash_server.app_context():
        assert db.session.get(User, uid) is None


def _find(node, cid):
    """The text child of the component with id ``cid`` in a serialised Dash tree."""
    if isinstance(node, dict):
        props = node.get("props", {})
        if props.get("id") == cid:
            return props.get("children")
        for v in (node.values() if "props" not in node else props.values()):
            found = _find(v, cid)
            if found is not None:
                return found
    elif isinstance(node, list):
        for v in node:
            found = _find(v, cid)
            if found is not None:
                return found
    return None
