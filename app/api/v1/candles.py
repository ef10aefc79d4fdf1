"""``GET /api/v1/candles``: one series' bars, bounded, cursor-paginated, JSON or CSV, with an ETag.

Pages run from the newest bar backwards: a page is the latest ``limit`` bars of
``[start, end)`` (``app.market.store.load_candles``, the same read as the Market page), ascending
within the page; ``next_cursor`` carries the first bar's time as the next page's exclusive end,
so every bar is returned exactly once across pages. A page inside the series' latest 10,000 bars is
sliced from their encoded window in hot state (:mod:`app.api.v1.candle_window`, the same bytes the
database path would encode); a page that reaches further back is read from the database.
"""
from __future__ import annotations

import base64
import binascii

import pandas as pd
from flask import current_app, json, request
from flask_smorest import abort

import app.hot as hot
from app.api.v1 import candle_window as window
from app.api.v1 import memo
from app.api.v1.auth import require, resource_blueprint
from app.api.v1.common import catalog, conditional, resolve
from app.api.v1.schemas import CandlePageSchema, CandleQuerySchema
from app.extensions import db
from app.market import store

CSV_HEADER = b"time,open,high,low,close,volume\n"
blp = resource_blueprint("candles", __name__, "/api/v1/candles", "OHLCV candles of one stored series")


def encode_cursor(symbol: str, timeframe: str, end: pd.Timestamp) -> str:
    raw = json.dumps([symbol, timeframe, int(end.value // 1000)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, symbol: str, timeframe: str) -> pd.Timestamp:
    """The exclusive end time a cursor carries; 422 naming ``query.cursor`` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sym, tf, end_us = json.loads(raw)
        if not isinstance(end_us, int) or isinstance(end_us, bool):
            raise ValueError
        end = pd.Timestamp(end_us, unit="us", tz="UTC")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        abort(422, errors=[{"field": "query.cursor", "message": "not a cursor returned by this API"}])
    if (sym, tf) != (symbol, timeframe):
        abort(422, errors=[{"field": "query.cursor", "message": f"this cursor belongs to {sym} {tf}"}])
    return end


@blp.get("")
@blp.arguments(CandleQuerySchema(), location="query")
@blp.response(200, CandlePageSchema)
@blp.alt_response(304, description="Not modified: the If-None-Match ETag is still current")
@blp.doc(responses={"200": {"description": "OK",  # doc() replaces this answer: the JSON body is stated again
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CandlePage"}},
                                        "text/csv": {"schema": {"type": "string"}}},
                            "headers": {"ETag": {"schema": {"type": "string"}}}}})
@require("read")
def candles(args):
    """Bars of one series in ``[start, end)``, newest page first; ``format=csv`` for CSV (cursor in ``X-Next-Cursor``)."""
    start, end = args["start"], args["end"]
    if start is not None and end is not None and start >= end:
        abort(422, errors=[{"field": "query.end", "message": "end must be after start"}])
    cat = catalog()
    symbol, timeframe = resolve(cat, args["symbol"], args["timeframe"])
    if args["cursor"]:
        cursor_end = decode_cursor(args["cursor"], symbol, timeframe)
        end = cursor_end if end is None else min(pd.Timestamp(end), cursor_end)
    exchange = cat.exchange[symbol]
    series_id, version = _series_version(exchange, symbol, timeframe)
    if series_id is None:  # listed a moment ago, deleted since
        db.session.commit()
        abort(404, message=f"{symbol} {timeframe} is not stored (any more)")
    served = _from_window(series_id, version, symbol, timeframe, exchange, start, end, args["limit"],
                          args["format"])
    if served is not None:
        return served
    return _from_database(series_id, symbol, timeframe, exchange, start, end, args["limit"], args["format"])


def _series_version(exchange: str, symbol: str, timeframe: str) -> tuple[int | None, str]:
    """(series id, window version): the revision from this process's memo while the ``series`` counter is
    unchanged (a candle write advances the revision and bumps it), else one indexed row."""
    key = (exchange, symbol, timeframe)
    seen = memo.seen("series")
    revisions = memo.memo("series")
    found = revisions.get(key, seen)
    if found is None:
        found = window.series_revision(db.session.connection(), exchange, symbol, timeframe)
        if found[0] is not None:
            revisions.put(key, seen, found)
    return found[0], window.version_of(found[1])


def _us(value) -> int | None:
    return None if value is None else int(pd.Timestamp(value).value // 1000)  # .value: nanoseconds, any unit


def _head(symbol: str, timeframe: str, exchange: str) -> bytes:
    return json.dumps({"symbol": symbol, "timeframe": timeframe, "exchange": exchange},
                      separators=(",", ":")).encode()[:-1] + b',"candles":['


def _respond(body: bytes, mimetype: str, etag: str, next_cursor: str | None):
    response = current_app.response_class(body, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    if next_cursor and mimetype == "text/csv":
        response.headers["X-Next-Cursor"] = next_cursor
    return response.make_conditional(request)


def _from_window(series_id, version, symbol, timeframe, exchange, start, end, limit, fmt):
    """A page inside the series' latest bars, sliced from their encoded window (None: it needs older bars)."""
    start_us, end_us = _us(start), _us(end)
    etag = window.request_etag(version, series_id, start_us, end_us, limit, fmt)
    if etag in request.if_none_match:  # nothing changed since the client's copy: no bar is read
        db.session.commit()
        return _respond(b"", "application/json" if fmt == "json" else "text/csv", etag, None)
    win = window.local(series_id, version)
    if win is None:
        cache = hot.blob_cache()
        key = str(int(series_id))
        blob = cache.read(window.AREA, key, version)
        if blob is None:
            frame, has_older = window.load(db.session.connection(), series_id)
            blob = window.encode(frame, has_older)
            cache.write(window.AREA, key, version, blob)
        win = window.decode(blob)
        window.keep(series_id, version, win)
    db.session.commit()  # end the read transaction before slicing and sending
    chosen = window.page(win.times, win.has_older, start_us, end_us, limit)
    if chosen is None:
        return None
    i, j, more = chosen
    next_cursor = encode_cursor(symbol, timeframe, pd.Timestamp(int(win.times[i]), unit="us", tz="UTC")) if more else None
    if fmt == "csv":
        return _respond(win.body((i, j, "csv"), lambda: CSV_HEADER + win.csv_slice(i, j)), "text/csv", etag,
                        next_cursor)
    body = win.body((i, j, "json"), lambda: (_head(symbol, timeframe, exchange) + win.json_slice(i, j)
                                             + b'],"next_cursor":' + json.dumps(next_cursor).encode() + b"}"))
    return _respond(body, "application/json", etag, next_cursor)


def _from_database(series_id, symbol, timeframe, exchange, start, end, limit, fmt):
    """A page that reaches past the window: read from the database and encoded for this request."""
    frame = store.load_candles(db.session.connection(), series_id, start=start, end=end, limit=limit + 1)
    db.session.commit()  # end the read transaction before encoding
    next_cursor = None
    if len(frame) > limit:
        frame = frame.iloc[1:]
        next_cursor = encode_cursor(symbol, timeframe, frame.index[0])
    if fmt == "csv":
        response = conditional(window.table(frame).to_csv(index=False).encode("utf-8"), "text/csv")
        if next_cursor:
            response.headers["X-Next-Cursor"] = next_cursor
        return response
    body = (_head(symbol, timeframe, exchange) + window.json_rows(frame)[1:-1] + b'],"next_cursor":'
            + json.dumps(next_cursor).encode() + b"}")
    return conditional(body, "application/json")
