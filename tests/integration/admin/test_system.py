"""The system panel over HTTP: refused to non-admins; admins get the figures; cache clearing is
confirmed first and refused for an unknown area."""
import json

import pytest

from tests.conftest import login
from tests.integration.admin.dash_calls import dash_post_by_input


@pytest.mark.parametrize("role", ["trader", "viewer"])
def test_system_callbacks_are_refused_to_non_admins(dash_server, make_dash_user, role):
    email, _ = make_dash_user("nonadmin", role=role)
    client = dash_server.test_client()
    login(client, email)
    calls = [
        dash_post_by_input(client, "admin-system-poll", values={"admin-system-poll.n_intervals": 1}),
        dash_post_by_input(client, "admin-cache-clear", values={"admin-cache-clear.n_clicks": 1,
                                                                "admin-cache-area.value": "live"},
                           changed=["admin-cache-clear.n_clicks"]),
        dash_post_by_input(client, "admin-confirm-cache", values={"admin-confirm-cache.submit_n_clicks": 1,
                                                                  "admin-cache-area.value": "live"},
                           changed=["admin-confirm-cache.submit_n_clicks"]),
        dash_post_by_input(client, "admin-failed-requeue", pattern={("admin-failed-requeue", "n_clicks"): [("ingest|x", 1)]},
                           changed=['{"index":"ingest|x","type":"admin-failed-requeue"}.n_clicks']),
    ]
    assert [c.status_code for c in calls] == [403] * 4


def test_admin_sees_the_figures_and_confirms_a_cache_clear(dash_server, make_dash_user):
    email, _ = make_dash_user("boss", role="admin")
    client = dash_server.test_client()
    login(client, email)
    out = dash_post_by_input(client, "admin-system-poll", values={"admin-system-poll.n_intervals": 1}).get_json()
    figures = json.dumps(out["response"]["admin-system-stats"])
    assert "web process" in figures and "database (sqlite)" in figures
    assert "Embedded mode" in json.dumps(out["response"]["admin-system-queues"])
    fresh = json.dumps(out["response"]["admin-system-freshness"])
    assert "No series stored yet" in fresh or "admin-system-freshness-table" in fresh
    ask = dash_post_by_input(client, "admin-cache-clear", values={"admin-cache-clear.n_clicks": 1,
                                                                 "admin-cache-area.value": "live"},
                             changed=["admin-cache-clear.n_clicks"]).get_json()
    assert ask["response"]["admin-confirm-cache"]["displayed"] is True
    assert "'live'" in ask["response"]["admin-confirm-cache"]["message"]
    done = dash_post_by_input(client, "admin-confirm-cache", values={"admin-confirm-cache.submit_n_clicks": 1,
                                                                    "admin-cache-area.value": "live"},
                              changed=["admin-confirm-cache.submit_n_clicks"])
    assert "Embedded mode keeps no Redis cache" in done.get_data(as_text=True)


def test_cache_clear_is_audited_in_production_mode(dash_app, pg_app, redis_client):
    """The callbacks' own functions, run in a production-mode request as an admin (the session's Dash
    app is embedded): keys go, and each action leaves its audit row."""
    from flask_login import login_user
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    from app.models.audit import AuditEvent
    from callbacks.admin_system import clear_cache

    with pg_app.app_context():
        from app.auth.users import create_user

        admin_id = create_user("boss@example.com", "correct-horse-battery", role="admin").id
    redis_client.set("cw:live:ticker:demo:BTC/USDT", "1")
    with pg_app.test_request_context("/_dash-update-component", environ_base={"REMOTE_ADDR": "10.9.8.7"}):
        login_user(db.session.get(User, admin_id))
        alert = clear_cache(1, "live")
        assert "Cleared 1 key(s)" in str(alert.children)
        row = db.session.scalar(select(AuditEvent).filter_by(action="cache.clear"))
        assert (row.actor_email, row.ip, row.target, row.after) == ("boss@example.com", "10.9.8.7", "cw:live",
                                                                   {"keys_removed": 1})
    assert not redis_client.exists("cw:live:ticker:demo:BTC/USDT")


def test_freshness_table_lists_every_series(dash_app, pg_app):
    from app.extensions import db
    from app.market import store
    from callbacks.admin_system import _freshness

    with pg_app.app_context():
        store.get_or_create_series(db.session.connection(), "demo", "ZZZ/USDT", "1h")
        db.session.commit()
        table = str(_freshness())
    assert "ZZZ/USDT" in table and "no bars" in table and "admin-system-freshness-table" in table
