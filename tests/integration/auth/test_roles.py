"""Admin page and admin callbacks: refused to traders on the server, whatever the client sends."""
import json

from tests.conftest import login


def _dash_call(client, output, inputs, state=None, changed=None):
    payload = {"output": output, "outputs": _outputs(output), "inputs": inputs, "state": state or [],
               "changedPropIds": changed or [f"{i['id']}.{i['property']}" for i in inputs]}
    return client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")


def _outputs(output):
    parts = output.strip(".").split("...")
    outs = []
    for p in parts:
        cid, prop = p.rsplit(".", 1)
        outs.append({"id": cid, "property": prop})
    return outs if len(outs) > 1 else outs[0]


def test_admin_page_layout_is_403_content_for_traders(dash_server, make_dash_user):
    email, _ = make_dash_user("t")
    from pages import admin

    with dash_server.test_request_context("/admin"):
        from flask_login import login_user
        from app.extensions import db
        from app.models import User

        login_user(db.session.scalar(db.select(User).filter_by(email=email)))
        content = admin.layout()
    assert content.id == "admin-forbidden"
    assert "403" in str(content.children)


def test_admin_page_layout_shows_users_for_admins(dash_server, make_dash_user):
    email, _ = make_dash_user("a", role="admin")
    from flask_login import login_user
    from pages import admin
    from app.extensions import db
    from app.models import User

    with dash_server.test_request_context("/admin"):
        login_user(db.session.scalar(db.select(User).filter_by(email=email)))
        content = admin.layout()
    assert getattr(content, "id", None) != "admin-forbidden"
    assert "Users" in str(content)


def test_admin_callback_refused_for_trader(dash_client, make_dash_user):
    client = dash_client
    email, _ = make_dash_user("t")
    login(client, email)
    resp = _dash_call(client, "..admin-users.children...admin-mode.children..",
                      [{"id": "admin-users", "property": "id", "value": "admin-users"}])
    assert resp.status_code == 403


def test_admin_callback_answers_admin(dash_client, make_dash_user):
    client = dash_client
    admin_email, _ = make_dash_user("a", role="admin")
    trader_email, _ = make_dash_user("t")
    login(client, admin_email)
    resp = _dash_call(client, "..admin-users.children...admin-mode.children..",
                      [{"id": "admin-users", "property": "id", "value": "admin-users"}])
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert trader_email in body and admin_email in body


def _toggle_payload(client, target_id, action="deactivate"):
    deps = client.get("/_dash-dependencies").get_json()
    spec = next(d for d in deps if "admin-users-msg.children" in d["output"])
    outs = []
    for part in spec["output"].strip(".").split("..."):
        cid, prop = part.rsplit(".", 1)
        outs.append({"id": cid, "property": prop})
    kind = f"admin-user-{action}"
    key = json.dumps({"index": target_id, "type": kind}, separators=(",", ":"))
    inputs = [[{"id": {"type": kind, "index": target_id}, "property": "n_clicks", "value": 1}]
              if json.loads(d["id"])["type"] == kind else [] for d in spec["inputs"]]
    return {
        "output": spec["output"], "outputs": outs, "state": [], "inputs": inputs,
        "changedPropIds": [f"{key}.n_clicks"],
    }


def test_admin_toggle_deactivates_a_user_but_a_trader_cannot(dash_client, make_dash_user, dash_server):
    from app.extensions import db
    from app.models import User

    client, server = dash_client, dash_server
    admin_email, _ = make_dash_user("a", role="admin")
    trader_email, tid = make_dash_user("t")
    trader = server.test_client()
    login(trader, trader_email)
    assert trader.post("/_dash-update-component", json=_toggle_payload(trader, tid)).status_code == 403
    with server.app_context():
        assert db.session.get(User, tid).active is True

    login(client, admin_email)
    resp = client.post("/_dash-update-component", json=_toggle_payload(client, tid))
    assert resp.status_code == 200 and "deactivated" in resp.get_data(as_text=True)
    with server.app_context():
        assert db.session.get(User, tid).active is False
