"""Emergency stop and resume from the Admin page over HTTP: refused to traders and viewers, audited,
and the banner is in every signed-in user's page while the stop lasts."""
import json

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.integration.admin.dash_calls import dash_post_by_input


def _stop(client, reason="maintenance"):
    return dash_post_by_input(client, "admin-confirm-stop", changed=["admin-confirm-stop.submit_n_clicks"],
                              values={"admin-confirm-stop.submit_n_clicks": 1, "admin-stop-reason.value": reason})


def _resume(client):
    return dash_post_by_input(client, "admin-confirm-resume", changed=["admin-confirm-resume.submit_n_clicks"],
                              values={"admin-confirm-resume.submit_n_clicks": 1})


def _banner_in_layout(client) -> bool:
    return "Emergency stop in force" in json.dumps(client.get("/_dash-layout").get_json())


@pytest.mark.parametrize("role", ["trader", "viewer"])
def test_stop_and_resume_are_refused_to_non_admins(dash_server, make_dash_user, role):
    import app.hot as hot

    email, _ = make_dash_user("nonadmin", role=role)
    client = dash_server.test_client()
    login(client, email)
    assert _stop(client).status_code == 403 and _resume(client).status_code == 403
    ask = dash_post_by_input(client, "admin-stop-button", values={"admin-stop-button.n_clicks": 1})
    assert ask.status_code == 403
    with dash_server.app_context():
        assert not hot.system_state().is_stopped()


def test_admin_stops_everyone_sees_the_banner_and_resume_lifts_it(dash_server, make_dash_user):
    import app.hot as hot
    from app.extensions import db
    from app.models.audit import AuditEvent

    admin_email, _ = make_dash_user("boss", role="admin")
    viewer_email, _ = make_dash_user("viewer", role="viewer")
    admin, viewer = dash_server.test_client(), dash_server.test_client()
    login(admin, admin_email)
    login(viewer, viewer_email)
    assert not _banner_in_layout(viewer)
    ask = dash_post_by_input(admin, "admin-stop-button", values={"admin-stop-button.n_clicks": 1})
    assert ask.get_json()["response"]["admin-confirm-stop"]["displayed"] is True
    with dash_server.app_context():
        assert not hot.system_state().is_stopped()  # asking does not stop
    try:
        resp = _stop(admin, "exchange outage")
        assert resp.status_code == 200
        out = json.dumps(resp.get_json()["response"]["shell-stop-banner"])
        assert "Emergency stop in force" in out and "exchange outage" in out
        assert _banner_in_layout(viewer)
        poll = dash_post_by_input(viewer, "shell-stop-poll", values={"shell-stop-poll.n_intervals": 1})
        assert "exchange outage" in poll.get_data(as_text=True)
        with dash_server.app_context():
            assert hot.system_state().stopped()["by"] == admin_email
    finally:
        resp = _resume(admin)
    assert resp.status_code == 200 and resp.get_json()["response"]["shell-stop-banner"]["children"] is None
    assert not _banner_in_layout(viewer)
    with dash_server.app_context():
        rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.actor_email == admin_email)
                                       .order_by(AuditEvent.id)))
        actions = [r.action for r in rows if r.action.startswith("system.")]
        assert actions == ["system.stop", "system.resume"]
        stop_row = next(r for r in rows if r.action == "system.stop")
        assert stop_row.before == {"stop": None} and stop_row.after["stop"]["reason"] == "exchange outage"
