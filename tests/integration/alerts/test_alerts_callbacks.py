"""The Alerts page's callbacks over HTTP (as the browser calls them): viewers are refused on the server,
refused input names the field and saves nothing, a good rule is saved for the signed-in user only."""
import json

import pytest

from tests.conftest import login

pytestmark = pytest.mark.integration


def _spec(client, input_id: str, output_has: str):
    deps = client.get("/_dash-dependencies").get_json()
    return next(d for d in deps if any(i["id"] == input_id for i in d["inputs"]) and output_has in d["output"])


def _outs(spec):
    outs = []
    for part in spec["output"].strip(".").split("..."):
        cid, prop = part.rsplit(".", 1)
        outs.append({"id": cid, "property": prop})
    return outs if len(outs) > 1 else outs[0]


def _call(client, spec, values: dict):
    """Fire ``spec`` with ``values`` (``id`` -> value; a pattern-matching state gets a list of (id, value))."""
    def dep(d):
        if d["id"].startswith("{"):  # a pattern-matching (ALL) dependency: one entry per matching component
            key = json.loads(d["id"])["type"]
            return [{"id": i, "property": d["property"], "value": (val if d["property"] == "value" else i)}
                    for i, val in values.get(key, [])]
        return {"id": d["id"], "property": d["property"], "value": values.get(d["id"])}

    payload = {"output": spec["output"], "outputs": _outs(spec), "inputs": [dep(d) for d in spec["inputs"]],
               "state": [dep(d) for d in spec["state"]],
               "changedPropIds": [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"]}
    return client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")


def _form(**kw):
    v = {"al-save": 1, "al-name": "BTC over 100k", "al-symbol": "BTC/USDT", "al-timeframe": "1h",
         "al-kind": "price_cross_up", "al-param": [({"type": "al-param", "index": "level"}, "100000")],
         "al-channels": ["inapp"], "al-frequency": "once_per_bar", "al-cooldown": "0", "al-quiet-start": "",
         "al-quiet-end": "", "al-expires": "", "al-edit-store": None, "al-version": 0}
    v.update(kw)
    return v


def _rules(dash_server, user_id):
    from app.extensions import db
    from app.models import AlertRule

    with dash_server.app_context():
        return [(r.name, r.params) for r in db.session.scalars(db.select(AlertRule).filter_by(user_id=user_id))]


def test_viewer_cannot_create_a_rule(dash_client, dash_server, make_dash_user):
    email, uid = make_dash_user("v", role="viewer")
    login(dash_client, email)
    resp = _call(dash_client, _spec(dash_client, "al-save", "al-form-msg.children"), _form())
    assert resp.status_code == 403 and _rules(dash_server, uid) == []


def test_refused_rule_names_the_field_and_saves_nothing_then_a_good_one_is_saved(dash_client, dash_server,
                                                                                 make_dash_user):
    email, uid = make_dash_user("t")
    login(dash_client, email)
    spec = _spec(dash_client, "al-save", "al-form-msg.children")
    for form, field in [(_form(**{"al-symbol": "DOGE/USDT"}), "symbol"),
                        (_form(**{"al-param": [({"type": "al-param", "index": "level"}, "lots")]}), "params.level"),
                        (_form(**{"al-cooldown": "-5"}), "cooldown_s")]:
        resp = _call(dash_client, spec, form)
        assert resp.status_code == 200
        assert field in resp.get_data(as_text=True)
    assert _rules(dash_server, uid) == []
    resp = _call(dash_client, spec, _form())
    assert resp.status_code == 200 and "Saved rule" in resp.get_data(as_text=True)
    assert _rules(dash_server, uid) == [("BTC over 100k", {"level": 100000.0})]


def test_webhook_settings_refuse_a_private_url_and_store_the_secret_encrypted(
        dash_client, dash_server, make_dash_user):
    from app.extensions import db
    from app.models import NotificationSettings

    email, uid = make_dash_user("t")
    login(dash_client, email)
    spec = _spec(dash_client, "al-s-save", "al-s-msg.children")
    base = {"al-s-save": 1, "al-s-timezone": "Europe/Berlin", "al-s-quiet-start": "", "al-s-quiet-end": "",
            "al-s-chat": "", "al-s-email": "me@example.com", "al-s-webhook": "http://10.0.0.5/hook",
            "al-s-format": "json", "al-s-secret": "a-long-webhook-secret", "al-pause-all": False}
    resp = _call(dash_client, spec, base)
    assert "webhook_url" in resp.get_data(as_text=True) and "public" in resp.get_data(as_text=True)
    with dash_server.app_context():
        assert db.session.get(NotificationSettings, uid) is None
    resp = _call(dash_client, spec, {**base, "al-s-webhook": "", "al-s-email": "me@nodomain"})
    assert "email" in resp.get_data(as_text=True)
    resp = _call(dash_client, spec, {**base, "al-s-webhook": ""})
    assert "Settings saved" in resp.get_data(as_text=True)
    with dash_server.app_context():
        row = db.session.get(NotificationSettings, uid)
        assert row.email == "me@example.com" and row.timezone == "Europe/Berlin"
        assert row.webhook_secret_enc and "a-long-webhook-secret" not in row.webhook_secret_enc


def _switch_value(server, user_id: int):
    """The value the Alerts page's layout renders the "pause my alerts" switch with for ``user_id``."""
    from flask_login import login_user

    from app.extensions import db
    from app.models import User
    from pages.alerts import PAUSE_ALL, layout

    with server.test_request_context("/alerts"):
        login_user(db.session.get(User, user_id))
        page = layout()
        value = next(c for c in page._traverse() if getattr(c, "id", None) == PAUSE_ALL).value
        db.session.remove()
    return value


def test_page_load_never_fires_the_pause_switch_write_and_the_switch_shows_the_stored_value(
        dash_client, dash_server, make_dash_user):
    """Before: ``load_settings`` filled the switch on page load, which fired ``pause_all`` (a write):
    a trader's value was rewritten and a viewer got a 403. Now no callback outputs the switch's value
    and ``pause_all`` runs only on a click; the page renders the stored value itself."""
    from app.extensions import db
    from app.models import NotificationSettings

    def stored(uid):
        with dash_server.app_context():
            row = db.session.get(NotificationSettings, uid)
            return None if row is None else (row.alerts_paused, row.updated_at)

    email, viewer = make_dash_user("pv", role="viewer")
    login(dash_client, email)
    deps = dash_client.get("/_dash-dependencies").get_json()
    assert not [d["output"] for d in deps if "al-pause-all.value" in d["output"]]  # nothing fills the switch
    spec = _spec(dash_client, "al-pause-all", "al-s-msg.children")
    assert spec["prevent_initial_call"] is True  # so the page load does not call it
    assert _switch_value(dash_server, viewer) is False
    assert _call(dash_client, spec, {"al-pause-all": True}).status_code == 403  # a viewer's click is refused
    assert stored(viewer) is None

    email, trader = make_dash_user("pt")
    login(dash_client, email)
    spec = _spec(dash_client, "al-pause-all", "al-s-msg.children")
    resp = _call(dash_client, spec, {"al-pause-all": True})  # the trader pauses: written
    assert resp.status_code == 200 and "paused" in resp.get_data(as_text=True)
    paused, at = stored(trader)
    assert paused is True and _switch_value(dash_server, trader) is True  # the next page load shows it
    resp = _call(dash_client, spec, {"al-pause-all": True})  # the same value again writes nothing
    assert resp.get_json()["response"] == {} and stored(trader) == (True, at)
    resp = _call(dash_client, spec, {"al-pause-all": False})  # the trader resumes
    assert resp.status_code == 200 and stored(trader)[0] is False


def test_preview_marks_where_the_rule_would_have_fired_over_the_last_n_bars(dash_client, dash_server, make_dash_user):
    from app.extensions import db
    from tests.integration.alerts.helpers import add_candles, crossing_candles

    with dash_server.app_context():  # a symbol of its own on the shared app's database: 120 closed 1h bars
        add_candles(db.session, crossing_candles(120), symbol="PRV/USDT")
        db.session.commit()
    email, _ = make_dash_user("pr", role="viewer")  # previewing stores nothing: viewers may
    login(dash_client, email)
    spec = _spec(dash_client, "al-preview", "al-chart.figure")
    form = _form(**{"al-preview": 1, "al-symbol": "PRV/USDT", "al-timeframe": "1h", "al-kind": "price_above", "al-frequency": "every_time",
                    "al-param": [({"type": "al-param", "index": "level"}, "1")], "al-preview-bars": "50"})
    resp = _call(dash_client, spec, form)
    assert resp.status_code == 200
    out = resp.get_json()["response"]
    assert "Would have fired 50 times over the last 50 bars" in json.dumps(out["al-form-msg"])
    [marks] = [t for t in out["al-chart"]["figure"]["data"] if t.get("name") == "would fire"]
    assert len(marks["x"]) == 50
    once = _call(dash_client, spec, {**form, "al-frequency": "once"}).get_json()["response"]
    assert "Would have fired 1 times over the last 50 bars" in json.dumps(once["al-form-msg"])
    refused = _call(dash_client, spec, {**form, "al-preview-bars": "5000"})
    assert "Preview bars" in refused.get_data(as_text=True) and "al-chart" not in refused.get_json()["response"]
