"""Which timeframes of a symbol are stored, and their latest bars (what an analysis job reads)."""
from __future__ import annotations

import pandas as pd

from app.analysis.store import Conn, as_connection
from app.market import store
from app.marketdata import TIMEFRAMES, validate_symbol


class UnknownSymbol(ValueError):
    """No stored candles for the (exchange, symbol) asked for."""


def stored_timeframes(conn: Conn, exchange: str, symbol: str) -> dict[str, int]:
    """timeframe -> series id for the stored series of (exchange, symbol), in TIMEFRAMES order."""
    sym = validate_symbol(symbol)
    ex = exchange.strip().lower() if isinstance(exchange, str) else ""
    series = store.list_series(as_connection(conn))
    mine = series[(series["exchange"] == ex) & (series["symbol"] == sym) & series["last"].notna()]
    if mine.empty:
        here = sorted(set(series.loc[series["exchange"] == ex, "symbol"]))
        known = ", ".join(here) if here else "none"
        raise UnknownSymbol(f"No candles stored for {sym} on exchange {ex!r}; run an ingest first. "
                            f"Symbols stored on {ex!r}: {known}.")
    ids = dict(zip(mine["timeframe"], mine["id"].astype(int)))
    return {tf: ids[tf] for tf in TIMEFRAMES if tf in ids}


def load_frames(conn: Conn, exchange: str, symbol: str, limit: int) -> dict[str, pd.DataFrame]:
    """The latest ``limit`` stored bars of every timeframe of (exchange, symbol)."""
    c = as_connection(conn)
    return {tf: store.load_candles(c, sid, limit=limit) for tf, sid in stored_timeframes(c, exchange, symbol).items()}
