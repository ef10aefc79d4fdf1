"""``/api/v1/markets``: the stored series and the latest tickers (the Market page's reads)."""
from __future__ import annotations

import app.hot as hot
from app.api.v1.auth import require, resource_blueprint
from app.api.v1.common import catalog, iso
from app.api.v1.schemas import MarketsSchema, TickersSchema
from app.extensions import db
from app.market import query

blp = resource_blueprint("markets", __name__, "/api/v1/markets", "Stored markets and latest tickers")


@blp.get("")
@blp.response(200, MarketsSchema)
@require("read")
def markets():
    """Every stored symbol with its exchange and timeframes."""
    cat = catalog()
    db.session.commit()
    return {"markets": [{"symbol": s, "exchange": cat.exchange[s], "timeframes": cat.timeframes[s],
                         "demo": cat.is_demo(s)} for s in cat.symbols]}


@blp.get("/tickers")
@blp.response(200, TickersSchema)
@require("read")
def tickers():
    """Latest price, 24 h change and 24 h volume per symbol (live cache first, else stored 1m bars)."""
    cat = catalog()
    rows = query.tickers(db.session, cat, hot.live_cache())
    db.session.commit()
    return {"tickers": [{"symbol": t.symbol, "price": t.price, "change_24h_pct": t.change_24h_pct,
                         "volume_24h": t.volume_24h, "time": iso(t.time)} for t in rows]}
