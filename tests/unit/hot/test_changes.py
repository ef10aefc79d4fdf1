"""The change counters: a committed write bumps its table's counter once the connection is handed back;
a rolled-back write, a read or a write never committed bumps nothing."""
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, delete, insert, select, text, update

from app.hot.changes import ChangeCounters, install, mark, written_table
from app.hot.memory import MemoryStore

META = MetaData()
ITEMS = Table("items", META, Column("id", Integer, primary_key=True), Column("name", String(20)))
OTHER = Table("other", META, Column("id", Integer, primary_key=True))


def _setup(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    META.create_all(engine)
    counters = ChangeCounters(MemoryStore(), prefix="t")
    install(engine, lambda: counters)
    return engine, counters


def test_written_table_of_statements_and_text():
    assert written_table(insert(ITEMS)) == "items" and written_table(update(ITEMS)) == "items"
    assert written_table(delete(OTHER)) == "other" and written_table(select(ITEMS)) is None
    assert written_table('INSERT INTO "candles" (a) VALUES (1)') == "candles"
    assert written_table("  delete from alert_rules where id = 1") == "alert_rules"
    assert written_table("SELECT * FROM items") is None and written_table("CREATE TEMP TABLE x (a int)") is None


def test_committed_writes_bump_their_tables_once_per_transaction(tmp_path):
    engine, counters = _setup(tmp_path)
    assert counters.read(["items", "other"]) == (0, 0)
    with engine.begin() as conn:
        conn.execute(insert(ITEMS).values(id=1, name="a"))
        conn.execute(update(ITEMS).values(name="b"))
        conn.execute(select(OTHER)).all()
    assert counters.read(["items", "other"]) == (1, 0)
    with engine.begin() as conn:
        conn.execute(delete(OTHER))
        conn.exec_driver_sql("INSERT INTO items (id, name) VALUES (2, 'c')")
    assert counters.read(["items", "other"]) == (2, 1)


def test_rolled_back_and_read_only_transactions_bump_nothing(tmp_path):
    engine, counters = _setup(tmp_path)
    with engine.connect() as conn:
        conn.execute(insert(ITEMS).values(id=1, name="a"))
        conn.rollback()
        conn.execute(select(ITEMS)).all()
        conn.commit()
    with engine.connect() as conn:  # closed without a commit: the pool rolls it back
        conn.execute(insert(ITEMS).values(id=2, name="b"))
    assert counters.read(["items"]) == (0,)
    with engine.connect() as conn:
        assert conn.execute(select(ITEMS)).all() == []


def test_the_bump_waits_for_the_connection_to_be_handed_back(tmp_path):
    """A reader that sees the new counter must find the committed rows: the bump comes after the commit."""
    engine, counters = _setup(tmp_path)
    with engine.connect() as conn:
        conn.execute(insert(ITEMS).values(id=1, name="a"))
        conn.commit()
        assert counters.read(["items"]) == (0,)  # committed, but the connection is still held
    assert counters.read(["items"]) == (1,)


def test_mark_notes_a_write_the_events_cannot_see(tmp_path):
    engine, counters = _setup(tmp_path)
    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
        mark(conn, "candles")  # e.g. a COPY on the raw connection
    assert counters.read(["candles"]) == (1,)


def test_unreadable_counters_read_as_none_and_a_failing_store_never_fails_the_write(tmp_path):
    class Broken:
        def mget(self, keys):
            raise ConnectionError("down")

        def incr(self, key):
            raise ConnectionError("down")

    assert ChangeCounters(Broken()).read(["items"]) is None
    engine = create_engine(f"sqlite:///{tmp_path / 'b.db'}")
    META.create_all(engine)
    install(engine, lambda: ChangeCounters(Broken()))
    with engine.begin() as conn:
        conn.execute(insert(ITEMS).values(id=1, name="a"))
    with engine.connect() as conn:
        assert conn.execute(select(ITEMS.c.name)).scalar() == "a"
