"""`flask users ...`: create, list, (de)activate users, set passwords and prune old sessions."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.auth.sessions import prune_sessions
from app.auth.users import (UserError, activate_user, change_password, create_user, create_with_password,
                            deactivate_user, list_users, reset_password)
from app.extensions import db
from app.models.user import User, utcnow


@click.group("users", cls=AppGroup)
def users() -> None:
    """Manage Candlewise users."""


def _prompt_unless_one_time(ctx, _param, value):
    """Prompt for the password unless ``--one-time`` asks for a generated one."""
    if value is None and not ctx.params.get("one_time"):
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@users.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Give the user the admin role.")
@click.option("--one-time", "one_time", is_flag=True, is_eager=True,
              help="Generate a one-time password (printed once); the user chooses their own at first sign-in.")
@click.option("--password", callback=_prompt_unless_one_time,
              help="Password (prompted when omitted; at least 10 characters and not easy to guess).")
def create(email: str, admin: bool, one_time: bool, password: str | None) -> None:
    role = "admin" if admin else "trader"
    try:
        if one_time:
            if password is not None:
                raise UserError("--one-time generates the password: leave --password out")
            user, password = create_with_password(email, role, None)
        else:
            user = create_user(email, password, role=role, audit=True)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role} {user.email} (id {user.id})")
    if one_time:
        click.echo(f"one-time password: {password}")
        click.echo("they must choose a new password at /account/password when they sign in")


@users.command("list")
def list_() -> None:
    for u in list_users():
        state = "active" if u.active else "inactive"
        click.echo(f"{u.id}\t{u.email}\t{u.role}\t{state}")


def _user_by_email(email: str) -> User:
    user = db.session.scalar(db.select(User).filter_by(email=email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    return user


@users.command("deactivate")
@click.argument("email")
def deactivate(email: str) -> None:
    """Deactivate a user and end every session they have."""
    user, changed = deactivate_user(_user_by_email(email).id, None)
    click.echo(f"deactivated {user.email}" if changed else f"{user.email} was already inactive")


@users.command("activate")
@click.argument("email")
def activate(email: str) -> None:
    user, changed = activate_user(_user_by_email(email).id, None)
    click.echo(f"activated {user.email}" if changed else f"{user.email} was already active")


@users.command("set-password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="New password (prompted when omitted); every session of the user ends.")
def set_password(email: str, password: str) -> None:
    try:
        user = change_password(_user_by_email(email).id, password)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password changed for {user.email}; every session ended")


@users.command("reset-password")
@click.argument("email")
def reset(email: str) -> None:
    """Give a user a generated one-time password (printed once); they choose their own at the next sign-in."""
    try:
        user, password = reset_password(_user_by_email(email).id, None)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"one-time password for {user.email}: {password}")
    click.echo("every session ended; they must choose a new password at /account/password when they sign in")


@users.command("prune-sessions")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1),
              help="Delete session rows revoked or idle for longer than this.")
def prune(days: int) -> None:
    from datetime import timedelta

    n = prune_sessions(utcnow() - timedelta(days=days))
    click.echo(f"deleted {n} old session rows")
