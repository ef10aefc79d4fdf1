"""``series.revision`` (migration 0008e): ``app.market.store`` advances it in the same transaction as every
write that changes the series' candles, through the row path and both COPY paths, once per write call;
re-sending identical bars leaves it alone, a rollback undoes it, and other series are never touched."""
from __future__ import annotations

import threading

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import make_settings
from tests.fakes.candles import make_candles

pytestmark = pytest.mark.integration


@pytest.fixture(params=["postgresql", "sqlite"])
def migrated(request, tmp_path):
    from flask_migrate import upgrade

    from app.extensions import db
    from app.server import create_server

    url = request.getfixturevalue("fresh_pg_url") if request.param == "postgresql" else f"sqlite:///{tmp_path / 'r.db'}"
    app = create_server(make_settings(database_url=url))
    with app.app_context():
        upgrade()
        yield db
        db.session.remove()
        db.engine.dispose()


def _revision(db, sid: int) -> int:
    value = db.session.execute(sa.text("SELECT revision FROM series WHERE id = :s"), {"s": sid}).scalar_one()
    db.session.commit()
    return int(value)


def test_every_kind_of_candle_write_advances_its_series_revision_and_no_other(migrated):
    from app.market import store

    db = migrated
    conn = db.session.connection()
    sid = store.get_or_create_series(conn, "binance", "BTC/USDT", "1m")
    other = store.get_or_create_series(conn, "binance", "ETH/USDT", "1m")
    db.session.commit()
    start, start_other = _revision(db, sid), _revision(db, other)
    assert start != start_other  # random starts: a recreated database does not repeat (id, revision)

    bars = make_candles(6000, start="2026-01-01T00:00:00Z", price=40_000.0)
    store.bulk_upsert_candles(db.session.connection(), sid, bars)  # the COPY path on PostgreSQL (a new range)
    db.session.commit()
    after_backfill = _revision(db, sid)
    assert after_backfill > start and _revision(db, other) == start_other

    store.upsert_candles(db.session.connection(), sid, bars.iloc[-10:])  # identical bars: nothing rewritten
    db.session.commit()
    assert _revision(db, sid) == after_backfill

    corrected = bars.iloc[-3:].copy()
    corrected["close"] += 1.0
    store.upsert_candles(db.session.connection(), sid, corrected)  # the row path: ON CONFLICT DO UPDATE
    db.session.commit()
    after_fix = _revision(db, sid)
    assert after_fix > after_backfill

    store.bulk_upsert_candles(db.session.connection(), sid, bars.assign(close=bars["close"] + 2.0))  # COPY merge
    db.session.commit()
    after_merge = _revision(db, sid)
    assert after_merge > after_fix

    store.upsert_candles(db.session.connection(), sid, bars.iloc[-1:].assign(volume=bars["volume"].iloc[-1] + 1))
    store.upsert_candles(db.session.connection(), other, bars.iloc[:0])  # nothing to write: no step for it
    db.session.commit()
    assert _revision(db, sid) == after_merge + 1 and _revision(db, other) == start_other

    before = _revision(db, other)  # one write call is one step, however many bars and statements
    store.bulk_upsert_candles(db.session.connection(), other, bars)
    db.session.commit()
    assert _revision(db, other) == before + 1
    store.upsert_candles(db.session.connection(), other, bars.iloc[:3000].assign(close=bars["close"].iloc[:3000] + 5))
    db.session.commit()
    assert _revision(db, other) == before + 2 and _revision(db, sid) == after_merge + 1


def test_a_rolled_back_write_leaves_the_revision_as_it_was(migrated):
    from app.market import store

    db = migrated
    sid = store.get_or_create_series(db.session.connection(), "binance", "BTC/USDT", "1m")
    db.session.commit()
    start = _revision(db, sid)
    store.upsert_candles(db.session.connection(), sid, make_candles(5, start="2026-01-01T00:00:00Z"))
    assert _revision_uncommitted(db, sid) > start  # seen inside the writing transaction
    db.session.rollback()
    assert _revision(db, sid) == start


def _revision_uncommitted(db, sid: int) -> int:
    return int(db.session.execute(sa.text("SELECT revision FROM series WHERE id = :s"), {"s": sid}).scalar_one())


def test_concurrent_writers_of_several_series_do_not_deadlock(fresh_pg_url):
    """Two transactions writing the same two series at once, one call each: the series rows are locked in id
    order, so both commit (no deadlock error) and each bumps both revisions."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.market import store
    from app.server import create_server

    app = create_server(make_settings(database_url=fresh_pg_url))
    with app.app_context():
        upgrade()
        conn = db.session.connection()
        a = store.get_or_create_series(conn, "binance", "BTC/USDT", "1m")
        b = store.get_or_create_series(conn, "binance", "ETH/USDT", "1m")
        db.session.commit()
        engine = db.engine
    with engine.connect() as c:
        starts = dict(c.execute(sa.text("SELECT id, revision FROM series")).all())
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def write(first, second, offset):
        try:
            frame = pd.concat([make_candles(200, start="2026-01-01T00:00:00Z").assign(series_id=first),
                               make_candles(200, start="2026-01-01T00:00:00Z").assign(series_id=second)])
            frame["close"] += offset
            with engine.begin() as c:
                start.wait(timeout=10)
                store.bulk_upsert_candles(c, frame)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(a, b, 1.0)), threading.Thread(target=write, args=(b, a, 2.0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    with engine.connect() as c:
        revs = dict(c.execute(sa.text("SELECT id, revision FROM series")).all())
    assert revs[a] >= starts[a] + 2 and revs[b] >= starts[b] + 2
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
