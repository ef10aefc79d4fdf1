"""Benchmark: alert evaluation of 10,000 rules, and bar-to-event / bar-to-Telegram latency on a real worker.

Run from the repo root (needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379):

    .venv/bin/python bench/alerts.py

1. ``eval_10k_rules``: 10,000 active rules over 20 symbols (1h, 400 closed bars each; 70 % price-level
   rules, the rest RSI, MACD, moving-average, Bollinger, volume-spike and pattern rules) evaluated on
   the latest closed bar with ``app.alerts.evaluate.evaluate_symbol``, the pass the job runs after
   loading (median of 7 runs). The indicator arrays (one pass per symbol, shared by every rule) are
   timed separately.
2. End to end, with one real ``rq worker`` (queues analysis and alerts) on a throwaway PostgreSQL
   database and Redis database 14 (emptied): per round a new symbol's history is stored without its
   last bar and a rule is created (channels in-app and Telegram, to a fake Bot API on 127.0.0.1);
   then the clock starts, the last closed bar is stored and committed and the analysis is enqueued
   exactly as ``workers.pipeline.after_ingest`` does. ``bar_to_event`` ends when the ``alert_events``
   row is visible in PostgreSQL, ``bar_to_telegram`` when the fake Bot API receives ``sendMessage``.
   Median of the rounds. The analysis job evaluates the alerts itself; the delivery job waits for a
   free worker. Then the same rounds again with a second worker, non-forking
   (``workers.worker.SimpleWorker``), on the alerts queue only (``..._with_alerts_worker``); the
   three required lines come last and are the single-worker numbers.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
ROUNDS = 5


def walk(n: int, seed: int, start: pd.Timestamp, price: float = 100.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.concatenate(([price], close[:-1]))
    spread = np.abs(rng.normal(0, 0.002, n)) * close
    idx = pd.date_range(start, periods=n, freq="1h", name="time")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) + spread,
                         "low": np.minimum(open_, close) - spread, "close": close,
                         "volume": rng.uniform(1, 10, n)}, index=idx)


def bench_eval() -> tuple[float, float]:
    from app.alerts.bars import from_candles
    from app.alerts.evaluate import RuleSpec, evaluate_symbol

    symbols = [f"S{i:02d}/USDT" for i in range(20)]
    start = pd.Timestamp("2026-01-01T00:00:00Z")
    t0 = time.perf_counter()
    bars = {s: {"1h": from_candles(s, "1h", walk(400, i, start))} for i, s in enumerate(symbols)}
    indicators_ms = (time.perf_counter() - t0) * 1000
    rng = np.random.default_rng(0)
    price_kinds = ("price_cross_up", "price_cross_down", "price_above", "price_below")
    other = [("rsi_above", {"level": 70.0}), ("rsi_below", {"level": 30.0}), ("macd_cross", {"direction": "up"}),
             ("ma_cross", {"ma": "ema", "length": 50, "direction": "up"}), ("bb_breakout", {"direction": "down"}),
             ("volume_spike", {"z": 3.0, "window": 20}), ("pattern", {"event": "engulfing", "direction": "any"})]
    rules = []
    for i in range(10_000):
        sym = symbols[i % 20]
        last = float(bars[sym]["1h"].close[-1])
        if i % 10 < 7:
            kind, params = price_kinds[i % 4], {"level": float(last * rng.uniform(0.97, 1.03))}
        else:
            kind, params = other[i % len(other)]
        rules.append(RuleSpec(i, i % 500, f"rule {i}", sym, "1h", kind, params, ("inapp",)))
    by_symbol = {s: [r for r in rules if r.symbol == s] for s in symbols}
    runs = []
    for _ in range(7):
        t0 = time.perf_counter()
        fired = sum(len(evaluate_symbol(s, by_symbol[s], bars[s], {}, {})) for s in symbols)
        runs.append((time.perf_counter() - t0) * 1000)
    print(f"eval: {len(rules)} rules, {len(symbols)} symbols, {fired} firings; runs ms "
          + ", ".join(f"{r:.1f}" for r in runs))
    return statistics.median(runs), indicators_ms


def bench_latency() -> tuple[float, float]:
    import redis
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app.server import create_server
    from app.settings import Settings
    from tests.fakes.alert_receivers import FakeTelegram

    name = f"cw_bench_alerts_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    redis.Redis.from_url(REDIS_URL).flushdb()
    tg = FakeTelegram()
    secret = "bench-secret-key-0123456789"
    env = dict(os.environ, PYTHONPATH=str(ROOT), REDIS_URL=REDIS_URL, DATABASE_URL=url, SECRET_KEY=secret,
               CANDLEWISE_ENV="testing", MARKET_DATA_SOURCE="demo", CREATE_DEMO_USERS="0",
               TELEGRAM_BOT_TOKEN="1:BENCH", TELEGRAM_BASE_URL=tg.url)
    workers: list[subprocess.Popen] = []
    try:
        settings = Settings(env="testing", secret_key=secret, database_url=url, redis_url=REDIS_URL,
                            market_source="demo", create_demo_users=False)
        server = create_server(settings)
        with server.app_context():
            upgrade()
        conn = redis.Redis.from_url(REDIS_URL)

        def start(worker_class: str, *queues: str) -> subprocess.Popen:
            before = len(conn.keys("rq:worker:*"))
            proc = subprocess.Popen([str(Path(sys.executable).parent / "rq"), "worker", "--url", REDIS_URL,
                                     "--worker-class", worker_class, "--with-scheduler", *queues],
                                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            workers.append(proc)
            deadline = time.monotonic() + 120
            while len(conn.keys("rq:worker:*")) <= before and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(2)  # the worker preloads its job modules before it takes jobs
            return proc

        def rounds(first: int) -> tuple[float, float]:
            to_event, to_tg = [], []
            for k in range(first, first + ROUNDS):
                e, t = _round(server, tg, k)
                to_event.append(e)
                to_tg.append(t)
                print(f"round {k}: bar -> event {e:.0f} ms, bar -> telegram {t:.0f} ms")
            return statistics.median(to_event), statistics.median(to_tg)

        start("workers.worker.Worker", "analysis", "alerts")
        one = rounds(0)
        print("... plus a non-forking worker on the alerts queue (workers.worker.SimpleWorker):")
        start("workers.worker.SimpleWorker", "alerts")
        return one, rounds(ROUNDS)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=20)
        tg.close()
        from app.extensions import db

        with server.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.connect() as c:
            c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                              "AND pid <> pg_backend_pid()"), {"n": name})
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _round(server, tg, k: int) -> tuple[float, float]:
    from sqlalchemy import text

    from app.extensions import db
    from app.market import store
    from app.models import AlertRule, NotificationSettings, User
    from workers.pipeline import after_ingest

    symbol = f"B{k}/USDT"
    now = datetime.now(timezone.utc)
    end = pd.Timestamp(now).floor("1h") - pd.Timedelta(hours=1)
    candles = walk(300, 100 + k, end - pd.Timedelta(hours=299))
    level = float(candles["close"].iloc[:-1].max()) * 1.01
    candles.iloc[-1, :4] = [level * 1.01, level * 1.03, level * 1.0, level * 1.02]  # crosses up on the last bar
    with server.app_context():
        user = User(email=f"bench{k}@example.com", role="trader")
        user.set_password("correct-horse-battery")
        db.session.add(user)
        db.session.flush()
        db.session.add(NotificationSettings(user_id=user.id, timezone="UTC", telegram_chat_id=str(1000 + k),
                                            webhook_format="json"))
        db.session.add(AlertRule(user_id=user.id, name=f"bench {k}", exchange="demo", symbol=symbol, timeframe="1h",
                                 kind="price_cross_up", params={"level": level}, channels=["inapp", "telegram"],
                                 frequency="once_per_bar", cooldown_s=0))
        sid = store.get_or_create_series(db.session, "demo", symbol, "1h")
        store.upsert_candles(db.session, sid, candles.iloc[:-1])
        db.session.commit()
        seen = len(tg.received)
        t0 = time.perf_counter()
        store.upsert_candles(db.session, sid, candles.iloc[[-1]])
        db.session.commit()
        analysis_id = after_ingest("demo", symbol, "1h", 1, server.config["CW_SETTINGS"])
        event_ms = tg_ms = None
        while time.perf_counter() - t0 < 60 and (event_ms is None or tg_ms is None):
            if event_ms is None:
                n = db.session.execute(text("SELECT count(*) FROM alert_events e JOIN alert_rules r ON r.id = e.rule_id "
                                            "WHERE r.symbol = :s"), {"s": symbol}).scalar()
                db.session.rollback()
                if n:
                    event_ms = (time.perf_counter() - t0) * 1000
            if tg_ms is None and len(tg.received) > seen:
                tg_ms = (tg.received[-1]["t"] - (time.time() - (time.perf_counter() - t0))) * 1000
            time.sleep(0.005)
        if event_ms is None or tg_ms is None:
            raise SystemExit(f"round {k}: no event/telegram message within 60 s")
        _breakdown(analysis_id, t0)
        return event_ms, tg_ms


def _breakdown(analysis_id: str, t0: float) -> None:
    """Where the time went: each job's wait in the queue and its run, from RQ's own timestamps (the
    analysis job evaluates the alerts itself; the delivery jobs are on the alerts queue)."""
    import redis
    from rq import Queue
    from rq.job import Job

    conn = redis.Redis.from_url(REDIS_URL)
    job = Job.fetch(analysis_id, connection=conn)
    deadline = time.monotonic() + 30
    while job.get_status(refresh=True) not in ("finished", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)  # with a second worker the message can arrive before the analysis job ends
    job.refresh()
    parts = [("analysis", job)]
    finished = Queue("alerts", connection=conn).finished_job_registry
    for jid in finished.get_job_ids():
        j = Job.fetch(jid, connection=conn)
        if j.func_name == "workers.alerts.deliver" and j.enqueued_at and j.enqueued_at >= job.enqueued_at:
            parts.append(("deliver", j))
    print("   " + "; ".join(f"{n}: queued {(j.started_at - j.enqueued_at).total_seconds() * 1000:.0f} ms, "
                            f"ran {(j.ended_at - j.started_at).total_seconds() * 1000:.0f} ms"
                            for n, j in parts if j.started_at and j.ended_at and j.enqueued_at)
          + f" ({(job.return_value() or {}).get('alerts')})")


def main() -> None:
    eval_ms, ind_ms = bench_eval()
    print(f"indicator arrays for 20 symbols (one pass each, shared by all rules): {ind_ms:.0f} ms")
    (event_ms, tg_ms), (event2_ms, tg2_ms) = bench_latency()
    print(f"RESULT bar_to_event_with_alerts_worker_ms {event2_ms:.0f} ms")
    print(f"RESULT bar_to_telegram_with_alerts_worker_ms {tg2_ms:.0f} ms")
    print(f"RESULT eval_10k_rules_ms {eval_ms:.1f} ms")
    print(f"RESULT bar_to_event_ms {event_ms:.0f} ms")
    print(f"RESULT bar_to_telegram_ms {tg_ms:.0f} ms")


if __name__ == "__main__":
    main()
