"""``GET /api/v1/predictions``: the champion model's latest p(up) per timeframe, with its version and record."""
from __future__ import annotations

from flask import current_app

from app.api.v1.auth import require, resource_blueprint
from app.api.v1.common import catalog, iso, resolve
from app.api.v1.schemas import ModelQuerySchema, ModelVersionListSchema, PredictionQuerySchema, PredictionsSchema
from app.extensions import db
from app.mlops.predict import latest_predictions
from app.mlops.service import registry

blp = resource_blueprint("predictions", __name__, "/api/v1/predictions", "LSTM predictions and model versions")


@blp.get("")
@blp.arguments(PredictionQuerySchema(), location="query")
@blp.response(200, PredictionsSchema)
@require("read")
def predictions(args):
    """Per timeframe with a champion model: its newest stored prediction and out-of-sample accuracy."""
    cat = catalog()
    symbol = resolve(cat, args["symbol"])[0]
    rows = latest_predictions(db.session, registry(current_app.config["CW_SETTINGS"]), symbol,
                              cat.timeframes[symbol])
    db.session.commit()
    for row in rows:
        row["bar_time"] = iso(row["bar_time"])
    return {"symbol": symbol, "predictions": rows}


@blp.get("/models")
@blp.arguments(ModelQuerySchema(), location="query")
@blp.response(200, ModelVersionListSchema)
@require("read")
def models(args):
    """Every stored model version per symbol and timeframe, newest first, with its out-of-sample record
    next to the baselines and which one is the champion (``app.mlops.service.model_rows``, as on the Admin page)."""
    from app.mlops.service import model_rows

    cat = catalog()
    symbols = [resolve(cat, args["symbol"])[0]] if args["symbol"] else list(cat.symbols)
    timeframes = tuple(sorted({tf for s in symbols for tf in cat.timeframes.get(s, [])}))
    rows = model_rows(registry(current_app.config["CW_SETTINGS"]), tuple(symbols), timeframes)
    db.session.commit()
    return {"models": rows}
