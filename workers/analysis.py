"""Analysis jobs: thin shells over app.analysis (load, score, store, cache, hand on).

``analyze(exchange, symbol)`` runs on the ``analysis`` queue after new closed bars: it scores
every timeframe's latest stored bar and upserts the ``signals`` rows (``app.analysis.analyze``),
commits, writes the snapshot to hot state (production mode), hands on to the stages after analysis
(``workers.pipeline``: alerts are evaluated right here), then refreshes the cached quality report
when it is stale.
"""
from __future__ import annotations

import logging

from flask import current_app

import app.hot as hot
from app.analysis.analyze import analyze_symbol
from app.analysis.incremental import BlobMemo
from app.hot.blobs import BlobCache
from app.analysis.quality_report import refresh_quality
from app.extensions import db
from app.settings import Settings
from workers import pipeline
from workers.context import with_app_context
from workers.progress import report

log = logging.getLogger(__name__)


MEMO_TTL_S = 2 * 3600  # a daily frame is recomputed at most every two hours, a 1h frame once per bar


def analysis_memo(settings: Settings) -> BlobMemo:
    """The incremental-analysis memo in hot state, shared by every work horse (this process's memory
    when embedded)."""
    return BlobMemo(BlobCache(hot.kv_store(settings), prefix=settings.redis_prefix, ttl_s=MEMO_TTL_S))


@with_app_context
def analyze(exchange: str, symbol: str) -> dict:
    """Score (exchange, symbol) on every stored timeframe; store rows and snapshot; enqueue what follows."""
    settings: Settings = current_app.config["CW_SETTINGS"]
    report(10, "scoring")
    # read, end the transaction, then compute (no connection idle in a transaction while scoring); a
    # timeframe whose bars did not change since the last run reuses that run's result (app.analysis.incremental)
    snapshot = analyze_symbol(db.session, exchange, symbol, end_read=db.session.commit, memo=analysis_memo(settings))
    db.session.commit()
    cache = hot.signal_cache(settings)
    if cache is not None:
        cache.write(snapshot)
    hot.stream_publisher(settings).signal(snapshot)
    # the stages that follow (alerts first) before the quality report: it may take a while and nothing
    # after it needs it
    following = pipeline.after_analysis(snapshot["exchange"], snapshot["symbol"], settings)
    report(60, "quality")
    refreshed = refresh_quality(db.session, exchange, symbol)
    db.session.commit()
    report(100, "done")
    fused = snapshot["fused"]
    return {"exchange": snapshot["exchange"], "symbol": snapshot["symbol"], "bar_time": snapshot["bar_time"],
            "score": fused["score"], "label": fused["label"], "timeframes": list(snapshot["timeframes"]),
            "quality_refreshed": refreshed, **following}
