"""Flask extensions, created unbound here and attached by the factory (``init_app``)."""
from __future__ import annotations

from flask import request
from flask_login import LoginManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
import sqlite3

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()
# CSRF tokens on HTML forms (login, logout); Dash's JSON callback route is exempted by app.ops.security.
csrf = CSRFProtect()
login_manager = LoginManager()
# Storage (memory:// or the Redis URL) is set by the factory through RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def client_ip() -> str:
    """The client address as Flask sees it (ProxyFix applies X-Forwarded-For in production)."""
    return request.remote_addr or "unknown"


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record) -> None:
    """SQLite: real transactions (so SAVEPOINT rollbacks work), enforced foreign keys, WAL for concurrent readers."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None  # pysqlite would otherwise commit at RELEASE SAVEPOINT
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")
