"""A session cookie copied before sign-out is refused afterwards on a page, every callback and a download."""
from __future__ import annotations

import json

from tests.conftest import logout
from tests.security.callback_requests import UPDATE, body
from tests.security.conftest import signed_in_client


def _thief(web, cookie: str):
    client = web.server.test_client()
    client.set_cookie("session", cookie)
    return client


def _finished_run(web, email: str) -> int:
    """A finished backtest of the user's own (demo candles, the in-process runner)."""
    from app.extensions import db
    from app.market.seed import seed_demo
    from app.models import Backtest, User
    from workers.backtests import submit
    from workers.queues import runner

    with web.server.app_context():
        seed_demo(db.session.connection(), web.server.config["CW_SETTINGS"])  # a no-op when current
        db.session.commit()
        uid = db.session.query(User).filter_by(email=email).one().id
        sub = submit(db.session, uid, {"symbols": ["BTC/USDT"], "timeframe": "1h", "start": "2000-01-01",
                                       "end": "2100-01-01", "strategy": "rsi_reversion", "params": {"length": "14"}})
        runner().wait(60)
        db.session.rollback()
        assert db.session.get(Backtest, sub.ids[0]).status == "finished"
        return sub.ids[0]


def test_cookie_replayed_after_sign_out_is_refused_everywhere(web, callbacks):
    victim = signed_in_client(web, "admin")  # an admin: every callback is open to the copy before sign-out
    run = _finished_run(web, victim.email)
    stolen = victim.get_cookie("session").value
    before = _thief(web, stolen)
    assert before.get("/").status_code == 200
    assert before.get(f"/backtests/{run}/download/trades.csv").status_code == 200
    for cb in callbacks:
        resp = before.post(UPDATE, data=json.dumps(body(cb.spec)), content_type="application/json")
        assert resp.status_code not in (401, 403), (cb.name, resp.status_code)

    assert logout(victim).status_code == 302

    after = _thief(web, stolen)
    page = after.get("/signals")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert after.get("/_dash-layout").status_code == 401
    download = after.get(f"/backtests/{run}/download/trades.csv")
    assert download.status_code == 302 and download.headers["Location"].startswith("/login")
    answers = {cb.name: after.post(UPDATE, data=json.dumps(body(cb.spec)), content_type="application/json").status_code
               for cb in callbacks}
    assert set(answers.values()) == {401}, answers
