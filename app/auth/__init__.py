"""Authentication: Flask-Login wiring, login/logout routes, the request guard and the users CLI."""
from __future__ import annotations

from flask import Flask

from app.auth import cli, guard, routes
from app.extensions import db, login_manager
from app.models.user import User


@login_manager.user_loader
def _load_user(user_id: str):
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def init_app(server: Flask) -> None:
    login_manager.init_app(server)
    login_manager.login_view = "auth.login_form"
    guard.init_app(server)
    server.register_blueprint(routes.bp)
    server.cli.add_command(cli.users)
