"""`flask candles ...`: import candle files and inspect stored series."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db


@click.group("candles", cls=AppGroup)
def candles_cli() -> None:
    """Market data: import files, list series."""


@candles_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--exchange", required=True, help="Exchange name to store under, e.g. binance or csv.")
@click.option("--symbol", required=True, help="Symbol like BTC/USDT.")
@click.option("--timeframe", required=True, help="1m 5m 15m 1h 4h 1d")
@click.option("--partial", is_flag=True, help="CSV: keep the valid rows when some are bad (default: write nothing).")
def import_file(path: str, exchange: str, symbol: str, timeframe: str, partial: bool) -> None:
    """Validate every row of a CSV/Parquet file and upsert it; bad rows are reported with line numbers."""
    from app.market import store
    from app.market.csv_import import CandleFileError, parse_candle_file, parse_candle_file_partial
    from app.marketdata import timeframe_delta, validate_symbol

    rejected: list[tuple[int, str]] = []
    try:
        symbol = validate_symbol(symbol)
        timeframe_delta(timeframe)
        if partial and path.lower().endswith(".csv"):
            frame, rejected = parse_candle_file_partial(path, timeframe=timeframe)
        else:
            frame = parse_candle_file(path, timeframe=timeframe)
    except (CandleFileError, ValueError) as exc:
        raise click.ClickException(f"{path}: nothing written.\n{exc}") from None
    conn = db.session.connection()
    series_id = store.get_or_create_series(conn, exchange.strip().lower(), symbol, timeframe)
    written = store.bulk_upsert_candles(conn, series_id, frame)
    db.session.commit()
    from app import hot

    hot.catalog_cache().invalidate()
    click.echo(f"{len(frame)} candles stored for {exchange} {symbol} {timeframe} ({written} new or changed)"
               + (f"; {len(rejected)} rows rejected" if rejected else ""))
    for line, reason in rejected[:50]:
        click.echo(f"  rejected line {line}: {reason}")


@candles_cli.command("series")
def list_series() -> None:
    """List stored series with their bar counts."""
    from app.market import store

    conn = db.session.connection()
    for row in store.list_series(conn).itertuples():
        click.echo(f"{row.id}\t{row.exchange}\t{row.symbol}\t{row.timeframe}\t{store.count_candles(conn, row.id)}")
