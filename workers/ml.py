"""ML jobs: thin shells over app.mlops.service.

``train(exchange, symbol, timeframe)`` runs on the ``ml`` queue (1 h timeout):
walk-forward evaluation, a final model, a new registry version, promotion if
it beats the baselines and the champion out of sample. Progress (percent,
phase) goes to ``job.meta``.

``predict(exchange, symbol)`` runs after each analysis of a symbol that has a
champion model: the latest p(up) per timeframe, stored in ``predictions``.
"""
from __future__ import annotations

from flask import current_app

from app.extensions import db
from app.mlops import predict as predictions
from app.mlops import service
from workers.context import with_app_context
from workers.progress import report


@with_app_context
def train(exchange: str | None, symbol: str, timeframe: str, config: dict | None = None, folds: int = 3) -> dict:
    """Walk-forward, train, register; ``exchange=None`` (the weekly cron) means the live data's exchange."""
    try:
        if exchange is None:
            from workers.schedule import default_exchange

            exchange = default_exchange(current_app.config["CW_SETTINGS"])
        outcome = service.train_and_register(db.session, service.registry(current_app.config["CW_SETTINGS"]),
                                             exchange, symbol, timeframe, config=config,
                                             folds=int(folds), progress=report)
        return outcome.to_dict()
    finally:
        db.session.remove()


@with_app_context
def predict(exchange: str, symbol: str) -> list[dict]:
    try:
        settings = current_app.config["CW_SETTINGS"]
        rows = predictions.predict_symbol(db.session, service.registry(settings), exchange, symbol,
                                          settings.timeframes)
    finally:
        db.session.remove()
    if rows:
        from workers.pipeline import after_prediction

        after_prediction(exchange, symbol, settings)
    return rows
