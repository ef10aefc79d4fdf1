"""Transactions and paper strategies in storage (SQLite, embedded mode): owner scoping, the ledger rule on
add/edit/delete, the kill switch and the emergency stop in the paper job."""
from datetime import datetime, timezone

import pytest

from tests.unit.backtest.backtest_candles import random_candles

pytestmark = pytest.mark.integration
KNOWN = ("BTC/USDT",)
BARS = random_candles(n=300 + 80, seed=5, start="2025-06-01")


def _tx(**kw):
    from app.portfolio.transactions import make_transaction

    base = dict(time="2026-01-02", kind="buy", asset="BTC/USDT", quantity="1", price="100")
    return make_transaction(known_assets=KNOWN, **{**base, **kw})


def test_ledger_rule_on_add_edit_delete_and_owner_scope(app):
    from app.auth.users import create_user
    from app.extensions import db
    from app.portfolio import store
    from app.portfolio.transactions import TransactionError

    with app.app_context():
        owner = create_user("o@example.com", "correct-horse-battery").id
        other = create_user("x@example.com", "correct-horse-battery").id
        store.add_transactions(db.session, owner, [_tx(kind="deposit", asset="", price="", quantity="500",
                                                       time="2026-01-01"), _tx()])
        db.session.commit()
        buy = [t for t in store.transactions(db.session, owner) if t.kind == "buy"][0]
        with pytest.raises(TransactionError, match="^quantity: sells 2"):
            store.add_transactions(db.session, owner, [_tx(kind="sell", quantity="2", time="2026-01-03")])
        store.add_transactions(db.session, owner, [_tx(kind="sell", quantity="1", time="2026-01-03")])
        db.session.commit()
        with pytest.raises(TransactionError, match="^quantity: sells 1"):     # deleting the buy strands the sell
            store.delete_transaction(db.session, owner, buy.id)
        with pytest.raises(TransactionError, match="^quantity: sells 1"):     # so does moving it after the sell
            store.update_transaction(db.session, owner, buy.id, _tx(time="2026-01-04"))
        with pytest.raises(LookupError):
            store.delete_transaction(db.session, other, buy.id)
        store.update_transaction(db.session, owner, buy.id, _tx(price="90"))
        db.session.commit()
        assert [t.price for t in store.transactions(db.session, owner) if t.kind == "buy"] == [90.0]
        assert store.transactions(db.session, other) == []


def test_kill_switch_and_emergency_stop_halt_the_paper_job(app):
    import app.hot as hot
    from app.auth.users import create_user
    from app.backtest.config import BacktestConfig
    from app.extensions import db
    from app.market import store as candles
    from app.models import PaperStrategy
    from app.portfolio import paper, store
    from workers.paper import step

    with app.app_context():
        owner = create_user("o@example.com", "correct-horse-battery").id
        sid = candles.get_or_create_series(db.session.connection(), "demo", "BTC/USDT", "1h")
        candles.upsert_candles(db.session.connection(), sid, BARS)
        spec = paper.make_spec(exchange="demo", symbol="BTC/USDT", timeframe="1h", strategy="ma_cross",
                               params={"fast": 5, "slow": 20}, config=BacktestConfig(), start_at=BARS.index[300])
        a = store.create_strategy(db.session, owner, spec).id
        b = store.create_strategy(db.session, owner, spec).id
        store.set_status(db.session, owner, b, "stopped")
        db.session.commit()

        state = hot.system_state(app.config["CW_SETTINGS"])
        state.stop("admin@example.com", "drill")
        assert step("demo", "BTC/USDT") == {"halted": True, "steps": []}
        assert db.session.get(PaperStrategy, a).processed_through is None
        state.resume()

        out = step("demo", "BTC/USDT")
        assert [s["strategy_id"] for s in out["steps"]] == [a]                # the stopped one is skipped
        db.session.expire_all()
        assert db.session.get(PaperStrategy, a).processed_through == BARS.index[-1].to_pydatetime()
        assert db.session.get(PaperStrategy, b).processed_through is None
        expected = paper.fills(paper.run(spec, BARS))
        assert len(store.stored_fills(db.session, a)) == len(expected) > 0
        assert store.stored_fills(db.session, b) == []
        assert step("demo", "BTC/USDT")["steps"][0]["new_fills"] == 0      # nothing new: nothing written
        assert datetime.now(timezone.utc) > BARS.index[-1]

        from app.portfolio.stepper import reconcile_strategy

        row = db.session.get(PaperStrategy, a)
        whole = reconcile_strategy(db.session, row)
        assert whole["match_rate"] == 100.0 and whole["total"] == len(expected)
        since, until = BARS.index[320], BARS.index[350]
        span = reconcile_strategy(db.session, row, since=since, until=until)
        inside = [f for f in expected if since <= f.time <= until]
        assert span["match_rate"] == 100.0 and span["total"] == len(inside) > 0
        assert span["through"] == until.isoformat()


def test_the_paper_stage_follows_analysis_only_for_symbols_with_paper_work(app):
    from app.auth.users import create_user
    from app.backtest.config import BacktestConfig
    from app.extensions import db
    from app.portfolio import paper, store
    from workers import pipeline

    assert ("paper_job", pipeline.enqueue_paper) in pipeline.AFTER_ANALYSIS
    settings = app.config["CW_SETTINGS"]
    with app.app_context():
        assert pipeline.enqueue_paper("demo", "BTC/USDT", settings) is None
        owner = create_user("o@example.com", "correct-horse-battery").id
        spec = paper.make_spec(exchange="demo", symbol="BTC/USDT", timeframe="1h", strategy="buy_and_hold",
                               params={}, config=BacktestConfig(), start_at=datetime.now(timezone.utc))
        sid = store.create_strategy(db.session, owner, spec).id
        db.session.commit()
        assert pipeline.enqueue_paper("demo", "BTC/USDT", settings) is not None
        assert pipeline.enqueue_paper("demo", "ETH/USDT", settings) is None
        store.set_status(db.session, owner, sid, "stopped")
        db.session.commit()
        assert pipeline.enqueue_paper("demo", "BTC/USDT", settings) is None


def test_portfolios_of_a_user_are_separate_ledgers(app):
    from app.auth.users import create_user
    from app.extensions import db
    from app.portfolio import store
    from app.portfolio.transactions import TransactionError

    with app.app_context():
        owner = create_user("o@example.com", "correct-horse-battery").id
        cash = _tx(kind="deposit", asset="", price="", quantity="500", time="2026-01-01")
        store.add_transactions(db.session, owner, [cash, _tx()])
        store.add_transactions(db.session, owner, [cash], portfolio="long term")
        db.session.commit()
        assert store.portfolios(db.session, owner) == ["main", "long term"]
        assert [t.kind for t in store.transactions(db.session, owner, "long term")] == ["deposit"]
        with pytest.raises(TransactionError, match="^quantity: sells 1"):   # the BTC is held in main only
            store.add_transactions(db.session, owner, [_tx(kind="sell", time="2026-01-03")], portfolio="long term")
        with pytest.raises(TransactionError, match="^portfolio: "):
            store.add_transactions(db.session, owner, [cash], portfolio="<script>")
