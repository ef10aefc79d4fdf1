"""Signals glue between the pure analysis layer, the database and Redis.

The analysis job and the Signals page call these functions; everything here
takes a SQLAlchemy ``Connection``/``Session`` (and, for the hot state, a
``SignalCache`` or None) explicitly, so it runs the same in an RQ worker, in
embedded mode and in tests.  Nothing here commits: the caller owns the
transaction.

Write side (the ``analysis`` job)
---------------------------------
``analyze_symbol(conn, exchange, symbol, config=None, cache=None) -> dict``
    Loads the last ``config.history_bars`` stored bars of every timeframe
    (only bars already stored, so a signal at bar t sees bars <= t), runs
    ``analyze_latest``, upserts one ``signals`` row per timeframe plus a
    ``'fused'`` row (unique per exchange, symbol, timeframe, bar_time: a
    re-run rewrites the same rows), and writes the snapshot to Redis.
    Returns the snapshot (see :func:`build_snapshot`).
``refresh_quality(conn, exchange, symbol, config=None, now=None, max_age=...) -> bool``
    Recomputes the cached quality report when it is older than ``max_age``:
    ``score_series`` over the last ``QUALITY_BARS`` stored bars of each
    timeframe (out of sample: fixed hand-set weights, every score at bar t
    from bars <= t), ``signal_quality`` on those scores, one
    ``signal_quality`` row per timeframe; it also stores the last
    ``HISTORY_BARS`` per-timeframe scores as ``signals`` rows (existing rows
    are kept) so the score history chart has depth from the first run.

Read side (the page)
--------------------
``snapshots(conn, cache, exchanges) -> dict[symbol, snapshot]``  Redis first, DB fallback.
``score_history(conn, exchange, symbol, limit=...) -> DataFrame``
``quality_report(conn, exchange, symbol) -> (DataFrame, dict[tf, meta])``

Unknown symbols or exchanges raise :class:`UnknownSymbol` (a ``ValueError``)
with the list of what is stored.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.analysis.config import ScoringConfig
from app.analysis.patterns import detect_events
from app.analysis.quality import signal_quality
from app.analysis.scoring import analyze_latest, score_series
from app.analysis.types import FusedSignal, Signal
from app.market import store
from app.market.timeframes import TIMEFRAMES, validate_symbol
from app.models.signal import FUSED, SignalQualityReport, SignalRecord

SIGNALS = SignalRecord.__table__
QUALITY = SignalQualityReport.__table__
SNAPSHOT_TTL_S = 3600  # a snapshot older than this reads as cold; the page falls back to the DB
EVENT_BARS = 300  # events of the latest N bars per timeframe go into the snapshot (chart markers)
QUALITY_BARS = 20_000  # bars per timeframe scored for the quality report (1m: ~2 weeks)
QUALITY_HORIZONS = (1, 4, 12)
QUALITY_MAX_AGE = timedelta(minutes=30)
HISTORY_BARS = 300  # per-timeframe score history stored by refresh_quality

Conn = Connection | Session


class UnknownSymbol(ValueError):
    """No stored candles for the (exchange, symbol) asked for."""


def _connection(conn: Conn) -> Connection:
    """The Connection of a Session (or Flask-SQLAlchemy's scoped ``db.session``), or ``conn`` itself."""
    if isinstance(conn, Connection):
        return conn
    if isinstance(conn, Session) or callable(getattr(conn, "connection", None)):
        return conn.connection()
    raise TypeError(f"expected a SQLAlchemy Connection or Session, got {type(conn).__name__}")


def _insert(conn: Connection):
    if conn.dialect.name == "postgresql":
        return postgresql.insert
    if conn.dialect.name == "sqlite":
        return sqlite.insert
    raise ValueError(f"signals storage supports PostgreSQL and SQLite, not {conn.dialect.name!r}")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _py_time(t) -> datetime:
    return pd.Timestamp(t).tz_convert("UTC").to_pydatetime()


# ---------------------------------------------------------------- loading
def stored_timeframes(conn: Conn, exchange: str, symbol: str) -> dict[str, int]:
    """timeframe -> series id for the stored series of (exchange, symbol), in TIMEFRAMES order."""
    sym = validate_symbol(symbol)
    ex = exchange.strip().lower() if isinstance(exchange, str) else ""
    series = store.list_series(_connection(conn))
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
    c = _connection(conn)
    return {tf: store.load_candles(c, sid, limit=limit) for tf, sid in stored_timeframes(c, exchange, symbol).items()}


# ---------------------------------------------------------------- snapshot
def recent_events(frame: pd.DataFrame, timeframe: str, bars: int = EVENT_BARS) -> list[dict]:
    """Events detected on ``frame`` within its last ``bars`` bars, JSON-ready, oldest first."""
    if len(frame) == 0:
        return []
    events = detect_events(frame, timeframe)
    events = events[events["time"] >= frame.index[max(0, len(frame) - bars)]]
    return [{"time": pd.Timestamp(r.time).isoformat(), "event": r.event, "kind": r.kind,
             "direction": int(r.direction), "strength": round(float(r.strength), 3)}
            for r in events.itertuples(index=False)]


def build_snapshot(exchange: str, signals: dict[str, Signal], fused: FusedSignal,
                   events: dict[str, list[dict]] | None = None, computed_at: datetime | None = None) -> dict:
    """The JSON document the page shows for one symbol (Redis value and the fused row's details).

    ``timeframes`` maps tf -> the timeframe's ``Signal.to_dict()`` plus its
    fusion weight and effective share; ``top_reasons`` ranks every
    timeframe's reasons by points x share (what moved the fused score most).
    """
    computed_at = computed_at or _utcnow()
    fused_d = fused.to_dict()
    per_tf = {}
    ranked = []
    for tf in [t for t in TIMEFRAMES if t in signals]:
        d = signals[tf].to_dict()
        info = fused.timeframes.get(tf, {})
        d["weight"] = info.get("weight", 0.0)
        d["share"] = info.get("share", 0.0)
        d["events"] = (events or {}).get(tf, [])
        per_tf[tf] = d
        ranked += [(abs(r["points"]) * d["share"], f"{r['text']}") for r in d["reasons"]]
    ranked.sort(key=lambda x: -x[0])
    return {
        "exchange": exchange, "symbol": fused.symbol, "bar_time": fused_d["bar_time"],
        "computed_at": computed_at.astimezone(timezone.utc).isoformat(),
        "fused": fused_d, "timeframes": per_tf,
        "top_reasons": [text for weight, text in ranked[:3] if weight > 0],
    }


class SignalCache:
    """Signal snapshots in Redis: ``{prefix}:signals:{symbol}`` -> JSON, with a TTL."""

    def __init__(self, redis_client, prefix: str = "cw", ttl_s: int = SNAPSHOT_TTL_S):
        if not isinstance(ttl_s, int) or ttl_s < 1:
            raise ValueError(f"ttl_s must be a positive number of seconds, got {ttl_s!r}")
        self.redis, self.prefix, self.ttl_s = redis_client, prefix, ttl_s

    def key(self, symbol: str) -> str:
        return f"{self.prefix}:signals:{validate_symbol(symbol)}"

    def write(self, snapshot: dict) -> None:
        self.redis.set(self.key(snapshot["symbol"]), json.dumps(snapshot, allow_nan=False), ex=self.ttl_s)

    def read_many(self, symbols: Iterable[str]) -> dict[str, dict | None]:
        names = [validate_symbol(s) for s in symbols]
        if not names:
            return {}
        raws = self.redis.mget([self.key(s) for s in names])
        return {s: (None if raw is None else json.loads(raw)) for s, raw in zip(names, raws)}

    def read(self, symbol: str) -> dict | None:
        return self.read_many([symbol])[validate_symbol(symbol)]


# ---------------------------------------------------------------- writes
def _signal_row(exchange: str, timeframe: str, symbol: str, bar_time, score: float, confidence: float,
                label: str, reasons: list[dict], details: dict | None, model_version: str | None,
                now: datetime) -> dict:
    return {"exchange": exchange, "symbol": symbol, "timeframe": timeframe, "bar_time": _py_time(bar_time),
            "score": float(score), "confidence": float(confidence), "label": label, "reasons": reasons,
            "details": details, "model_version": model_version, "created_at": now}


def upsert_signal_rows(conn: Conn, rows: list[dict], overwrite: bool = True) -> int:
    """Insert ``signals`` rows; on the unique key update them (or keep the old ones if not ``overwrite``)."""
    if not rows:
        return 0
    c = _connection(conn)
    stmt = _insert(c)(SIGNALS)
    key = ["exchange", "symbol", "timeframe", "bar_time"]
    if overwrite:
        cols = ("score", "confidence", "label", "reasons", "details", "model_version", "created_at")
        stmt = stmt.on_conflict_do_update(index_elements=key, set_={k: stmt.excluded[k] for k in cols})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=key)
    with c.begin_nested():
        return max(c.execute(stmt, rows).rowcount, 0)


def store_signals(conn: Conn, exchange: str, signals: dict[str, Signal], fused: FusedSignal,
                  snapshot: dict, now: datetime | None = None) -> int:
    """Upsert one row per timeframe and the fused row (whose details hold ``snapshot``)."""
    now = now or _utcnow()
    rows = [_signal_row(exchange, tf, s.symbol, s.bar_time, s.score, s.confidence, s.label,
                        [r.to_dict() for r in s.reasons], None, s.model_version, now)
            for tf, s in signals.items()]
    rows.append(_signal_row(exchange, FUSED, fused.symbol, fused.bar_time, fused.score, fused.confidence,
                            fused.label, [r.to_dict() for r in fused.reasons], snapshot, None, now))
    return upsert_signal_rows(conn, rows)


def analyze_symbol(conn: Conn, exchange: str, symbol: str, config: ScoringConfig | None = None,
                   cache: SignalCache | None = None, now: datetime | None = None) -> dict:
    """Score the latest stored bar of every timeframe, store the rows, cache the snapshot; return it."""
    config = config or ScoringConfig()
    exchange = exchange.strip().lower()
    conn = _connection(conn)
    frames = load_frames(conn, exchange, symbol, limit=config.history_bars)
    signals, fused = analyze_latest(frames, symbol, config)
    events = {tf: recent_events(frame, tf) for tf, frame in frames.items()}
    snapshot = build_snapshot(exchange, signals, fused, events, computed_at=now)
    store_signals(conn, exchange, signals, fused, snapshot, now=now)
    if cache is not None:
        cache.write(snapshot)
    return snapshot


def _records(frame: pd.DataFrame) -> list[dict]:
    """JSON-safe records (NaN -> None)."""
    out = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()} for r in out]


def quality_for_frame(candles: pd.DataFrame, timeframe: str, config: ScoringConfig | None = None,
                      horizons=QUALITY_HORIZONS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores from ``score_series``, ``signal_quality`` report) for one timeframe's candles."""
    scores = score_series(candles, timeframe, config)
    return scores, signal_quality(candles, scores, horizons=horizons)


def refresh_quality(conn: Conn, exchange: str, symbol: str, config: ScoringConfig | None = None,
                    now: datetime | None = None, max_age: timedelta = QUALITY_MAX_AGE) -> bool:
    """Recompute the stored quality report (and score history) if older than ``max_age``; True if it did."""
    now = now or _utcnow()
    exchange = exchange.strip().lower()
    sym = validate_symbol(symbol)
    c = _connection(conn)
    q = QUALITY.c
    oldest = c.execute(select(q.computed_at).where(q.exchange == exchange, q.symbol == sym)
                       .order_by(q.computed_at)).scalars().first()
    if oldest is not None and now - _as_utc(oldest) < max_age:
        return False
    reports, history = [], []
    for tf, sid in stored_timeframes(c, exchange, sym).items():
        candles = store.load_candles(c, sid, limit=QUALITY_BARS)
        scores, report = quality_for_frame(candles, tf, config)
        reports.append({"exchange": exchange, "symbol": sym, "timeframe": tf, "bars": len(candles),
                        "first_bar": _py_time(candles.index[0]), "last_bar": _py_time(candles.index[-1]),
                        "rows": _records(report), "computed_at": now})
        tail = scores.iloc[-HISTORY_BARS:]
        pts_cols = [col for col in tail.columns if col.startswith("pts_")]
        for t, r in zip(tail.index, tail.to_dict("records")):
            reasons = sorted(({"text": f"{col[4:]} on {tf}: {r[col]:+.1f}", "points": round(float(r[col]), 2),
                               "component": col[4:]} for col in pts_cols if abs(r[col]) >= 0.05),
                             key=lambda x: -abs(x["points"]))
            history.append(_signal_row(exchange, tf, sym, t, r["score"], r["confidence"], r["label"], reasons,
                                       None, None, now))
    stmt = _insert(c)(QUALITY)
    cols = ("bars", "first_bar", "last_bar", "rows", "computed_at")
    stmt = stmt.on_conflict_do_update(index_elements=["exchange", "symbol", "timeframe"],
                                      set_={k: stmt.excluded[k] for k in cols})
    with c.begin_nested():
        if reports:
            c.execute(stmt, reports)
    upsert_signal_rows(c, history, overwrite=False)
    return True


def _as_utc(value) -> datetime:
    return pd.Timestamp(value).tz_convert("UTC").to_pydatetime() if pd.Timestamp(value).tzinfo \
        else pd.Timestamp(value).tz_localize("UTC").to_pydatetime()


# ---------------------------------------------------------------- reads
def latest_snapshot_from_db(conn: Conn, exchange: str, symbol: str) -> dict | None:
    """The newest fused row's snapshot for (exchange, symbol), or None."""
    s = SIGNALS.c
    stmt = (select(s.details).where(s.exchange == exchange, s.symbol == validate_symbol(symbol),
                                    s.timeframe == FUSED, s.details.is_not(None))
            .order_by(s.bar_time.desc()).limit(1))
    return _connection(conn).execute(stmt).scalar_one_or_none()


def snapshots(conn: Conn, cache: SignalCache | None, exchanges: dict[str, str]) -> dict[str, dict | None]:
    """symbol -> latest snapshot (Redis first, then the DB) for ``exchanges`` = {symbol: exchange}."""
    cached = cache.read_many(exchanges) if cache is not None else {}
    out = {}
    for symbol, exchange in exchanges.items():
        snap = cached.get(symbol)
        if snap is None or snap.get("exchange") != exchange:
            snap = latest_snapshot_from_db(conn, exchange, symbol)
        out[symbol] = snap
    return out


def score_history(conn: Conn, exchange: str, symbol: str, limit: int = 2000) -> pd.DataFrame:
    """Stored scores of (exchange, symbol): ``timeframe, bar_time, score, confidence, label``, oldest first."""
    s = SIGNALS.c
    stmt = (select(s.timeframe, s.bar_time, s.score, s.confidence, s.label)
            .where(s.exchange == exchange, s.symbol == validate_symbol(symbol))
            .order_by(s.bar_time.desc()).limit(int(limit)))
    rows = _connection(conn).execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["timeframe", "bar_time", "score", "confidence", "label"])
    frame["bar_time"] = pd.to_datetime(frame["bar_time"], utc=True)
    return frame.iloc[::-1].reset_index(drop=True)


def quality_report(conn: Conn, exchange: str, symbol: str) -> tuple[pd.DataFrame, dict[str, dict]]:
    """The cached quality rows (a ``timeframe`` column added) and per-timeframe metadata."""
    q = QUALITY.c
    stmt = (select(q.timeframe, q.bars, q.first_bar, q.last_bar, q.rows, q.computed_at)
            .where(q.exchange == exchange, q.symbol == validate_symbol(symbol)))
    found = {r.timeframe: r for r in _connection(conn).execute(stmt)}
    frames, meta = [], {}
    for tf in [t for t in TIMEFRAMES if t in found]:
        r = found[tf]
        meta[tf] = {"bars": r.bars, "first_bar": _as_utc(r.first_bar), "last_bar": _as_utc(r.last_bar),
                    "computed_at": _as_utc(r.computed_at)}
        part = pd.DataFrame(r.rows)
        part.insert(0, "timeframe", tf)
        frames.append(part)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["timeframe", "horizon", "label"])
    return frame, meta
