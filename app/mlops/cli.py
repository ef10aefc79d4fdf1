"""`flask ml ...`: train, list, promote and roll back LSTM models."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup


@click.group("ml", cls=AppGroup)
def ml_cli() -> None:
    """LSTM models: train (walk-forward evaluated), list, promote, roll back."""


def _series_options(func):
    func = click.option("--timeframe", required=True, help="1m 5m 15m 1h 4h 1d")(func)
    return click.option("--symbol", required=True, help="Symbol like BTC/USDT.")(func)


@ml_cli.command("train")
@_series_options
@click.option("--exchange", default="demo", show_default=True)
@click.option("--config", "config_json", default="{}", help='Training settings as JSON, e.g. {"epochs": 10}.')
@click.option("--folds", default=3, show_default=True, type=click.IntRange(1, 20))
def train(symbol: str, timeframe: str, exchange: str, config_json: str, folds: int) -> None:
    """Train now, in this process, and print the out-of-sample report."""
    from flask import current_app

    from app.extensions import db
    from app.mlops import service

    try:
        config = json.loads(config_json)
        if not isinstance(config, dict):
            raise ValueError("--config must be a JSON object")
        outcome = service.train_and_register(
            db.session, service.registry(current_app.config["CW_SETTINGS"]), exchange, symbol, timeframe, config=config, folds=folds,
            progress=lambda pct, phase: click.echo(f"  {pct:5.1f}%  {phase}", err=True))
    except (ValueError, json.JSONDecodeError) as exc:
        raise click.ClickException(str(exc)) from exc
    summary = outcome.version.summary
    click.echo(f"{symbol} {timeframe} v{outcome.version.version}: "
               f"{'promoted to champion' if outcome.promoted else 'stored, not promoted'} ({outcome.reason})")
    click.echo(f"out of sample ({summary['lstm']['n']} bars): " + ", ".join(
        f"{name} accuracy {m['accuracy']:.4f} log loss {m['log_loss']:.5f}" for name, m in summary.items()))


@ml_cli.command("list")
def list_models() -> None:
    """Every stored version with its out-of-sample metrics next to the baselines."""
    from flask import current_app

    from app.mlops import service

    settings = current_app.config["CW_SETTINGS"]
    from app.extensions import db
    from app.market import watchlist

    rows = service.model_rows(service.registry(settings), watchlist.symbols(db.session, settings), settings.timeframes)
    if not rows:
        click.echo("no models yet: run `flask ml train --symbol ... --timeframe ...`")
    for r in rows:
        def fmt(value):
            return "-" if value is None else f"{value:.4f}"

        click.echo(f"{'*' if r['champion'] else ' '} {r['symbol']:10s} {r['timeframe']:4s} v{r['version']:<3d} "
                   f"until {r['trained_until']}  out-of-sample accuracy {fmt(r['oos_accuracy'])} "
                   f"(base rate {fmt(r['base_rate_accuracy'])}, persistence {fmt(r['persistence_accuracy'])})")


@ml_cli.command("promote")
@_series_options
@click.option("--version", required=True, type=int)
def promote(symbol: str, timeframe: str, version: int) -> None:
    """Make a stored version the champion (an admin's override of the automatic rule)."""
    from flask import current_app

    from app.mlops import service

    try:
        chosen = service.registry(current_app.config["CW_SETTINGS"]).promote(symbol, timeframe, version)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{symbol} {timeframe}: champion is now v{chosen.version}")


@ml_cli.command("rollback")
@_series_options
def rollback(symbol: str, timeframe: str) -> None:
    """Make the previous champion the champion again."""
    from flask import current_app

    from app.mlops import service

    try:
        chosen = service.registry(current_app.config["CW_SETTINGS"]).rollback(symbol, timeframe)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{symbol} {timeframe}: rolled back, champion is now v{chosen.version}")
