"""The Admin page's user, failed-job and cache actions over ``/api/v1/admin`` on PostgreSQL + Redis:
the ``admin`` scope and role, the one-time password, the delete confirmation and the last-admin rule,
RQ's failed-job registry through ``workers.inspect``, the cache cleared by area; every action audited."""
from __future__ import annotations

import pytest

from tests.integration.api.conftest import count_rows, new_token

pytestmark = pytest.mark.integration
A = "/api/v1/admin"


def _audit(app, action: str) -> list:
    from app.extensions import db
    from app.models.audit import AuditEvent

    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).all()
        return [(r.actor_email, r.target, r.before, r.after) for r in rows]


def _admin(app):
    return new_token(app, role="admin", scopes=("read", "admin"))


def test_create_user_returns_the_password_once_and_it_signs_in(resource_app):
    import uuid

    from app.auth.users import authenticate
    from app.models.user import User

    client = resource_app.test_client()
    auth, _aid, _ = _admin(resource_app)
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    resp = client.post(f"{A}/users", json={"email": email.upper(), "role": "viewer"}, headers=auth)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["user"]["email"] == email and body["user"]["role"] == "viewer" and body["user"]["active"]
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Location"].endswith(f"/{body['user']['id']}")
    with resource_app.app_context():
        assert authenticate(email, body["password"]).user is not None  # the returned password is the real one
    listed = client.get(f"{A}/users?search={email}", headers=auth).get_json()["users"]
    assert [u["email"] for u in listed] == [email] and "password" not in listed[0]  # never shown again
    assert any(a[1] == email and a[3]["role"] == "viewer" for a in _audit(resource_app, "user.create"))

    before = count_rows(resource_app, User)
    again = client.post(f"{A}/users", json={"email": email}, headers=auth)
    assert again.status_code == 422 and again.get_json()["errors"][0]["field"] == "json.email"
    assert "already exists" in again.get_json()["detail"]
    for body, field in (({"email": "not-an-address"}, "json.email"), ({"email": email, "role": "root"}, "json.role"),
                        ({}, "json.email")):
        bad = client.post(f"{A}/users", json=body, headers=auth)
        assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
        assert bad.get_json()["errors"][0]["field"] == field, bad.get_json()
    assert count_rows(resource_app, User) == before


def test_reset_password_ends_the_old_one_and_is_audited(resource_app):
    from app.auth.users import authenticate

    client = resource_app.test_client()
    auth, admin_id, _ = _admin(resource_app)
    _t, trader_id, _ = new_token(resource_app)
    resp = client.post(f"{A}/users/{trader_id}/password", headers=auth)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    body = resp.get_json()
    email = body["user"]["email"]
    with resource_app.app_context():
        assert authenticate(email, "correct-horse-battery").user is None
        assert authenticate(email, body["password"]).user is not None
    assert any(a[1] == email for a in _audit(resource_app, "user.password_reset"))
    assert client.post(f"{A}/users/2147483647/password", headers=auth).status_code == 404
    own = client.post(f"{A}/users/{admin_id}/password", headers=auth)
    assert own.status_code == 422 and own.get_json()["errors"][0]["field"] == "path.user_id"


def test_delete_needs_the_email_as_confirmation_and_takes_what_they_own(resource_app):
    from app.extensions import db
    from app.models.portfolio import PortfolioTransaction
    from app.models.user import User

    client = resource_app.test_client()
    auth, _aid, _ = _admin(resource_app)
    victim, victim_id, _ = new_token(resource_app)
    assert client.post("/api/v1/portfolio/transactions", json={"time": "2026-01-01T00:00:00+00:00",
                                                               "kind": "deposit", "quantity": 100},
                       headers=victim).status_code == 201
    preview = client.get(f"{A}/users/{victim_id}/deletion", headers=auth).get_json()
    email = preview["user"]["email"]
    assert preview["owned"]["portfolio_transactions"] == 1
    txs = count_rows(resource_app, PortfolioTransaction)
    for query in ("", "?confirm=someone-else@example.com"):
        refused = client.delete(f"{A}/users/{victim_id}{query}", headers=auth)
        assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "query.confirm"
    with resource_app.app_context():
        assert db.session.get(User, victim_id) is not None
    assert count_rows(resource_app, PortfolioTransaction) == txs

    done = client.delete(f"{A}/users/{victim_id}?confirm={email}", headers=auth)
    assert done.status_code == 200 and done.get_json()["deleted"]["portfolio_transactions"] == 1
    with resource_app.app_context():
        assert db.session.get(User, victim_id) is None
    assert count_rows(resource_app, PortfolioTransaction) == txs - 1
    assert client.get("/api/v1/me", headers=victim).status_code == 401  # their token went with them
    assert any(a[1] == email and a[3]["deleted"]["portfolio_transactions"] == 1
               for a in _audit(resource_app, "user.delete"))
    assert client.delete(f"{A}/users/{victim_id}?confirm={email}", headers=auth).status_code == 404
    assert client.get(f"{A}/users/{victim_id}/deletion", headers=auth).status_code == 404


def test_the_last_active_admin_and_oneself_are_never_deleted(resource_app):
    from app.extensions import db
    from app.models.user import User

    client = resource_app.test_client()
    auth, admin_id, _ = _admin(resource_app)
    with resource_app.app_context():
        me = db.session.get(User, admin_id).email
        others = db.session.scalars(db.select(User).where(User.role == "admin", User.id != admin_id,
                                                          User.active.is_(True))).all()
        for u in others:
            u.active = False
        db.session.commit()
        other_ids = [u.id for u in others]
    try:
        resp = client.delete(f"{A}/users/{admin_id}?confirm={me}", headers=auth)
        assert resp.status_code == 422 and "last active admin" in resp.get_json()["detail"]
        with resource_app.app_context():
            assert db.session.get(User, admin_id) is not None
    finally:
        with resource_app.app_context():
            for uid in other_ids:
                db.session.get(User, uid).active = True
            db.session.commit()
    second, second_id, _ = _admin(resource_app)  # now two admins: still nobody deletes themselves
    with resource_app.app_context():
        second_email = db.session.get(User, second_id).email
    resp = client.delete(f"{A}/users/{second_id}?confirm={second_email}", headers=second)
    assert resp.status_code == 422 and "your own account" in resp.get_json()["detail"]


def _failed_job(redis_client):
    from rq import Queue
    from rq.job import Job

    q = Queue("alerts", connection=redis_client)
    job = q.enqueue("os.getcwd")
    job = Job.fetch(job.id, connection=redis_client)
    q.remove(job.id)
    # the state RQ leaves behind when a job raises: in the failed registry with a result
    from rq.registry import FailedJobRegistry

    FailedJobRegistry("alerts", connection=redis_client).add(job, ttl=600, exc_string="Traceback: boom")
    return job.id


def test_failed_jobs_are_requeued_and_deleted_through_rq(resource_app, redis_client):
    from rq import Queue
    from rq.registry import FailedJobRegistry

    client = resource_app.test_client()
    auth, _aid, _ = _admin(resource_app)
    first, second = _failed_job(redis_client), _failed_job(redis_client)
    listed = {j["id"] for j in client.get(f"{A}/jobs/failed", headers=auth).get_json()["failed"]}
    assert {first, second} <= listed
    resp = client.post(f"{A}/jobs/failed/alerts/{first}/requeue", headers=auth)
    assert resp.status_code == 200 and resp.get_json() == {"id": first, "queue": "alerts", "action": "requeued"}
    registry = FailedJobRegistry("alerts", connection=redis_client)
    assert first not in registry.get_job_ids() and first in Queue("alerts", connection=redis_client).job_ids
    resp = client.delete(f"{A}/jobs/failed/alerts/{second}", headers=auth)
    assert resp.status_code == 200 and resp.get_json()["action"] == "deleted"
    assert second not in registry.get_job_ids() and not redis_client.exists(f"rq:job:{second}")
    assert _audit(resource_app, "job.requeue")[-1][1] == f"alerts {first}"
    assert _audit(resource_app, "job.delete")[-1][1] == f"alerts {second}"
    # gone, unknown or on a queue that does not exist: 404, nothing audited
    n = len(_audit(resource_app, "job.delete"))
    for method, url in (("DELETE", f"{A}/jobs/failed/alerts/{second}"), ("POST", f"{A}/jobs/failed/alerts/nope/requeue"),
                        ("DELETE", f"{A}/jobs/failed/nosuchqueue/{first}")):
        assert client.open(url, method=method, headers=auth).status_code == 404, url
    assert len(_audit(resource_app, "job.delete")) == n


def test_cache_clear_by_area_keeps_the_other_areas_and_the_stop_switch(resource_app, redis_client):
    client = resource_app.test_client()
    auth, _aid, _ = _admin(resource_app)
    prefix = resource_app.config["CW_SETTINGS"].redis_prefix
    redis_client.set(f"{prefix}:signals:BTC/USDT", "x")
    redis_client.set(f"{prefix}:signals:ETH/USDT", "y")
    redis_client.set(f"{prefix}:live:ticker:BTC/USDT", "z")
    resp = client.post(f"{A}/cache/clear", json={"area": "signals"}, headers=auth)
    assert resp.status_code == 200 and resp.get_json() == {"prefix": f"{prefix}:signals", "keys_removed": 2}
    assert not redis_client.exists(f"{prefix}:signals:BTC/USDT")
    assert redis_client.get(f"{prefix}:live:ticker:BTC/USDT") == b"z"
    assert _audit(resource_app, "cache.clear")[-1][1:] == (f"{prefix}:signals", None, {"keys_removed": 2})
    for body in ({"area": "system"}, {"area": "rq"}, {}):
        bad = client.post(f"{A}/cache/clear", json=body, headers=auth)
        assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "json.area"
    assert redis_client.get(f"{prefix}:live:ticker:BTC/USDT") == b"z"


def test_new_admin_actions_need_the_scope_and_the_role(resource_app, redis_client):
    from app.models.user import User

    client = resource_app.test_client()
    no_scope, _, _ = new_token(resource_app, role="admin", scopes=("read", "trade"))
    trader, trader_id, _ = new_token(resource_app)
    job = _failed_job(redis_client)
    prefix = resource_app.config["CW_SETTINGS"].redis_prefix
    redis_client.set(f"{prefix}:signals:BTC/USDT", "x")
    users = count_rows(resource_app, User)
    calls = (("POST", f"{A}/users", {"email": "x@example.com"}), ("POST", f"{A}/users/{trader_id}/password", None),
             ("GET", f"{A}/users/{trader_id}/deletion", None), ("DELETE", f"{A}/users/{trader_id}?confirm=x", None),
             ("POST", f"{A}/jobs/failed/alerts/{job}/requeue", None), ("DELETE", f"{A}/jobs/failed/alerts/{job}", None),
             ("POST", f"{A}/cache/clear", {"area": "signals"}))
    for auth in (no_scope, trader):
        for method, url, body in calls:
            resp = client.open(url, method=method, json=body, headers=auth)
            assert resp.status_code == 403 and "'admin' scope" in resp.get_json()["detail"], (method, url)
    assert count_rows(resource_app, User) == users and redis_client.exists(f"{prefix}:signals:BTC/USDT")
    from rq.registry import FailedJobRegistry

    assert job in FailedJobRegistry("alerts", connection=redis_client).get_job_ids()
