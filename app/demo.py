"""`flask demo seed`: demo users and market data for embedded mode (what `make run` calls)."""
from __future__ import annotations

import json
import os
import secrets

import click
from flask.cli import AppGroup
from flask import current_app

from app.auth.users import create_user
from app.extensions import db
from app.models.user import User
from app.settings import ROOT

CREDENTIALS_FILE = ROOT / "var" / "demo-credentials.json"
DEMO_USERS = (("admin@candlewise.local", "admin"), ("trader@candlewise.local", "trader"))


def ensure_demo_users() -> dict[str, str]:
    """Create the demo admin and trader once, with random passwords kept in var/ (mode 600)."""
    saved = json.loads(CREDENTIALS_FILE.read_text()) if CREDENTIALS_FILE.exists() else {}
    for email, role in DEMO_USERS:
        user = db.session.scalar(db.select(User).filter_by(email=email))
        if user is None:
            password = saved.get(email) or secrets.token_urlsafe(12)
            create_user(email, password, role=role)
            saved[email] = password
    CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
    CREDENTIALS_FILE.write_text(json.dumps(saved, indent=2))
    os.chmod(CREDENTIALS_FILE, 0o600)
    return saved


@click.group("demo", cls=AppGroup)
def demo_cli() -> None:
    """Demo users and market data."""


@demo_cli.command("seed")
@click.option("--no-market", is_flag=True, help="Only create the demo users.")
def seed(no_market: bool) -> None:
    """Create demo users (unless disabled) and load market data (Binance if reachable, else demo)."""
    from app.market.seed import seed_market

    settings = current_app.config["CW_SETTINGS"]
    if settings.create_demo_users:
        creds = ensure_demo_users()
        click.echo("Demo accounts (embedded/demo mode only):")
        for email, role in DEMO_USERS:
            click.echo(f"  {role:7s} {email}  password: {creds.get(email, '(created earlier, see var/)')}")
    if no_market:
        return
    report = seed_market(db.session, settings)
    if report.fallback_reason:
        click.echo(f"Exchange unreachable ({report.fallback_reason}).")
    label = "OFFLINE DEMO DATA (synthetic)" if report.source == "demo" else f"real candles from {report.source}"
    click.echo(f"Market data: {label}; {report.total_rows} rows written in {report.seconds:.1f}s.")
    _first_analysis(report.source, settings)


def _first_analysis(exchange: str, settings) -> None:
    """Score every watch-list symbol once so the Signals page has data from the first page view."""
    from workers.analysis import enqueue_analysis
    from workers.queues import runner

    for symbol in settings.watchlist:
        enqueue_analysis(exchange, symbol)
    if runner().mode == "inprocess":
        runner().wait(timeout=600)
        click.echo(f"Signals computed for {', '.join(settings.watchlist)}.")
    else:
        click.echo("Signal analysis enqueued for the RQ workers.")
