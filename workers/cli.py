"""CLI commands that enqueue jobs (the job layer's): ``flask candles refresh`` and ``flask demo seed``.

The server factory adds them to its CLI (``refresh_all`` joins the ``candles`` group)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db


@click.command("refresh")
def refresh_all() -> None:
    """Enqueue a refresh of every watch-list series (RQ workers pick them up; embedded: run now)."""
    from workers.schedule import enqueue_refreshes
    from workers.queues import runner

    settings = current_app.config["CW_SETTINGS"]
    jobs = enqueue_refreshes(settings, settings.timeframes)
    if runner().mode == "inprocess":
        runner().wait(timeout=600)
    click.echo(f"{len(jobs)} refresh jobs enqueued ({runner().mode} runner)")


@click.group("demo", cls=AppGroup)
def demo_cli() -> None:
    """Demo users and market data."""


@demo_cli.command("seed")
@click.option("--no-market", is_flag=True, help="Only create the demo users.")
def seed(no_market: bool) -> None:
    """Create demo users (unless disabled) and load market data (Binance if reachable, else demo)."""
    import app.hot as hot
    from app.demo import DEMO_USERS, ensure_demo_users
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
    hot.catalog_cache(settings).invalidate()
    if report.fallback_reason:
        click.echo(f"Exchange unreachable ({report.fallback_reason}).")
    label = "OFFLINE DEMO DATA (synthetic)" if report.source == "demo" else f"real candles from {report.source}"
    click.echo(f"Market data: {label}; {report.total_rows} rows written in {report.seconds:.1f}s.")
    _first_analysis(report.source, settings)


def _first_analysis(exchange: str, settings) -> None:
    """Score every seeded watch-list symbol (the stored watch-list) once so the Signals page has data from
    the first page view."""
    from app.market import watchlist
    from workers.pipeline import enqueue_analysis
    from workers.queues import runner

    symbols = watchlist.symbols_fed_by(db.session, settings, exchange)
    db.session.rollback()  # end the read before the jobs write
    for symbol in symbols:
        enqueue_analysis(exchange, symbol, settings)
    if runner().mode == "inprocess":
        runner().wait(timeout=600)
        click.echo(f"Signals computed for {', '.join(symbols) or 'no symbol (the watch-list is empty)'}.")
    else:
        click.echo("Signal analysis enqueued for the RQ workers.")


@click.group("jobs", cls=AppGroup)
def jobs_cli() -> None:
    """Job housekeeping."""


@jobs_cli.command("sweep")
@click.option("--stale-after", type=float, default=None, help="Seconds without a worker heartbeat (default 180).")
def sweep_cmd(stale_after: float | None) -> None:
    """Mark orphaned rows failed from RQ's registries, remove half-written model directories (as cron does)."""
    import json

    from app.mlops.service import registry
    from workers.sweeper import STALE_AFTER, sweep

    if stale_after is not None and stale_after <= 0:
        raise click.BadParameter("must be positive", param_hint="--stale-after")
    click.echo(json.dumps(sweep(db.session, stale_after if stale_after is not None else STALE_AFTER,
                                registry=registry(current_app.config["CW_SETTINGS"]))))
