"""Small helpers shared by the API views: UTC ISO times, conditional responses, the catalog."""
from __future__ import annotations

import hashlib
import pandas as pd
from flask import Response, current_app, json, request
from flask_smorest import abort

import app.hot as hot
from app.api.v1 import memo
from app.extensions import db
from app.market import query


def iso(value) -> str | None:
    """An ISO-8601 UTC string for a datetime/Timestamp (None stays None)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.isoformat()


def catalog() -> query.Catalog:
    """What is stored: this process's copy while the ``series`` counter is unchanged (see app.api.v1.memo),
    else from the hot-state catalogue or the database."""
    seen = memo.seen("series")
    kept = memo.memo("catalog")
    cat = kept.get("catalog", seen)
    if cat is None:
        cat = query.catalog(db.session, hot.catalog_cache())
        kept.put("catalog", seen, cat)
    return cat


def resolve(cat: query.Catalog, symbol: str | None, timeframe: str | None = None, field: str = "symbol"):
    """(symbol, timeframe) of a stored series, or a 404 problem naming the query field."""
    try:
        return query.resolve(cat, symbol, timeframe)
    except query.UnknownSeries as exc:
        abort(404, message=str(exc), errors=[{"field": f"query.{field}", "message": str(exc)}])


def conditional(body: bytes, mimetype: str, cache_seconds: int = 0) -> Response:
    """A response with a strong ETag of its body; ``If-None-Match`` on the same body gives 304 (werkzeug)."""
    response = current_app.response_class(body, mimetype=mimetype)
    response.set_etag(hashlib.blake2b(body, digest_size=16).hexdigest())
    response.headers["Cache-Control"] = f"private, max-age={cache_seconds}, must-revalidate"
    return response.make_conditional(request)


def json_body(doc) -> bytes:
    """Compact JSON; NaN/inf are refused (they are not JSON)."""
    return json.dumps(doc, allow_nan=False, separators=(",", ":")).encode("utf-8")
