"""``/api/v1/signals``: the current signal snapshots (with reasons) and the score history (the Signals page's reads)."""
from __future__ import annotations

import app.hot as hot
from app.analysis import reads
from app.api.v1.auth import require, resource_blueprint
from app.api.v1.common import catalog, conditional, iso, json_body, resolve
from app.api.v1.schemas import HistoryQuerySchema, SignalHistorySchema, SignalsSchema, SymbolQuerySchema
from app.extensions import db

blp = resource_blueprint("signals", __name__, "/api/v1/signals", "Signal snapshots and score history")
def etag_doc(schema_name: str) -> dict:
    """The 200 answer with its ETag header. flask-smorest's ``doc`` replaces the response it names rather
    than merging into it, so the JSON body is stated again here."""
    return {"responses": {"200": {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
        "headers": {"ETag": {"schema": {"type": "string"}}}}}}


@blp.get("")
@blp.arguments(SymbolQuerySchema(), location="query")
@blp.response(200, SignalsSchema)
@blp.alt_response(304, description="Not modified: the If-None-Match ETag is still current")
@blp.doc(**etag_doc("Signals"))
@require("read")
def current(args):
    """The latest snapshot per symbol (hot state first, then the database), or of one ``symbol``."""
    cat = catalog()
    symbols = [resolve(cat, args["symbol"])[0]] if args["symbol"] else cat.symbols
    exchanges = {s: cat.exchange[s] for s in symbols}
    snaps = reads.snapshots(db.session, hot.signal_cache(), exchanges)
    db.session.commit()
    doc = {"signals": [{"symbol": s, "exchange": exchanges[s], "snapshot": snaps.get(s)} for s in symbols]}
    return conditional(json_body(SignalsSchema().dump(doc)), "application/json")


@blp.get("/history")
@blp.arguments(HistoryQuerySchema(), location="query")
@blp.response(200, SignalHistorySchema)
@blp.alt_response(304, description="Not modified: the If-None-Match ETag is still current")
@blp.doc(**etag_doc("SignalHistory"))
@require("read")
def history(args):
    """Stored scores of one symbol (every timeframe and the fused one), oldest first."""
    cat = catalog()
    symbol = resolve(cat, args["symbol"])[0]
    frame = reads.score_history(db.session, cat.exchange[symbol], symbol, limit=args["limit"])
    db.session.commit()
    rows = [{"timeframe": r.timeframe, "bar_time": iso(r.bar_time), "score": float(r.score),
             "confidence": float(r.confidence), "label": r.label} for r in frame.itertuples(index=False)]
    doc = {"symbol": symbol, "exchange": cat.exchange[symbol], "history": rows}
    return conditional(json_body(doc), "application/json")
