"""The "send test notification" button: answered while the user waits, so bounded (no retry_after
sleep, the channel timeouts), and the outcome reported; over HTTP, viewers are refused."""
import json
import time
from types import SimpleNamespace

import pytest
from limits.storage import MemoryStorage

from app.alerts.try_channel import send_test
from tests.conftest import login, make_settings
from tests.fakes.alert_receivers import FakeTelegram, WebhookReceiver

pytestmark = pytest.mark.integration


def _prefs(**kw):
    base = dict(telegram_chat_id=None, email=None, webhook_url=None, webhook_format="json", webhook_secret_enc=None)
    return SimpleNamespace(**{**base, **kw})


def test_a_test_send_reports_success_and_never_sleeps_through_a_telegram_retry_after():
    tg, hook = FakeTelegram(), WebhookReceiver("")
    try:
        s = make_settings(telegram_bot_token="9:TOKEN", telegram_base_url=tg.url, alerts_allow_loopback=True)
        ok = send_test("telegram", _prefs(telegram_chat_id="77"), s, store=MemoryStorage())
        assert ok.ok and ok.text == "Test telegram notification sent (HTTP 200)."
        assert "Test of the telegram channel" in tg.messages()[0]["text"]
        tg.plan = [(429, {"ok": False, "parameters": {"retry_after": 5}}, 0)]
        t0 = time.monotonic()
        busy = send_test("telegram", _prefs(telegram_chat_id="77"), s, store=MemoryStorage())
        assert time.monotonic() - t0 < 3 and not busy.ok and "retry after 5 s" in busy.text
        assert len(tg.received) == 2  # asked once, not again after a wait
        hooked = send_test("webhook", _prefs(webhook_url=hook.url + "/h"), s)
        assert hooked.ok and "HTTP 200" in hooked.text and len(hook.received) == 1
        # a receiver that does not answer in time: the webhook timeout bounds the wait
        hook.plan = [(200, {}, 3.0)]
        t0 = time.monotonic()
        slow = send_test("webhook", _prefs(webhook_url=hook.url + "/h"),
                         make_settings(alerts_allow_loopback=True, webhook_timeout_s=0.5))
        assert time.monotonic() - t0 < 2.5 and not slow.ok and "Timeout" in slow.text
        missing = send_test("email", _prefs(), s)
        assert not missing.ok and missing.text == "Test email notification failed: no e-mail address set"
    finally:
        tg.close(), hook.close()


def _press(client, channel: str):
    """The browser's call when the Test <channel> button is clicked (a pattern-matching ALL input)."""
    deps = client.get("/_dash-dependencies").get_json()
    spec = next(d for d in deps if '"al-test"' in d["inputs"][0]["id"] and "al-s-msg" in d["output"])
    cid, prop = spec["output"].rsplit(".", 1)
    buttons = [{"id": {"index": ch, "type": "al-test"}, "property": "n_clicks", "value": 1 if ch == channel else None}
               for ch in ("telegram", "email", "webhook")]
    payload = {"output": spec["output"], "outputs": {"id": cid, "property": prop}, "inputs": [buttons], "state": [],
               "changedPropIds": [json.dumps({"index": channel, "type": "al-test"}, separators=(",", ":"))
                                  + ".n_clicks"]}
    return client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")


def test_the_test_button_over_http_reports_the_outcome_and_refuses_viewers(dash_client, make_dash_user):
    email, _ = make_dash_user("tv", role="viewer")
    login(dash_client, email)
    assert _press(dash_client, "webhook").status_code == 403
    email, _ = make_dash_user("tt")
    login(dash_client, email)
    resp = _press(dash_client, "webhook")  # nothing saved yet: the failure is reported, not raised
    assert resp.status_code == 200
    assert "Test webhook notification failed: no notification settings saved" in resp.get_data(as_text=True)
