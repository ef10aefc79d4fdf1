"""Short transactions under concurrency on PostgreSQL: backtest runs, analysis jobs and signed-in requests
at once, with every computation slowed to 1.5 s; ``pg_stat_activity``, sampled every 50 ms, never shows a
connection ``idle in transaction`` for 1 s or more (each read ends its transaction before computing)."""
import threading
import time

import pytest
import sqlalchemy as sa

from tests.conftest import PG_ADMIN_URL, dispose, login, make_settings, migrate_app

pytestmark = pytest.mark.integration
SLOW_S = 1.5
FORM = {"symbols": ["BTC/USDT"], "timeframe": "1h", "start": "2000-01-01", "end": "2100-01-01",
        "strategy": "rsi_reversion", "params": {"length": "14"}}


class IdleSampler(threading.Thread):
    def __init__(self, database: str):
        super().__init__(daemon=True)
        self.engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.database, self.stop, self.max_s, self.samples, self.seen_busy = database, threading.Event(), 0.0, 0, 0

    def run(self):
        q = sa.text("SELECT count(*) FILTER (WHERE state <> 'idle'), "
                    "coalesce(max(extract(epoch FROM now() - state_change)) "
                    "FILTER (WHERE state = 'idle in transaction'), 0) "
                    "FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()")
        with self.engine.connect() as conn:
            while not self.stop.is_set():
                busy, idle = conn.execute(q, {"d": self.database}).one()
                self.samples += 1
                self.seen_busy += busy > 0
                self.max_s = max(self.max_s, float(idle))
                time.sleep(0.05)
        self.engine.dispose()


@pytest.fixture
def pg_server(fresh_pg_url, tmp_path):
    from app.server import create_server

    server = create_server(make_settings(tmp_path, database_url=fresh_pg_url))
    migrate_app(server)
    yield server
    dispose(server)


def test_no_connection_idles_in_a_transaction_while_jobs_compute(pg_server, fresh_pg_url, monkeypatch):
    import app.analysis.analyze as analyze_mod
    import app.backtest.execute as execute_mod
    from app.analysis.analyze import analyze_symbol
    from app.analysis.incremental import FrameMemo
    from app.auth.users import create_user
    from app.backtest import submit
    from app.extensions import db
    from app.market.seed import seed_demo
    from app.models.backtest import Backtest

    slow_run, slow_frames = execute_mod._run, analyze_mod.analyze_frames

    def _run(*a, **k):
        time.sleep(SLOW_S)
        return slow_run(*a, **k)

    def analyze_frames(*a, **k):
        time.sleep(SLOW_S)
        return slow_frames(*a, **k)

    monkeypatch.setattr(execute_mod, "_run", _run)
    monkeypatch.setattr(analyze_mod, "analyze_frames", analyze_frames)
    with pg_server.app_context():
        seed_demo(db.session.connection(), pg_server.config["CW_SETTINGS"])
        db.session.commit()
        uid = create_user("ann@example.com", "correct-horse-battery").id
        ids = [submit.create_runs(db.session, uid, FORM)[0][0].id for _ in range(2)]
    errors: list[BaseException] = []

    def backtest(bid):
        with pg_server.app_context():
            execute_mod.execute(db.session, bid)

    def analysis():
        with pg_server.app_context():
            analyze_symbol(db.session, "demo", "BTC/USDT", end_read=db.session.commit, memo=FrameMemo())
            db.session.commit()

    def requests(stop):
        client = pg_server.test_client()
        assert login(client, "ann@example.com").status_code == 302
        while not stop.is_set():
            assert client.get("/_dash-layout").status_code == 404  # signed in, past the guard

    def guarded(fn, *args):
        def go():
            try:
                fn(*args)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
        return threading.Thread(target=go)

    sampler = IdleSampler(fresh_pg_url.rsplit("/", 1)[1])
    sampler.start()
    stop = threading.Event()
    clients = [guarded(requests, stop) for _ in range(3)]
    jobs = [guarded(backtest, bid) for bid in ids] + [guarded(analysis) for _ in range(2)]
    for t in clients + jobs:
        t.start()
    for t in jobs:
        t.join(120)
    stop.set()
    for t in clients:
        t.join(30)
    time.sleep(0.2)
    sampler.stop.set()
    sampler.join(10)
    assert not errors, errors
    with pg_server.app_context():
        assert {r.status for r in db.session.scalars(sa.select(Backtest).where(Backtest.id.in_(ids)))} == {"finished"}
    assert sampler.samples >= 10 and sampler.seen_busy > 0
    assert sampler.max_s < 1.0, f"a connection sat idle in a transaction for {sampler.max_s:.2f} s"
