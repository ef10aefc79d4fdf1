"""Bad input on the Admin page's remaining forms, over HTTP as the browser sends it: the controls'
stop reason, the cache area, the audit filter, the training form (an unknown or removed symbol, epochs
out of range). Each answer names its field, and nothing changes (no stop, no audit row, no job)."""
import json

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.integration.admin.dash_calls import dash_post_by_input

pytestmark = pytest.mark.integration


def _text(resp) -> str:
    """The answer's outputs and side updates (a refused value's field message goes to its section)."""
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    doc = resp.get_json()
    return json.dumps([doc.get("response"), doc.get("sideUpdate")])


def test_bad_input_on_the_other_admin_forms_names_the_field_and_changes_nothing(dash_server, make_dash_user):
    import app.hot as hot
    from app.extensions import db
    from app.models import AuditEvent

    email, _ = make_dash_user("forms", role="admin")
    client = dash_server.test_client()
    login(client, email)

    def audits():
        with dash_server.app_context():
            return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action.in_(("system.stop", "cache.clear"))))

    before = audits()
    stop = dash_post_by_input(client, "admin-confirm-stop", changed=["admin-confirm-stop.submit_n_clicks"],
                              values={"admin-confirm-stop.submit_n_clicks": 1, "admin-stop-reason.value": "x" * 5000})
    assert "Reason holds 5,000 characters; at most 500." in _text(stop)
    with dash_server.app_context():
        assert not hot.system_state().is_stopped()

    for cid, prop in (("admin-cache-clear", "n_clicks"), ("admin-confirm-cache", "submit_n_clicks")):
        resp = dash_post_by_input(client, cid, changed=[f"{cid}.{prop}"],
                                  values={f"{cid}.{prop}": 1, "admin-cache-area.value": "sessions"})
        assert "Cache area" in _text(resp), cid

    audit = dash_post_by_input(client, "admin-audit-action", changed=["admin-audit-action.value"],
                               values={"admin-audit-action.value": "user.explode", "admin-audit-text.value": ""})
    assert "action must be one of" in _text(audit)

    def train(symbol, epochs):
        return _text(dash_post_by_input(client, "admin-train-button", changed=["admin-train-button.n_clicks"],
                                        values={"admin-train-button.n_clicks": 1,
                                                "admin-train-symbol.value": symbol,
                                                "admin-train-timeframe.value": "1h",
                                                "admin-train-epochs.value": epochs}))

    assert "Symbol and timeframe: choose them from the lists" in train("NOPE/USDT", 5)
    assert "Max epochs" in train("BTC/USDT", 0)
    assert "admin-train-job" not in train("NOPE/USDT", 5)
    assert audits() == before
