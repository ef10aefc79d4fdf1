"""Candlewise: the application factory — the only place that wires things together."""
from __future__ import annotations

import logging

import dash
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.settings import ROOT, Settings
from app.theme import ICONS_CSS, THEME_CSS

log = logging.getLogger(__name__)


def _flask_server(settings: Settings) -> Flask:
    server = Flask(__name__, static_folder=None)
    server.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        RATELIMIT_KEY_PREFIX=f"{settings.redis_prefix}:ratelimit",
        CW_SETTINGS=settings,
        TESTING=settings.env == "testing",
    )
    @server.get("/market")
    def _market_alias():
        from flask import redirect, request

        query = request.query_string.decode()
        return redirect("/" + (f"?{query}" if query else ""))

    if settings.production:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=1, x_proto=1, x_host=1)  # behind nginx
    return server


def _extensions(server: Flask, settings: Settings) -> None:
    import app.models  # noqa: F401 - registers every table on db.metadata
    from app import auth
    from app.extensions import db, limiter, migrate
    from app import theme
    from app.ops import health, logs, metrics
    from app.backtest import downloads as backtest_downloads

    logs.configure_logging(json_logs=settings.json_logs, level=settings.log_level)
    if settings.sqlite_path is not None:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    db.init_app(server)
    migrate.init_app(server, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    limiter.init_app(server)
    logs.init_app(server)
    auth.init_app(server)
    server.register_blueprint(health.bp)
    server.register_blueprint(theme.bp)
    server.register_blueprint(backtest_downloads.bp)
    metrics.init_app(server, settings)

    from app.market.cli import candles_cli
    from app.demo import demo_cli
    from app.mlops.cli import ml_cli

    server.cli.add_command(candles_cli)
    server.cli.add_command(demo_cli)
    server.cli.add_command(ml_cli)

    import workers.queues

    workers.queues.init_app(server, settings)


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the Dash app (with its Flask server at ``.server``) from ``settings`` or the environment."""
    settings = settings or Settings.from_env()
    server = _flask_server(settings)
    _extensions(server, settings)
    app = dash.Dash(
        "candlewise",
        server=server,
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "app" / "assets"),
        external_stylesheets=[THEME_CSS, ICONS_CSS],
        suppress_callback_exceptions=True,
        title="Candlewise",
        update_title=None,
        serve_locally=True,
    )
    import callbacks
    from pages._shell import layout as shell_layout

    callbacks.attach(app)

    app.layout = shell_layout
    return app
