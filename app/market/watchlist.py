"""The watch-list: which markets (exchange, symbol, timeframes) the schedule ingests.

Stored in ``watchlist`` (``app.models.watchlist``), seeded from the environment's ``WATCHLIST``
by the migration that created it. While the table is empty (a database built without that
migration's seed) the environment's list is the answer, so nothing changes for an install that
never edited it; the first change writes that list into the table first, so an edit never drops
what the environment had. Removed markets keep their row (``removed_at``), so an emptied list
stays empty and a queued refresh can tell a removed market from a file import.

Every change is validated before anything is written (:class:`WatchlistError` names the form
field), audited in the caller's transaction (``watchlist.change``) and left for the caller to
commit (and to roll back on an error). Two admins adding the same market at once: the unique key
(``uq_watchlist_market``) lets one in and the other gets the field's message, not an error page.
Nothing here talks to an exchange: the caller passes what the exchange lists. Removing a market with
its history also deletes every row derived from its candles (:data:`DERIVED`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app.audit.log import Actor, record
from app.market import store
from app.marketdata import TIMEFRAMES, validate_symbol
from app.models.alert import AlertCursor
from app.models.market import Candle, Series
from app.models.ml import Prediction
from app.models.signal import SignalQualityReport, SignalRecord
from app.models.user import utcnow
from app.models.watchlist import WatchedMarket
from app.settings import MARKET_SOURCES

AUTO = "auto"  # the default feed (workers.schedule.default_exchange), as the environment's list is ingested
EXCHANGES = MARKET_SOURCES  # auto, binance, coinbase, kraken, demo
SEEDED_BY = "WATCHLIST"
MAX_MARKETS = 200  # each market costs one refresh job per timeframe cadence


class WatchlistError(ValueError):
    """Bad input for a watch-list change; ``field`` is the form field it is about."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Market:
    exchange: str
    symbol: str
    timeframes: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.exchange} {self.symbol}"

    def as_dict(self) -> dict:
        return {"exchange": self.exchange, "symbol": self.symbol, "timeframes": list(self.timeframes)}


def parse_market(exchange, symbol, timeframes, allowed_timeframes: Iterable[str]) -> Market:
    """A checked :class:`Market` from form values, or :class:`WatchlistError` naming the field."""
    if not isinstance(exchange, str) or exchange.strip().lower() not in EXCHANGES:
        raise WatchlistError("Exchange", f"choose one of {', '.join(EXCHANGES)}, got {exchange!r:.40}")
    if symbol is None or (isinstance(symbol, str) and not symbol.strip()):
        raise WatchlistError("Symbol", "enter a symbol like BTC/USDT")
    try:
        sym = validate_symbol(symbol)
    except ValueError as exc:
        raise WatchlistError("Symbol", str(exc)) from None
    allowed = tuple(allowed_timeframes)
    if timeframes is None or isinstance(timeframes, (str, bytes)) or not hasattr(timeframes, "__iter__"):
        raise WatchlistError("Timeframes", "choose at least one timeframe")
    picked = list(timeframes)
    if not picked:
        raise WatchlistError("Timeframes", "choose at least one timeframe")
    unknown = [tf for tf in picked if tf not in allowed]
    if unknown:
        raise WatchlistError("Timeframes", f"{unknown[0]!r:.20} is not one of the configured {', '.join(allowed)}")
    order = {tf: i for i, tf in enumerate(TIMEFRAMES)}
    return Market(exchange.strip().lower(), sym, tuple(sorted(set(picked), key=lambda t: order.get(t, 99))))


def check_listed(market: Market, listed: Iterable[str] | None) -> None:
    """Refuse a symbol the exchange does not list (``listed`` None: the exchange serves any symbol, the demo set)."""
    if listed is None:
        return
    if market.symbol not in set(listed):
        raise WatchlistError("Symbol", f"{market.symbol} is not a symbol {market.exchange} lists")


def env_markets(settings) -> list[Market]:
    """The environment's list: every ``WATCHLIST`` symbol on the default feed, every configured timeframe."""
    return [Market(AUTO, s, tuple(settings.timeframes)) for s in dict.fromkeys(settings.watchlist)]


def _market(row: WatchedMarket) -> Market:
    return Market(row.exchange, row.symbol, tuple(t for t in row.timeframes.split(",") if t))


def _rows(session) -> list[WatchedMarket]:
    return list(session.scalars(select(WatchedMarket).order_by(WatchedMarket.id)))


def markets(db, settings) -> list[Market]:
    """The markets the schedule ingests (the environment's list while none is stored). One query;
    ``db`` is a session or a connection (the seed runs on a connection)."""
    rows = db.execute(select(WatchedMarket.exchange, WatchedMarket.symbol, WatchedMarket.timeframes,
                             WatchedMarket.removed_at).order_by(WatchedMarket.id)).all()
    if not rows:
        return env_markets(settings)
    return [Market(ex, sym, tuple(t for t in tfs.split(",") if t)) for ex, sym, tfs, removed in rows
            if removed is None]


def symbols(db, settings) -> list[str]:
    """Every watched symbol once, in watch-list order: what every page offers and every job covers."""
    return list(dict.fromkeys(m.symbol for m in markets(db, settings)))


def offered_symbols(session, settings) -> list[str]:
    """What an alert rule may name: every watched symbol and every one with stored candles, sorted."""
    from app.market import query

    return sorted(set(symbols(session, settings)) | set(query.catalog(session.connection()).symbols))


def symbols_fed_by(db, settings, feed: str) -> list[str]:
    """The watched symbols whose candles come from ``feed``: its own markets and those on ``auto``
    (the default feed, when ``feed`` is it). The first start seeds these."""
    return list(dict.fromkeys(m.symbol for m in markets(db, settings) if m.exchange in (AUTO, feed)))


def listing(session, settings) -> list[dict]:
    """Rows for the Admin page: the active markets with who added them and when. One query."""
    rows = _rows(session)
    if not rows:
        return [{**m.as_dict(), "added_by": SEEDED_BY, "added_at": None} for m in env_markets(settings)]
    return [{**_market(r).as_dict(), "added_by": r.added_by, "added_at": r.added_at}
            for r in rows if r.removed_at is None]


def is_removed(session, exchange: str, symbol: str) -> bool:
    """Whether this market was taken off the watch-list (a queued refresh for it then does nothing)."""
    row = session.scalar(select(WatchedMarket).where(WatchedMarket.exchange == exchange,
                                                     WatchedMarket.symbol == symbol))
    return row is not None and row.removed_at is not None


def _materialize(session, settings) -> list[WatchedMarket]:
    """Before the first change, write the environment's list into the table (so it is not lost)."""
    rows = _rows(session)
    if rows:
        return rows
    for m in env_markets(settings):
        session.add(WatchedMarket(exchange=m.exchange, symbol=m.symbol, timeframes=",".join(m.timeframes),
                                  added_at=utcnow(), added_by=SEEDED_BY))
    try:
        session.flush()
    except IntegrityError:  # another admin's first change wrote the list at the same moment
        raise WatchlistError("Market", "the watch-list was just changed by another admin; nothing was changed, "
                                       "try again") from None
    return _rows(session)


def add(session, settings, market: Market, actor: Actor, *, listed: Iterable[str] | None) -> Market:
    """Put ``market`` on the watch-list (audited); refuses a market already on it or a symbol the exchange does not list."""
    check_listed(market, listed)
    rows = _materialize(session, settings)
    same = next((r for r in rows if r.exchange == market.exchange and r.symbol == market.symbol), None)
    if same is not None and same.removed_at is None:
        raise WatchlistError("Symbol", f"{market.symbol} on {market.exchange} is already on the watch-list")
    if sum(r.removed_at is None for r in rows) >= MAX_MARKETS:
        raise WatchlistError("Symbol", f"the watch-list holds at most {MAX_MARKETS} markets")
    before = None if same is None else {"removed_at": same.removed_at.isoformat(), **_market(same).as_dict()}
    if same is None:
        same = WatchedMarket(exchange=market.exchange, symbol=market.symbol)
        session.add(same)
    same.timeframes, same.added_at, same.added_by, same.removed_at = (
        ",".join(market.timeframes), utcnow(), actor.email[:254], None)
    record(session, "watchlist.change", actor, target=market.key, before=before,
           after={"change": "add", **market.as_dict()})
    try:
        session.flush()
    except IntegrityError:  # two admins added the same market at once: the unique key let one in
        raise WatchlistError("Symbol", f"{market.symbol} on {market.exchange} was added by another admin at the same "
                                       "moment; it is on the watch-list, nothing else was changed") from None
    return market


# What "delete history" deletes besides the candles: every row computed from the market's candles and
# shared by all users, as ``{kind: model}``. Rows users own about the market (alert rules and their
# events, backtests, paper strategies and orders, portfolio transactions, chart layouts) are theirs
# and stay; so do the LSTM model files (the Admin page's Models section rolls them back or not).
DERIVED = {
    "signals": SignalRecord,
    "signal_quality": SignalQualityReport,
    "predictions": Prediction,
    "alert_cursors": AlertCursor,
}
KEPT_WITH_USERS = ("alert rules and events", "backtests", "paper strategies and orders", "portfolio transactions",
                   "chart layouts", "model versions")


def history_counts(db, exchange: str, symbol: str) -> dict[str, int]:
    """What deleting ``symbol``'s history on ``exchange`` deletes, by kind: its series, their bars and every
    derived row (:data:`DERIVED`). One query; shown in the confirmation and recorded in the audit."""
    series = select(Series.id).where(Series.exchange == exchange, Series.symbol == symbol)
    parts = [select(func.count()).select_from(Series).where(Series.id.in_(series)).scalar_subquery().label("series"),
             select(func.count()).select_from(Candle).where(Candle.series_id.in_(series)).scalar_subquery()
             .label("bars")]
    parts += [select(func.count()).select_from(model).where(model.exchange == exchange, model.symbol == symbol)
              .scalar_subquery().label(kind) for kind, model in DERIVED.items()]
    row = db.execute(select(*parts)).one()._mapping
    return {kind: int(row[kind] or 0) for kind in ("series", "bars", *DERIVED)}


def describe_history(counts: dict[str, int]) -> str:
    """The counts of :func:`history_counts` as the confirmation and the answer say them."""
    return (f"{counts['series']} series with {counts['bars']:,} bars, {counts['signals']:,} signal row(s), "
            f"{counts['signal_quality']:,} signal-quality row(s), {counts['predictions']:,} prediction(s) and "
            f"{counts['alert_cursors']} alert cursor(s)")


@dataclass(frozen=True)
class Removal:
    market: Market
    history: str  # "kept" or "deleted"
    series_deleted: int
    bars_deleted: int
    derived_deleted: dict | None = None  # kind -> rows (DERIVED), when the history was deleted


def remove(session, settings, exchange: str, symbol: str, actor: Actor, *, delete_history: bool,
           history_exchange: str | None = None) -> Removal:
    """Take a market off the watch-list (audited); with ``delete_history`` its stored series go too.

    ``history_exchange`` is where an ``auto`` market's candles are stored (the caller resolves the
    default feed); an explicit exchange's history is its own.
    """
    if not isinstance(delete_history, bool):
        raise WatchlistError("History", "choose keep or delete")
    rows = _materialize(session, settings)
    row = next((r for r in rows if r.exchange == exchange and r.symbol == symbol and r.removed_at is None), None)
    if row is None:
        raise WatchlistError("Market", f"{symbol!r:.40} on {exchange!r:.32} is not on the watch-list")
    market = _market(row)
    row.removed_at = utcnow()
    series = bars = 0
    derived = None
    if delete_history:
        where = history_exchange if exchange == AUTO else exchange
        if where is None:
            raise WatchlistError("History", "the default feed is not known, so its history cannot be deleted")
        conn = session.connection()
        for ex, sym, tf in store.series_keys(conn):
            if ex == where and sym == symbol:
                bars += store.delete_series(conn, store.find_series(conn, ex, sym, tf))
                series += 1
        derived = {kind: int(session.execute(delete(model).where(model.exchange == where, model.symbol == symbol))
                             .rowcount or 0) for kind, model in DERIVED.items()}
    removal = Removal(market, "deleted" if delete_history else "kept", series, bars, derived)
    record(session, "watchlist.change", actor, target=market.key, before=market.as_dict(),
           after={"change": "remove", "history": removal.history, "series_deleted": series, "bars_deleted": bars,
                  **({"derived_deleted": derived} if derived is not None else {})})
    session.flush()
    return removal


def due(markets_: Iterable[Market], timeframe: str) -> list[Market]:
    """The markets that ingest ``timeframe``."""
    return [m for m in markets_ if timeframe in m.timeframes]
