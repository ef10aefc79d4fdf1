"""Analysis jobs: thin shells over app.analysis.service (load, score, store, cache, hand on).

``analyze(exchange, symbol)`` runs on the ``analysis`` queue after new closed
bars: it scores every timeframe's latest stored bar, upserts the ``signals``
rows, writes the Redis snapshot ``{prefix}:signals:{symbol}`` (production
mode), refreshes the cached quality report when it is stale, and then hands
on to alert evaluation (:func:`after_analysis`).

``enqueue_analysis(exchange, symbol)`` is how ingestion asks for a run. It
coalesces: while an analysis of the symbol is still *queued*, further requests
return that job instead of adding another, so one burst of new bars across
six timeframes costs one analysis (it reads whatever is stored when it starts).
"""
from __future__ import annotations

import importlib
import logging

from flask import current_app

from app.analysis import service
from app.extensions import db
from app.market.timeframes import validate_symbol
from app.settings import Settings
from workers.context import with_app_context
from workers.progress import report

log = logging.getLogger(__name__)
ALERTS_MODULE, ALERTS_FUNC = "workers.alerts", "evaluate"
PENDING_TTL_S = 600
WAITING = ("queued", "deferred", "scheduled")


def signal_cache(settings: Settings) -> service.SignalCache | None:
    """The Redis snapshot store, or None in embedded mode (pages then read the database)."""
    if settings.embedded:
        return None
    from workers.connection import redis_connection

    return service.SignalCache(redis_connection(settings.redis_url), prefix=settings.redis_prefix)


@with_app_context
def analyze(exchange: str, symbol: str) -> dict:
    """Score (exchange, symbol) on every stored timeframe; store rows and snapshot; enqueue alerts."""
    settings: Settings = current_app.config["CW_SETTINGS"]
    report(10, "scoring")
    snapshot = service.analyze_symbol(db.session, exchange, symbol, cache=signal_cache(settings))
    report(60, "quality")
    refreshed = service.refresh_quality(db.session, exchange, symbol)
    db.session.commit()
    alerts_job = after_analysis(snapshot["symbol"])
    ml_job = enqueue_prediction(snapshot["exchange"], snapshot["symbol"], settings)
    report(100, "done")
    fused = snapshot["fused"]
    return {"exchange": snapshot["exchange"], "symbol": snapshot["symbol"], "bar_time": snapshot["bar_time"],
            "score": fused["score"], "label": fused["label"], "timeframes": list(snapshot["timeframes"]),
            "quality_refreshed": refreshed, "alerts_job": alerts_job, "ml_job": ml_job}


def enqueue_prediction(exchange: str, symbol: str, settings: Settings) -> str | None:
    """Enqueue ``workers.ml.predict`` when the symbol has a champion model on any timeframe
    (a directory check: nothing heavy is imported otherwise). Returns the job id or None."""
    from app.mlops.predict import champions

    if not champions(symbol, settings.timeframes):
        return None
    from workers.queues import enqueue

    return enqueue("ml", "workers.ml.predict", exchange, symbol).id


def after_analysis(symbol: str) -> str | None:
    """Hook for the alerts stage: enqueue ``workers.alerts.evaluate(symbol)`` when that job exists.

    The alerts issue provides ``workers/alerts.py`` with ``evaluate(symbol)``,
    which reads the snapshot written above; until it lands there is nothing
    to evaluate and no job is enqueued. Returns the alerts job id, or None.
    """
    try:
        module = importlib.import_module(ALERTS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != ALERTS_MODULE:
            raise
        return None
    if not callable(getattr(module, ALERTS_FUNC, None)):
        return None
    from workers.queues import enqueue

    return enqueue("alerts", f"{ALERTS_MODULE}.{ALERTS_FUNC}", symbol).id


def _fixed_id(exchange: str, symbol: str) -> str:
    return f"analyze-{exchange}-{symbol.replace('/', '-')}"


def enqueue_analysis(exchange: str, symbol: str):
    """Enqueue ``analyze(exchange, symbol)`` unless one is already waiting; returns (JobRef, enqueued?)."""
    from workers.queues import enqueue, fetch_job, runner

    exchange, symbol = exchange.strip().lower(), validate_symbol(symbol)
    run = runner()
    if run.mode == "rq":
        settings: Settings = current_app.config["CW_SETTINGS"]
        pointer = f"{settings.redis_prefix}:signals:pending:{exchange}:{symbol}"
        pending = run.connection.get(pointer)
        job = fetch_job(pending.decode()) if pending else None
        if job is not None and job.status in WAITING:
            return job, False
        job = enqueue("analysis", "workers.analysis.analyze", exchange, symbol)
        run.connection.set(pointer, job.id, ex=PENDING_TTL_S)
        return job, True
    # in-process: a job id per symbol is safe to reuse (the runner keeps one entry per id)
    job = fetch_job(_fixed_id(exchange, symbol))
    if job is not None and job.status in WAITING:
        return job, False
    return enqueue("analysis", "workers.analysis.analyze", exchange, symbol, job_id=_fixed_id(exchange, symbol)), True
