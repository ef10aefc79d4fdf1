"""`flask tokens ...`: create, list and revoke a user's personal API tokens from the shell."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.auth import tokens
from app.extensions import db
from app.models.user import User


@click.group("tokens", cls=AppGroup)
def tokens_cli() -> None:
    """Manage personal API tokens (for /api/v1)."""


def _user(email: str) -> User:
    user = db.session.scalar(db.select(User).filter_by(email=email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    return user


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for.")
@click.option("--scope", "scopes", multiple=True, default=("read",), show_default=True,
              help="read, trade or admin (repeat for several); limited by the user's role.")
@click.option("--days", type=int, default=tokens.DEFAULT_DAYS, show_default=True, help="Days until it expires.")
def create(email: str, name: str, scopes: tuple[str, ...], days: int) -> None:
    """Create a token and print it once (only its hash is stored)."""
    try:
        row, token = tokens.create_token(db.session, _user(email), name, list(scopes), days)
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created token {row.id} {row.name!r} scopes={row.scopes} expires={row.expires_at.isoformat()}")
    click.echo(token)


@tokens_cli.command("list")
@click.argument("email")
def list_(email: str) -> None:
    for t in tokens.list_tokens(db.session, _user(email).id, include_dead=True):
        state = "revoked" if t.revoked_at else "live"
        used = t.last_used_at.isoformat() if t.last_used_at else "never"
        click.echo(f"{t.id}\t{t.name}\t{t.prefix}...\t{t.scopes}\texpires={t.expires_at.isoformat()}\t"
                   f"last_used={used}\t{state}")


@tokens_cli.command("revoke")
@click.argument("email")
@click.argument("token_id", type=int)
def revoke(email: str, token_id: int) -> None:
    if not tokens.revoke_token(db.session, _user(email).id, token_id):
        raise click.ClickException(f"no live token {token_id} for {email}")
    click.echo(f"revoked token {token_id}")
