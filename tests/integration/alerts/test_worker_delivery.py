"""Alerts on real PostgreSQL, Redis and RQ workers, delivered to servers on 127.0.0.1 that the tests start:
the pipeline step after analysis, exactly one event and one message per channel (even across a
SIGKILL mid-delivery), retries after a 500, and the emergency stop pausing delivery."""
import json
import signal

import psutil
import pytest
from sqlalchemy import text

from tests.fakes.alert_receivers import FakeTelegram, SMTPSink, WebhookReceiver
from tests.integration.alerts.helpers import (EXCHANGE, SECRET, SYMBOL, add_candles, add_channels, add_rule, add_user,
                                              attempts, crossing_candles, deliveries, wait_until)

pytestmark = pytest.mark.integration
BOT = "4242:TESTTOKEN"


@pytest.fixture
def receivers():
    hook, tg, smtp = WebhookReceiver(SECRET), FakeTelegram(), SMTPSink()
    yield hook, tg, smtp
    hook.close(), tg.close(), smtp.close()


def _env(tg, smtp):
    return {"ALERTS_ALLOW_LOOPBACK": "1", "TELEGRAM_BOT_TOKEN": BOT, "TELEGRAM_BASE_URL": tg.url,
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_STARTTLS": "0"}


def _setup(pg_app, hook, channels=("inapp", "webhook", "telegram", "email")):
    from app.extensions import db

    settings = pg_app.config["CW_SETTINGS"]
    with pg_app.app_context():
        add_candles(db.session, crossing_candles())
        uid = add_user(db.session)
        add_channels(db.session, settings, uid, webhook_url=hook.url + "/hook", chat_id="-1001", email="alice@example.com")
        add_rule(db.session, uid, channels=channels)
        db.session.commit()
    return uid


def _count(pg_app, sql):
    from app.extensions import db

    with pg_app.app_context():
        db.session.rollback()
        return db.session.execute(text(sql)).scalar()


def test_analysis_hands_on_to_alerts_and_each_channel_gets_exactly_one_message(pg_app, fresh_pg_url, rq_worker,
                                                                                receivers):
    from app.extensions import db
    from workers.queues import enqueue

    hook, tg, smtp = receivers
    _setup(pg_app, hook)
    rq_worker("analysis", "alerts", database_url=fresh_pg_url, env=_env(tg, smtp), scheduler=True)
    with pg_app.app_context():
        job = enqueue("analysis", "workers.analysis.analyze", EXCHANGE, SYMBOL)
        with_done = wait_until(lambda: set(v[0] for v in deliveries(db.session).values()) == {"sent"}
                               and len(deliveries(db.session)) == 3, timeout=90)
        assert with_done, (deliveries(db.session), job.id)
        assert _count(pg_app, "SELECT count(*) FROM alert_events") == 1
        # evaluating the same bar again (a retry, a second worker, the sweep) records and sends nothing new
        enqueue("alerts", "workers.alerts.evaluate", EXCHANGE, SYMBOL)
        enqueue("alerts", "workers.alerts.evaluate", EXCHANGE, SYMBOL)
        wait_until(lambda: _count(pg_app, "SELECT count(*) FROM alert_events") > 1, timeout=6)
        assert _count(pg_app, "SELECT count(*) FROM alert_events") == 1
    assert len(hook.received) == 1 and hook.verified(hook.received[0])
    body = json.loads(hook.received[0]["body"])
    assert body["event"]["symbol"] == SYMBOL and "BTC over 100" in body["text"]
    assert [m["chat_id"] for m in tg.messages()] == ["-1001"] and tg.received[0]["path"] == f"/bot{BOT}/sendMessage"
    assert len(smtp.messages) == 1 and smtp.messages[0]["To"] == "alice@example.com"
    with pg_app.app_context():
        assert attempts(db.session, "webhook") == [("sent", 200)]
        assert attempts(db.session, "telegram") == [("sent", 200)]


def test_a_500_then_200_is_retried_with_every_attempt_recorded(pg_app, fresh_pg_url, rq_worker, receivers):
    from app.extensions import db
    from workers.queues import enqueue

    hook, tg, smtp = receivers
    _setup(pg_app, hook, channels=("inapp", "webhook"))
    hook.plan = [(500, {"error": "busy"}, 0)]
    rq_worker("alerts", database_url=fresh_pg_url, env=_env(tg, smtp), scheduler=True)
    with pg_app.app_context():
        enqueue("alerts", "workers.alerts.evaluate", EXCHANGE, SYMBOL)
        assert wait_until(lambda: deliveries(db.session).get("webhook", ("",))[0] == "sent", timeout=60), \
            deliveries(db.session)
        assert attempts(db.session, "webhook") == [("retry", 500), ("sent", 200)]
        assert deliveries(db.session)["webhook"] == ("sent", 2)
    assert [r["status"] for r in hook.received] == [500, 200]


def test_telegram_429_retry_after_is_honoured_and_both_tries_recorded(pg_app, fresh_pg_url, rq_worker, receivers):
    from app.extensions import db
    from workers.queues import enqueue

    hook, tg, smtp = receivers
    _setup(pg_app, hook, channels=("inapp", "telegram"))
    tg.plan = [(429, {"ok": False, "error_code": 429, "parameters": {"retry_after": 2}}, 0)]
    rq_worker("alerts", database_url=fresh_pg_url, env=_env(tg, smtp), scheduler=True)
    with pg_app.app_context():
        enqueue("alerts", "workers.alerts.evaluate", EXCHANGE, SYMBOL)
        assert wait_until(lambda: deliveries(db.session).get("telegram", ("",))[0] == "sent", timeout=60), \
            deliveries(db.session)
        assert attempts(db.session, "telegram") == [("retry", 429), ("sent", 200)]
    first, second = tg.received
    assert (first["status"], second["status"]) == (429, 200) and second["t"] - first["t"] >= 2.0
    assert len(tg.messages()) == 1


def test_sigkill_mid_delivery_never_sends_twice(pg_app, fresh_pg_url, rq_worker, receivers):
    """The work horse dies while the webhook receiver holds the request (the message has arrived, the
    outcome is not recorded). RQ retries the job; the retry finds its own claim, marks the delivery
    'unknown' and does not send again: one message per channel."""
    from app.extensions import db
    from workers.queues import enqueue

    hook, tg, smtp = receivers
    _setup(pg_app, hook)
    hook.plan = [(200, {"ok": True}, 15.0)]  # hold the first webhook request 15 s
    worker = rq_worker("alerts", database_url=fresh_pg_url, env=_env(tg, smtp), scheduler=True)
    with pg_app.app_context():
        enqueue("alerts", "workers.alerts.evaluate", EXCHANGE, SYMBOL)
        assert wait_until(lambda: len(hook.received) >= 1, timeout=60)
        parent = psutil.Process(worker.pid)
        horses = parent.children(recursive=True)
        killed = 0
        for p in horses:  # the work horse holding the connection to the receiver (the scheduler is a child too)
            try:
                if any(c.raddr and c.raddr.port == int(hook.url.rsplit(":", 1)[1]) for c in p.net_connections()):
                    p.send_signal(signal.SIGKILL)
                    killed += 1
            except psutil.NoSuchProcess:
                pass
        assert killed == 1, [p.cmdline() for p in horses]
        assert wait_until(lambda: deliveries(db.session).get("webhook", ("",))[0] == "unknown", timeout=60), \
            deliveries(db.session)
        assert wait_until(lambda: all(deliveries(db.session)[c][0] == "sent" for c in ("telegram", "email")),
                          timeout=30), deliveries(db.session)
        assert attempts(db.session, "webhook") == [("unknown", None)]
    assert len(hook.received) == 1 and len(tg.messages()) == 1 and len(smtp.messages) == 1


def test_emergency_stop_pauses_delivery_and_the_sweep_sends_after_resume(pg_app, fresh_pg_url, rq_worker, receivers):
    import app.hot as hot
    from app.extensions import db
    from workers.queues import enqueue

    hook, tg, smtp = receivers
    _setup(pg_app, hook, channels=("inapp", "webhook"))
    rq_worker("alerts", database_url=fresh_pg_url, env=_env(tg, smtp), scheduler=True)
    with pg_app.app_context():
        settings = pg_app.config["CW_SETTINGS"]
        hot.system_state(settings).stop("admin@example.com", "exchange outage")
        job = enqueue("alerts", "workers.alerts.evaluate", EXCHANGE, SYMBOL)
        assert wait_until(lambda: _count(pg_app, "SELECT count(*) FROM alert_events") == 1, timeout=60)
        wait_until(lambda: False, timeout=3)
        assert deliveries(db.session) == {"webhook": ("pending", 0)} and hook.received == []
        hot.system_state(settings).resume()
        db.session.execute(text("UPDATE alert_events SET fired_at = fired_at - interval '5 minutes'"))
        db.session.commit()
        enqueue("alerts", "workers.alerts.sweep")
        assert wait_until(lambda: deliveries(db.session)["webhook"][0] == "sent", timeout=60), job.id
    assert len(hook.received) == 1
