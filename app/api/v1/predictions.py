"""``GET /api/v1/predictions``: the champion model's latest p(up) per timeframe, with its version and record."""
from __future__ import annotations

from flask import current_app

from app.api.v1.auth import require, resource_blueprint
from app.api.v1.common import catalog, iso, resolve
from app.api.v1.schemas import PredictionQuerySchema, PredictionsSchema
from app.extensions import db
from app.mlops.predict import latest_predictions
from app.mlops.service import registry

blp = resource_blueprint("predictions", __name__, "/api/v1/predictions", "LSTM predictions and model versions")


@blp.get("")
@blp.arguments(PredictionQuerySchema, location="query")
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
