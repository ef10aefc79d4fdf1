"""The audit log end to end: sign-in events, user actions, append-only rows, the admin-only CSV export
and the Admin page's table over HTTP."""
import csv
import io
import json
from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.models.audit import AuditEvent, AuditWriteError
from tests.conftest import login
from tests.integration.admin.dash_calls import dash_post

PASSWORD = "correct-horse-battery"


def _events(server, action=None):
    from app.extensions import db

    with server.app_context():
        q = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            q = q.where(AuditEvent.action == action)
        return [(e.action, e.actor_email, e.target, e.ip, e.before, e.after) for e in db.session.scalars(q)]


def test_sign_in_success_and_failure_are_recorded_without_the_password(server, client, make_user):
    make_user("t@example.com")
    assert login(client, "t@example.com", "wrong-password-xyz").status_code == 401
    assert login(client, "t@example.com", PASSWORD).status_code == 302
    events = _events(server)
    assert [e[0] for e in events] == ["sign_in.failure", "sign_in.success"]
    failure, success = events
    assert failure[1] == "t@example.com" and failure[3] == "127.0.0.1" and "Wrong" in failure[5]["reason"]
    assert success[1:3] == ("t@example.com", "t@example.com")
    assert PASSWORD not in repr(events) and "wrong-password-xyz" not in repr(events)


def test_user_actions_record_before_and_after(server, make_user):
    from app.auth.users import activate_user, deactivate_user, set_role
    from app.extensions import db
    from app.models import User

    admin = make_user("a@example.com", role="admin")
    tid = make_user("t@example.com")
    with server.app_context():
        acting = db.session.get(User, admin)
        deactivate_user(tid, acting, ip="10.1.2.3")
        deactivate_user(tid, acting, ip="10.1.2.3")  # idempotent: no second row
        activate_user(tid, acting, ip="10.1.2.3")
        set_role(tid, "viewer", acting, ip="10.1.2.3")
    events = _events(server)
    assert [e[0] for e in events] == ["user.deactivate", "user.activate", "user.role"]
    assert all(e[1] == "a@example.com" and e[2] == "t@example.com" and e[3] == "10.1.2.3" for e in events)
    assert events[0][4] == {"active": True} and events[0][5]["active"] is False
    assert events[2][4] == {"role": "trader"} and events[2][5]["role"] == "viewer"


def test_rows_cannot_be_changed_or_removed_through_the_application(server, make_user):
    from app.audit.log import Actor, record
    from app.extensions import db

    with server.app_context():
        row = record(db.session, "cache.clear", Actor("a@example.com", 1, "127.0.0.1"), target="cw:live")
        db.session.commit()
        row.target = "cw:other"
        with pytest.raises(AuditWriteError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEvent, row.id))
        with pytest.raises(AuditWriteError):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(AuditEvent, row.id).target == "cw:live"


def test_csv_export_is_for_admins_only_and_filters(server, client, make_user):
    make_user("a@example.com", role="admin")
    make_user("t@example.com")
    login(client, "t@example.com", "wrong-password-xyz")
    login(client, "t@example.com")
    assert client.get("/admin/audit.csv").status_code == 403
    admin = server.test_client()
    login(admin, "a@example.com")
    resp = admin.get("/admin/audit.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert {r["action"] for r in rows} == {"sign_in.failure", "sign_in.success"}
    assert rows[0]["actor_email"] == "a@example.com"  # newest first
    only = list(csv.DictReader(io.StringIO(admin.get("/admin/audit.csv?action=sign_in.failure").get_data(as_text=True))))
    assert [r["actor_email"] for r in only] == ["t@example.com"]
    bad = admin.get("/admin/audit.csv?since=yesterday")
    assert bad.status_code == 400 and "since" in bad.get_json()["error"]
    assert admin.get("/admin/audit.csv?action=user.explode").status_code == 400
    anonymous = server.test_client().get("/admin/audit.csv")
    assert anonymous.status_code in (302, 401)


def test_admin_page_audit_table_over_http(dash_client, dash_server, make_dash_user):
    admin_email, _ = make_dash_user("a", role="admin")
    trader_email, _ = make_dash_user("t")
    trader = dash_server.test_client()
    login(trader, trader_email)
    values = {"admin-audit-action.value": "sign_in", "admin-audit-text.value": trader_email,
              "admin-audit-refresh.n_clicks": None}
    assert dash_post(trader, "admin-audit-table.children", values).status_code == 403
    login(dash_client, admin_email)
    resp = dash_post(dash_client, "admin-audit-table.children", values)
    assert resp.status_code == 200
    out = resp.get_json()["response"]
    table = json.dumps(out["admin-audit-table"])
    assert trader_email in table and "sign_in.success" in table and admin_email not in table
    assert out["admin-audit-export"]["href"] == f"/admin/audit.csv?action=sign_in&text={quote(trader_email)}"
