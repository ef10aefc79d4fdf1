"""Per-user rate limits on expensive actions (``LIMIT_BACKTEST_SUBMIT``, ``LIMIT_BACKTEST_BATCH``,
``LIMIT_MODEL_TRAINING``), counted in the real Redis: past the limit a backtest or a batch is refused
with a message naming the action and nothing is written or enqueued; a refused (invalid) request does
not count; another user is not limited; the Admin page's training form says so and starts nothing."""
import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.integration.admin.dash_calls import dash_post_by_input
from tests.integration.workers.test_backtest_fairness import _form, _queued_job_ids, _rows, _setup

pytestmark = pytest.mark.integration


def test_backtests_and_batches_past_the_users_limit_are_refused_and_write_nothing(pg_app, redis_client):
    from app.backtest.requests import InvalidRequest
    from app.extensions import db
    from workers import backtests as jobs

    trader, admin = _setup(pg_app, limit_backtest_submit="2 per hour", limit_backtest_batch="1 per hour")
    one = {"symbols": ["BTC/USDT"], "params": {"fast": "5", "slow": "20"}}
    with pg_app.app_context():
        with pytest.raises(InvalidRequest):
            jobs.submit(db.session, trader, _form(strategy="no-such-strategy", **one))  # invalid: not counted
        db.session.rollback()
        singles = [jobs.submit(db.session, trader, _form(**one)) for _ in range(2)]
        with pytest.raises(InvalidRequest) as err:
            jobs.submit(db.session, trader, _form(**one))
        assert err.value.errors[0].startswith("Backtests: at most 2 per hour per user; try again in ")
        db.session.rollback()
        batch = jobs.submit(db.session, trader, _form())  # a batch has its own window
        with pytest.raises(InvalidRequest, match="^Backtest batches: at most 1 per hour per user"):
            jobs.submit(db.session, trader, _form())
        db.session.rollback()
        other = jobs.submit(db.session, admin, _form(**one))  # another user's window
    rows = _rows(pg_app)
    assert [r.id for r in rows if r.user_id == trader] == [*singles[0].ids, *singles[1].ids, *batch.ids]
    assert [r.id for r in rows if r.user_id == admin] == other.ids
    assert len(_queued_job_ids(pg_app)) <= len(rows)
    assert redis_client.keys("*cw:actions*"), "the windows live in the shared Redis"


def test_the_training_form_past_the_limit_says_so_and_starts_nothing(dash_server, make_dash_user):
    from app.extensions import db
    from app.hot.action_limits import action_limits
    from app.market.seed import seed_demo

    email, uid = make_dash_user("trainer", role="admin")
    saved = dash_server.config["CW_SETTINGS"]
    dash_server.config["CW_SETTINGS"] = saved.with_(limit_model_training="1 per hour")
    try:
        with dash_server.app_context():
            seed_demo(db.session.connection(), dash_server.config["CW_SETTINGS"])
            db.session.commit()
            action_limits(dash_server.config["CW_SETTINGS"]).hit("training", uid)  # their one training this hour
        client = dash_server.test_client()
        login(client, email)
        resp = dash_post_by_input(client, "admin-train-button", changed=["admin-train-button.n_clicks"],
                                  values={"admin-train-button.n_clicks": 1, "admin-train-symbol.value": "BTC/USDT",
                                          "admin-train-timeframe.value": "1h", "admin-train-epochs.value": 2})
    finally:
        dash_server.config["CW_SETTINGS"] = saved
    out = resp.get_json()["response"]
    text = str(out["admin-train-output"]["children"])
    assert "Model trainings: at most 1 per hour per user; try again in " in text
    assert "admin-train-job" not in out and out["admin-train-poll"]["disabled"] is True
