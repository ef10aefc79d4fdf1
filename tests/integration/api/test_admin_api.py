"""Admin endpoints on PostgreSQL + Redis: the ``admin`` scope *and* the admin role, the Admin page's domain
functions (last-admin rule, audit rows), exactly one change per request, the emergency stop and RQ's queues."""
from __future__ import annotations

import pytest

from tests.integration.api.conftest import new_token

pytestmark = pytest.mark.integration
A = "/api/v1/admin"


def _audit(app, action: str) -> list:
    from app.extensions import db
    from app.models.audit import AuditEvent

    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).all()
        return [(r.actor_email, r.target, r.before, r.after) for r in rows]


def _user(app, user_id):
    from app.extensions import db
    from app.models.user import User

    with app.app_context():
        u = db.session.get(User, user_id)
        return u.role, u.active


def test_list_and_change_users_through_the_audited_domain(resource_app):
    client = resource_app.test_client()
    auth, admin_id, _ = new_token(resource_app, role="admin", scopes=("read", "admin"))
    _t, trader_id, _ = new_token(resource_app)
    listed = client.get(f"{A}/users?role=trader", headers=auth).get_json()["users"]
    assert trader_id in {u["id"] for u in listed} and {u["role"] for u in listed} == {"trader"}

    resp = client.patch(f"{A}/users/{trader_id}", json={"role": "viewer"}, headers=auth)
    assert resp.status_code == 200 and resp.get_json()["role"] == "viewer"
    assert _user(resource_app, trader_id) == ("viewer", True)
    email = resp.get_json()["email"]
    admin_email = next(u["email"] for u in client.get(f"{A}/users", headers=auth).get_json()["users"]
                       if u["id"] == admin_id)
    assert any(a[0] == admin_email and a[1] == email and a[3]["role"] == "viewer"
               for a in _audit(resource_app, "user.role"))

    assert client.patch(f"{A}/users/{trader_id}", json={"active": False}, headers=auth).get_json()["active"] is False
    assert _user(resource_app, trader_id) == ("viewer", False)
    assert client.patch(f"{A}/users/{trader_id}", json={"active": True}, headers=auth).get_json()["active"] is True
    assert any(a[1] == email for a in _audit(resource_app, "user.deactivate"))


@pytest.mark.parametrize("body", [{}, {"role": "viewer", "active": False}, {"role": "root"}, {"active": "maybe"}])
def test_a_bad_change_is_422_and_changes_nothing(resource_app, body):
    client = resource_app.test_client()
    auth, _admin_id, _ = new_token(resource_app, role="admin", scopes=("admin",))
    _t, trader_id, _ = new_token(resource_app)
    resp = client.patch(f"{A}/users/{trader_id}", json=body, headers=auth)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["errors"][0]["field"].startswith("json")
    assert _user(resource_app, trader_id) == ("trader", True)


def test_the_last_active_admin_is_kept_and_unknown_users_are_404(resource_app):
    from app.extensions import db
    from app.models.user import User

    client = resource_app.test_client()
    auth, admin_id, _ = new_token(resource_app, role="admin", scopes=("admin",))
    with resource_app.app_context():  # this test's admin is the only active one
        others = db.session.scalars(db.select(User).where(User.role == "admin", User.id != admin_id,
                                                          User.active.is_(True))).all()
        for u in others:
            u.active = False
        db.session.commit()
        other_ids = [u.id for u in others]
    try:
        resp = client.patch(f"{A}/users/{admin_id}", json={"role": "trader"}, headers=auth)
        assert resp.status_code == 422 and "last active admin" in resp.get_json()["detail"]
        assert resp.get_json()["errors"][0]["field"] == "json.role"
        resp = client.patch(f"{A}/users/{admin_id}", json={"active": False}, headers=auth)
        assert resp.status_code == 422 and "last active admin" in resp.get_json()["detail"]
        assert _user(resource_app, admin_id) == ("admin", True)
        assert client.patch(f"{A}/users/2147483647", json={"active": False}, headers=auth).status_code == 404
    finally:
        with resource_app.app_context():
            for uid in other_ids:
                db.session.get(User, uid).active = True
            db.session.commit()


def test_admin_needs_the_scope_and_the_role(resource_app):
    from app.extensions import db
    from app.models.user import User

    client = resource_app.test_client()
    no_scope, _, _ = new_token(resource_app, role="admin", scopes=("read", "trade"))
    trader, trader_id, _ = new_token(resource_app)
    demoted, demoted_id, _ = new_token(resource_app, role="admin", scopes=("admin",))
    with resource_app.app_context():
        db.session.get(User, demoted_id).role = "trader"
        db.session.commit()
    for auth in (no_scope, trader, demoted):
        for method, url, body in (("GET", f"{A}/users", None), ("PATCH", f"{A}/users/{trader_id}", {"role": "viewer"}),
                                  ("GET", f"{A}/jobs", None), ("GET", f"{A}/jobs/failed", None),
                                  ("GET", f"{A}/system", None), ("POST", f"{A}/system/stop", {"reason": "x"}),
                                  ("POST", f"{A}/system/resume", {})):
            resp = client.open(url, method=method, json=body, headers=auth)
            assert resp.status_code == 403 and "'admin' scope" in resp.get_json()["detail"], (method, url)
    assert _user(resource_app, trader_id) == ("trader", True)


def test_emergency_stop_and_resume_are_audited_and_suspend_rq(resource_app, redis_client):
    from rq.suspension import is_suspended

    client = resource_app.test_client()
    auth, _admin_id, _ = new_token(resource_app, role="admin", scopes=("admin",))
    assert client.get(f"{A}/system", headers=auth).get_json()["stopped"] is False
    too_long = client.post(f"{A}/system/stop", json={"reason": "x" * 501}, headers=auth)
    assert too_long.status_code == 422 and too_long.get_json()["errors"][0]["field"] == "json.reason"
    assert client.get(f"{A}/system", headers=auth).get_json()["stopped"] is False
    stopped = client.post(f"{A}/system/stop", json={"reason": "exchange outage"}, headers=auth).get_json()
    assert stopped["stopped"] is True and stopped["reason"] == "exchange outage" and stopped["workers_suspended"]
    assert is_suspended(redis_client)
    assert _audit(resource_app, "system.stop")[-1][3]["stop"]["reason"] == "exchange outage"
    resumed = client.post(f"{A}/system/resume", headers=auth).get_json()
    assert resumed == {"stopped": False, "by": None, "at": None, "reason": None, "workers_suspended": False}
    assert not is_suspended(redis_client)
    assert _audit(resource_app, "system.resume")[-1][2]["stop"]["reason"] == "exchange outage"


def test_jobs_list_rq_queues_and_failed_jobs(resource_app, redis_client):
    from rq import Queue

    client = resource_app.test_client()
    auth, _admin_id, _ = new_token(resource_app, role="admin", scopes=("admin",))
    Queue("alerts", connection=redis_client).enqueue("os.getcwd")
    body = client.get(f"{A}/jobs", headers=auth).get_json()
    assert body["embedded"] is False
    assert {q["name"]: q["queued"] for q in body["queues"]}["alerts"] == 1
    assert client.get(f"{A}/jobs/failed", headers=auth).get_json() == {"failed": []}
