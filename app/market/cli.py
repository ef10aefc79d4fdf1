"""`flask candles ...`: import candle files and inspect stored series."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db
from app.market.origins import IMPORT_EXCHANGE, IMPORT_TARGETS, origin


@click.group("candles", cls=AppGroup)
def candles_cli() -> None:
    """Market data: import files, list series."""


@candles_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--exchange", required=True, type=click.Choice(IMPORT_TARGETS, case_sensitive=False),
              help=f"Series to import into: an exchange's or demo (fills missing bars), or {IMPORT_EXCHANGE!r} "
                   "(a series of its own, labelled as an import).")
@click.option("--symbol", required=True, help="Symbol like BTC/USDT.")
@click.option("--timeframe", required=True, help="1m 5m 15m 1h 4h 1d")
@click.option("--partial", is_flag=True,
              help="Keep the valid rows when some are bad (default: write nothing); Parquet rows count as lines.")
@click.option("--replace", is_flag=True, help="Overwrite stored bars whose prices differ (default: keep them).")
def import_file(path: str, exchange: str, symbol: str, timeframe: str, partial: bool, replace: bool) -> None:
    """Validate every row of a CSV/Parquet file and store it, in chunks; bad rows are reported with line numbers.

    Bars already stored are kept unless --replace; the report says how many were skipped or replaced."""
    from app.market import importing
    from app.market.csv_import import CandleFileError

    try:
        report = importing.import_file(db.session, path, exchange, symbol, timeframe, partial=partial,
                                       replace=replace)
    except (CandleFileError, ValueError) as exc:
        db.session.rollback()
        raise click.ClickException(f"{path}: nothing written.\n{exc}") from None
    db.session.commit()
    from app import hot

    hot.catalog_cache().invalidate()
    r = report
    parts = [f"{r.new + r.replaced} candles stored for {r.exchange} {r.symbol} {r.timeframe} ({r.origin}): "
             f"{r.new} new, {r.replaced} stored bars replaced"]
    if replace:
        parts.append(f"{r.unchanged} already stored with the same values")
    else:
        parts.append(f"{r.skipped + r.unchanged} rows skipped because their bars are already stored "
                     f"({r.skipped} with different prices; --replace overwrites them)")
    if r.n_rejected:
        parts.append(f"{r.n_rejected} rows rejected")
    click.echo("; ".join(parts))
    for line, reason in r.rejected[:50]:
        click.echo(f"  rejected line {line}: {reason}")
    if r.n_rejected > 50:
        click.echo(f"  ... and {r.n_rejected - 50} more rejected lines")


@candles_cli.command("series")
def list_series() -> None:
    """List stored series with their bar counts."""
    from app.market import store

    conn = db.session.connection()
    for row in store.list_series(conn).itertuples():
        click.echo(f"{row.id}\t{row.exchange}\t{origin(row.exchange)}\t{row.symbol}\t{row.timeframe}\t"
                   f"{store.count_candles(conn, row.id)}")
