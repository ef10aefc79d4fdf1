"""Engines for the candle store tests: a throwaway PostgreSQL database per run and SQLite files.

``engine`` is parametrised over both backends; every test starts with empty
``series``/``candles`` tables created by ``db.metadata.create_all`` (no Flask app).
"""
from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

import app.models  # noqa: F401  (registers the tables on db.metadata)
from app.extensions import db

PG_ADMIN_URL = os.environ.get("CW_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _psycopg2(url: str, database: str | None = None) -> sa.URL:
    """psycopg2 is the pinned driver; SQLAlchemy 2.1 would pick psycopg 3 for ``postgresql://``."""
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg2")
    return u.set(database=database) if database else u


def _admin_engine() -> sa.Engine:
    admin = sa.create_engine(_psycopg2(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            return admin
    except sa.exc.OperationalError:
        versions = sorted(p.name for p in Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").exists() else []
        if versions:
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
                           check=False, capture_output=True, timeout=60)
        try:
            with admin.connect():
                return admin
        except sa.exc.OperationalError as exc:
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")


@pytest.fixture(scope="session")
def pg_store_engine():
    """An engine on a fresh database ``cw_store_<random>``, dropped when the run ends."""
    admin = _admin_engine()
    name = f"cw_store_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = sa.create_engine(_psycopg2(PG_ADMIN_URL, name))
    db.metadata.create_all(engine, tables=[db.metadata.tables["series"], db.metadata.tables["candles"]])
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request, tmp_path):
    if request.param == "postgresql":
        engine = request.getfixturevalue("pg_store_engine")
        with engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE candles, series RESTART IDENTITY CASCADE")
        yield engine
    else:
        from app.extensions import configure_sqlite

        engine = configure_sqlite(sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}"))
        db.metadata.create_all(engine, tables=[db.metadata.tables["series"], db.metadata.tables["candles"]])
        yield engine
        engine.dispose()
