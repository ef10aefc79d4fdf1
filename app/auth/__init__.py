"""Authentication: Flask-Login wiring, server-side sessions, login/logout routes, the request guard and the users CLI."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app

from app.auth import cli, forced, guard, password_page, routes, sessions, token_cli
from app.extensions import login_manager


@login_manager.user_loader
def _load_user(session_token: str):
    """Flask-Login's ``_user_id`` is our session token: one primary-key lookup decides who is
    signed in, answered from hot state when that session was checked within the last minute."""
    import app.hot as hot

    settings = current_app.config["CW_SETTINGS"]
    return sessions.load_session_user(session_token, idle_timeout=timedelta(minutes=settings.session_idle_minutes),
                                      cache=hot.session_cache(settings))


def init_app(server: Flask) -> None:
    login_manager.init_app(server)
    login_manager.login_view = "auth.login_form"
    guard.init_app(server)
    forced.init_app(server)  # after the guard: a one-time password reaches only the change form
    server.register_blueprint(routes.bp)
    server.register_blueprint(password_page.bp)
    server.cli.add_command(cli.users)
    server.cli.add_command(token_cli.tokens_cli)
