"""Flask extensions, created unbound here and attached by the factory (``init_app``)."""
from __future__ import annotations

from flask import Flask, request
from flask_login import LoginManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event

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
# Storage (memory:// or the Redis URL) is set by the factory through RATELIMIT_STORAGE_URI. It guards the
# sign-in and password pages (the API's limits are app.api.v1.rate_limit). No X-RateLimit-* headers:
# with them on, it also rewrote a page's own Retry-After from its window, rounding a 4 s wait down to 3;
# its refusals state Retry-After in app.auth.routes.too_many.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


def client_ip() -> str:
    """The client address as Flask sees it (ProxyFix applies X-Forwarded-For in production)."""
    return request.remote_addr or "unknown"


def init_db(server: Flask) -> None:
    """Bind ``db`` to ``server``; on SQLite, give this app's engine real transactions.

    The listeners go on this app's engine only (not on SQLAlchemy's ``Engine`` class), so other
    engines in the process (a test's, a benchmark's) are left as their owners made them.
    """
    db.init_app(server)
    with server.app_context():
        configure_sqlite(db.engine)


def configure_sqlite(engine):
    """Attach the SQLite transaction listeners to ``engine`` (no-op for other databases); returns it."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    """SQLite: real transactions (so SAVEPOINT rollbacks work), enforced foreign keys, WAL for concurrent readers."""
    dbapi_connection.isolation_level = None  # pysqlite would otherwise commit at RELEASE SAVEPOINT
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_on_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN")
