"""deploy/scripts/backup.sh and restore.sh against the real PostgreSQL: identical rows after a round trip."""
from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_ADMIN_URL, RUN_ID, make_settings, migrate_app

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = ROOT / "deploy" / "scripts"


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://")


@pytest.fixture
def second_pg_url():
    """Another empty database to restore into."""
    name = f"cw_test_{RUN_ID}_restore_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                             "AND pid <> pg_backend_pid()"), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def seed(url: str) -> None:
    """The app's migrations, then users, series and candles through the app's own functions."""
    from app.server import create_server
    from app.auth.users import create_user
    from app.extensions import db
    from app.market import store
    from tests.fakes.candles import make_candles

    app = create_server(make_settings(database_url=url))
    migrate_app(app)
    with app.app_context():
        create_user("ann@example.com", "correct-horse-battery", role="admin")
        create_user("bob@example.com", "correct-horse-battery")
        conn = db.session.connection()
        for symbol in ("BTC/USDT", "ETH/USDT"):
            sid = store.get_or_create_series(conn, "demo", symbol, "1m")
            store.upsert_candles(conn, sid, make_candles(500, seed=len(symbol)))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every table's rows."""
    engine = sa.create_engine(url)
    out = {}
    with engine.connect() as conn:
        tables = conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).scalars().all()
        for table in tables:
            count, digest = conn.execute(sa.text(
                f'SELECT count(*), md5(coalesce(string_agg(t::text, E\'\\n\' ORDER BY t::text), \'\')) '
                f'FROM "{table}" t')).one()
            out[table] = (count, digest)
    engine.dispose()
    return out


def run(script: str, *args, env: dict | None = None, stdin=subprocess.DEVNULL):
    return subprocess.run(["bash", str(SCRIPTS / script), *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, stdin=stdin, timeout=120)


def test_backup_then_restore_gives_identical_tables(fresh_pg_url, second_pg_url, tmp_path):
    seed(fresh_pg_url)
    before = fingerprint(fresh_pg_url)
    assert before["candles"][0] == 1000 and before["users"][0] == 2 and before["alembic_version"][0] == 1
    done = run("backup.sh", env={"DATABASE_URL": fresh_pg_url, "BACKUP_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    dump = Path(done.stdout.strip().splitlines()[-1])
    assert dump.is_file() and dump.parent == tmp_path and dump.name.startswith("candlewise-")
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    restored = run("restore.sh", "--yes", str(dump), libpq_url(second_pg_url))
    assert restored.returncode == 0, restored.stderr
    assert fingerprint(second_pg_url) == before


def test_backups_rotate_keeping_the_newest(fresh_pg_url, tmp_path):
    seed(fresh_pg_url)
    env = {"DATABASE_URL": libpq_url(fresh_pg_url), "BACKUP_DIR": str(tmp_path), "BACKUP_KEEP": "2"}
    made = []
    for _ in range(3):
        done = run("backup.sh", env=env)
        assert done.returncode == 0, done.stderr
        made.append(Path(done.stdout.strip()).name)
    assert len(set(made)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(made[1:])
    (tmp_path / "notes.txt").write_text("not a backup")
    assert run("backup.sh", env={**env, "BACKUP_KEEP": "1"}).returncode == 0
    assert len(list(tmp_path.glob("candlewise-*.dump"))) == 1 and (tmp_path / "notes.txt").exists()


def test_bad_input_changes_nothing(fresh_pg_url, second_pg_url, tmp_path):
    seed(fresh_pg_url)
    bad_keep = run("backup.sh", env={"DATABASE_URL": fresh_pg_url, "BACKUP_DIR": str(tmp_path / "b"),
                                     "BACKUP_KEEP": "zero"})
    assert bad_keep.returncode == 2 and "BACKUP_KEEP" in bad_keep.stderr and not (tmp_path / "b").exists()
    assert run("backup.sh", env={"DATABASE_URL": "mysql://x@y/z", "BACKUP_DIR": str(tmp_path)}).returncode != 0
    done = run("backup.sh", env={"DATABASE_URL": fresh_pg_url, "BACKUP_DIR": str(tmp_path)})
    dump = done.stdout.strip()
    empty = fingerprint(second_pg_url)
    # no --yes and no terminal: refused, nothing restored
    refused = run("restore.sh", dump, libpq_url(second_pg_url))
    assert refused.returncode == 2 and "--yes" in refused.stderr
    not_a_dump = tmp_path / "x.dump"
    not_a_dump.write_text("hello")
    assert run("restore.sh", "--yes", str(not_a_dump), libpq_url(second_pg_url)).returncode == 2
    assert run("restore.sh", "--yes", str(tmp_path / "missing.dump"), libpq_url(second_pg_url)).returncode == 2
    assert fingerprint(second_pg_url) == empty == {}


def test_the_password_never_reaches_the_command_line(tmp_path):
    """backup.sh hands the URL to libpq as PG* variables: check what pg_dump would receive."""
    probe = tmp_path / "probe.sh"
    probe.write_text(f'. "{SCRIPTS / "pg_env.sh"}"\npg_env_from_url "$1"\n'
                     'echo "$PGUSER|$PGPASSWORD|$PGHOST|$PGPORT|$PGDATABASE"\n')
    out = subprocess.run(["bash", str(probe), "postgresql+psycopg2://cw:s3cr%t@db.internal:6543/candlewise?sslmode=require"],
                         capture_output=True, text=True).stdout.strip()
    assert out == "cw|s3cr%t|db.internal|6543|candlewise"
    out = subprocess.run(["bash", str(probe), "postgres://postgres@127.0.0.1/test"], capture_output=True,
                         text=True).stdout.strip()
    assert out == "postgres||127.0.0.1||test"
