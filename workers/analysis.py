"""Analysis jobs: thin shells over app.analysis (load, score, store, cache, hand on).

``analyze(exchange, symbol)`` runs on the ``analysis`` queue after new closed bars: it scores
every timeframe's latest stored bar and upserts the ``signals`` rows (``app.analysis.analyze``),
refreshes the cached quality report when it is stale, commits, writes the snapshot to hot state
(production mode) and hands on to the stages after analysis (``workers.pipeline``).
"""
from __future__ import annotations

import logging

from flask import current_app

import app.hot as hot
from app.analysis.analyze import analyze_symbol
from app.analysis.quality_report import refresh_quality
from app.extensions import db
from app.settings import Settings
from workers import pipeline
from workers.context import with_app_context
from workers.progress import report

log = logging.getLogger(__name__)


@with_app_context
def analyze(exchange: str, symbol: str) -> dict:
    """Score (exchange, symbol) on every stored timeframe; store rows and snapshot; enqueue what follows."""
    settings: Settings = current_app.config["CW_SETTINGS"]
    report(10, "scoring")
    snapshot = analyze_symbol(db.session, exchange, symbol)
    report(60, "quality")
    refreshed = refresh_quality(db.session, exchange, symbol)
    db.session.commit()
    cache = hot.signal_cache(settings)
    if cache is not None:
        cache.write(snapshot)
    following = pipeline.after_analysis(snapshot["exchange"], snapshot["symbol"], settings)
    report(100, "done")
    fused = snapshot["fused"]
    return {"exchange": snapshot["exchange"], "symbol": snapshot["symbol"], "bar_time": snapshot["bar_time"],
            "score": fused["score"], "label": fused["label"], "timeframes": list(snapshot["timeframes"]),
            "quality_refreshed": refreshed, **following}
