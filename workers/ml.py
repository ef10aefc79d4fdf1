"""ML jobs: thin shells over app.mlops.service.

``train(exchange, symbol, timeframe)`` runs on the ``ml`` queue (1 h timeout):
walk-forward evaluation, a final model, a new registry version, promotion if
it beats the baselines and the champion out of sample. Progress (percent,
phase) goes to ``job.meta``.

``predict(exchange, symbol)`` runs after each analysis of a symbol that has a
champion model: first the stored predictions whose next bar has closed are
scored (``app.mlops.live.score_pending``) and each version's live accuracy is
exported (``candlewise_model_live_accuracy``); then the latest p(up) per
timeframe of the champion and, in shadow, the challenger, stored in ``predictions``.

The weekly retrain: ``rq cron`` runs ``retrain_due()``, which enqueues one ``train`` per market of the
stored watch-list (``app.market.watchlist``, as the Admin page edits it) that ingests a retrain
timeframe; ``exchange=None`` for a market on the default feed. Each reports the live review of the
champion it ran next to (``live``: flagged or not, and why); promotion stays the rule's or an admin's
decision.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import current_app

import app.hot as hot
from app.extensions import db
from app.mlops import live
from app.mlops import predict as predictions
from app.mlops import service
from workers.context import with_app_context
from workers.progress import report
from workers.queues import enqueue

log = logging.getLogger(__name__)


@with_app_context
def train(exchange: str | None, symbol: str, timeframe: str, config: dict | None = None, folds: int = 3) -> dict:
    """Walk-forward, train, register; ``exchange=None`` (the weekly cron) means the live data's exchange."""
    try:
        if exchange is None:
            from workers.schedule import default_exchange

            exchange = default_exchange(current_app.config["CW_SETTINGS"])
        settings = current_app.config["CW_SETTINGS"]
        models = service.registry(settings)
        live_before = live.live_report(db.session, models, symbol, timeframe, settings.ml_live_window, exchange)
        outcome = service.train_and_register(db.session, models, exchange, symbol, timeframe, config=config,
                                             folds=int(folds), progress=report)
        return outcome.to_dict() | {"live": _live_summary(live_before)}
    finally:
        db.session.remove()


@with_app_context
def retrain_due(timeframes: list[str] | tuple[str, ...] | None = None) -> list[dict]:
    """Enqueue the weekly retrain: one ``train`` job per stored watch-list market and retrain timeframe it
    ingests (nothing while an emergency stop is in force). Returns what was enqueued."""
    from app.market import watchlist
    from workers.schedule import RETRAIN_TIMEFRAMES

    settings = current_app.config["CW_SETTINGS"]
    try:
        if (stop := hot.system_state(settings).stopped()) is not None:
            log.info("emergency stop in force (by %s): no retraining enqueued", stop["by"])
            return []
        markets = watchlist.markets(db.session, settings)
    finally:
        db.session.remove()
    jobs = []
    for tf in timeframes or RETRAIN_TIMEFRAMES:
        for m in watchlist.due(markets, tf):
            exchange = None if m.exchange == watchlist.AUTO else m.exchange
            job = enqueue("ml", "workers.ml.train", exchange=exchange, symbol=m.symbol, timeframe=tf)
            jobs.append({"id": job.id, "exchange": exchange, "symbol": m.symbol, "timeframe": tf})
    log.info("weekly retrain: %d job(s) enqueued", len(jobs))
    return jobs


def _live_summary(report: dict | None) -> dict | None:
    """What the retrain reports about the champion's live record (JSON-safe, without curves)."""
    if report is None:
        return None
    r = report["review"]
    m = r["metrics"] or {}
    return {"champion": report["champion"], "challenger": report["challenger"], "window": report["window"],
            "scored": r["n"], "flagged": r["flagged"], "reasons": r["reasons"],
            "live_accuracy": m.get("accuracy"), "live_log_loss": m.get("log_loss"),
            "base_rate_log_loss": m.get("base_rate_log_loss"),
            "dm_p_value": ((r["versus"] or {}).get("dm") or {}).get("p_value")}


def _export_live(models, symbol: str, timeframes) -> None:
    from app.ops.metrics import set_live_accuracy

    for timeframe in timeframes:
        champion = models.champion(symbol, timeframe)
        if champion is None:
            continue
        contender = models.challenger(symbol, timeframe, champion)
        for v in [champion] + ([contender] if contender else []):
            got = live.live_accuracy(db.session, symbol, timeframe, v.version)
            if got["live_n"]:
                set_live_accuracy(symbol, timeframe, v.version, got["live_accuracy"], got["live_n"])


@with_app_context
def predict(exchange: str, symbol: str) -> list[dict]:
    try:
        settings = current_app.config["CW_SETTINGS"]
        models = service.registry(settings)
        live.score_pending(db.session, exchange, symbol, settings.timeframes, datetime.now(timezone.utc))
        _export_live(models, symbol, settings.timeframes)
        rows = predictions.predict_symbol(db.session, models, exchange, symbol, settings.timeframes)
    finally:
        db.session.remove()
    if rows:
        from workers.pipeline import after_prediction

        hot.stream_publisher(settings).predictions(exchange, symbol, rows)
        after_prediction(exchange, symbol, settings)
    return rows
