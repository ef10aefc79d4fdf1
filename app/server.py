"""The Flask server factory: extensions, blueprints and CLI commands, without Dash.

RQ workers, ``rq cron`` and CLI commands build only this (``workers/context.py``); the web
process builds :func:`app.create_app`, which adds the Dash pages and callbacks on top. This
module and ``app/__init__.py`` are the composition root: they may import from every layer, and
nothing imports them but ``wsgi.py``, the worker context and tests.
"""
from __future__ import annotations

import logging

from flask import Flask, redirect, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.ops.outages import engine_options
from app.settings import ROOT, Settings

log = logging.getLogger(__name__)


def create_server(settings: Settings | None = None) -> Flask:
    """Build the Flask server from ``settings`` (or the environment)."""
    settings = settings or Settings.from_env()
    settings.require_alerts_key()
    server = Flask("app", static_folder=None)
    server.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        RATELIMIT_KEY_PREFIX=f"{settings.redis_prefix}:ratelimit",
        # one Redis round trip to take a hit and one for the X-RateLimit-* headers (the fixed window needs
        # three), and no burst of twice the limit across a window boundary
        RATELIMIT_STRATEGY="sliding-window-counter",
        CW_SETTINGS=settings,
        TESTING=settings.env == "testing",
    )

    @server.get("/market")
    def _market_alias():
        query = request.query_string.decode()
        return redirect("/" + (f"?{query}" if query else ""))

    if settings.production:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=1, x_proto=1, x_host=1)  # behind nginx
    _extensions(server, settings)
    return server


def _change_counters(server: Flask, settings: Settings) -> None:
    """Every committed write through this server's engine bumps its tables' counters (app.hot.changes)."""
    import app.hot as hot
    from app.extensions import db
    from app.hot.changes import ChangeCounters, install

    with server.app_context():
        counters = ChangeCounters(hot.kv_store(settings), prefix=settings.redis_prefix)
        install(db.engine, lambda: counters)


def _extensions(server: Flask, settings: Settings) -> None:
    import app.models  # noqa: F401 - registers every table on db.metadata
    from app import api, auth, theme
    from app.extensions import db, init_db, limiter, migrate
    from app.ops import health, logs, metrics_endpoint, outages, security

    logs.configure_logging(json_logs=settings.json_logs, level=settings.log_level)
    if settings.sqlite_path is not None:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    init_db(server)
    _change_counters(server, settings)
    migrate.init_app(server, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    limiter.init_app(server)
    logs.init_app(server)
    auth.init_app(server)
    security.init_app(server, settings)
    server.register_blueprint(health.bp)
    outages.init_app(server)
    server.register_blueprint(theme.bp)
    api.init_app(server)
    metrics_endpoint.init_app(server, settings)

    from app.market.cli import candles_cli
    from app.mlops.cli import ml_cli
    from workers import cli as job_cli
    import workers.queues

    candles_cli.add_command(job_cli.refresh_all)  # idempotent: a group keeps one command per name
    server.cli.add_command(candles_cli)
    server.cli.add_command(ml_cli)
    server.cli.add_command(job_cli.demo_cli)
    server.cli.add_command(job_cli.jobs_cli)
    workers.queues.init_app(server, settings)
