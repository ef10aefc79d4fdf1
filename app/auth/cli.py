"""`flask users ...`: create, list and (de)activate users from the command line."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.auth.users import UserError, create_user, list_users
from app.extensions import db
from app.models.user import User


@click.group("users", cls=AppGroup)
def users() -> None:
    """Manage Candlewise users."""


@users.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Give the user the admin role.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password (prompted when omitted; at least 10 characters).")
def create(email: str, admin: bool, password: str) -> None:
    try:
        user = create_user(email, password, role="admin" if admin else "trader")
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@users.command("list")
def list_() -> None:
    for u in list_users():
        state = "active" if u.active else "inactive"
        click.echo(f"{u.id}\t{u.email}\t{u.role}\t{state}")


@users.command("deactivate")
@click.argument("email")
def deactivate(email: str) -> None:
    user = db.session.scalar(db.select(User).filter_by(email=email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    user.active = False
    db.session.commit()
    click.echo(f"deactivated {user.email}")
