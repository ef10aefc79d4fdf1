"""Embedded mode (SQLite, no Redis, jobs in-process): a delivery whose receiver fails retryably is
sent again after the alerts queue's backoff interval, every attempt recorded, one message in the end;
when the retries run out it is 'failed'."""
import time

import pytest

from tests.conftest import make_settings
from tests.fakes.alert_receivers import WebhookReceiver
from tests.integration.alerts.helpers import (EXCHANGE, SECRET, SYMBOL, add_candles, add_channels, add_rule, add_user,
                                              attempts, crossing_candles, deliveries, wait_until)

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, alerts_allow_loopback=True)


@pytest.fixture
def hook():
    h = WebhookReceiver(SECRET)
    yield h
    h.close()


@pytest.fixture
def quick_backoff(monkeypatch):
    """The alerts queue's policy with its retry count cut to 2 and intervals of 0.6 s and 1.2 s (the
    real 2 s, 10 s, ... would make the test slow); the job reads the policy, as it reads the real one."""
    from dataclasses import replace

    from workers import queues

    monkeypatch.setitem(queues.POLICIES, "alerts",
                        replace(queues.POLICIES["alerts"], retries=2, retry_intervals=(0.6, 1.2)))


def _fire(app, hook):
    from app.extensions import db
    from workers.queues import enqueue, runner

    with app.app_context():
        assert runner().mode == "inprocess"
        add_candles(db.session, crossing_candles())
        uid = add_user(db.session)
        add_channels(db.session, app.config["CW_SETTINGS"], uid, webhook_url=hook.url + "/hook")
        add_rule(db.session, uid, channels=("inapp", "webhook"))
        db.session.commit()
        enqueue("alerts", "workers.alerts.evaluate", EXCHANGE, SYMBOL)


def test_a_retryable_failure_is_retried_after_the_backoff_and_sent_once(app, hook, quick_backoff):
    from app.extensions import db

    hook.plan = [(500, {"error": "busy"}, 0), (503, {"error": "busy"}, 0)]
    _fire(app, hook)
    with app.app_context():
        assert wait_until(lambda: deliveries(db.session).get("webhook", ("",))[0] == "sent", timeout=20), \
            deliveries(db.session)
        assert attempts(db.session, "webhook") == [("retry", 500), ("retry", 503), ("sent", 200)]
        assert deliveries(db.session)["webhook"] == ("sent", 3)
        db.session.remove()
    assert [r["status"] for r in hook.received] == [500, 503, 200]
    gaps = [b["t"] - a["t"] for a, b in zip(hook.received, hook.received[1:])]
    assert gaps[0] >= 0.6 and gaps[1] >= 1.2, gaps  # waited the backoff, not retried at once


def test_when_the_retries_run_out_the_delivery_is_failed(app, hook, quick_backoff):
    from app.extensions import db

    hook.plan = [(500, {"error": "down"}, 0)] * 5
    _fire(app, hook)
    with app.app_context():
        assert wait_until(lambda: deliveries(db.session).get("webhook", ("",))[0] == "failed", timeout=20), \
            deliveries(db.session)
        assert attempts(db.session, "webhook") == [("retry", 500), ("retry", 500), ("failed", 500)]
        db.session.remove()
    time.sleep(1.5)  # nothing is scheduled after the last attempt
    assert len(hook.received) == 3
