"""The pipeline: which stage follows which, decided here and only here.

    schedule ─▶ ingest.refresh(exchange, symbol, tf)
                  │ new closed bars
                  ▼
                analysis.analyze(exchange, symbol)      one queued run per symbol (bursts coalesce)
                  │ after every run, inside the same job (no second job to queue and start)
                  ├──▶ alerts.evaluate(exchange, symbol)  every live rule of the symbol, one pass; its
                  │                                       deliveries are enqueued at once
                  ▼
                ml.predict(exchange, symbol)            only when the symbol has a champion model
                  │ after the predictions are stored
                  ▼
                alerts.evaluate(exchange, symbol)       again, for the p(up) rules (events are unique
                                                        per rule and bar, so nothing fires twice)
                alerts.deliver(delivery_id)             one job per (event, outside channel)
                and, after every analysis run:
                paper.step(exchange, symbol)            only when the symbol has an active paper strategy

Job functions call :func:`after_ingest` / :func:`after_analysis` when they finish; nothing in the
domain packages enqueues. A new stage (alert evaluation, paper trading) is one more function in
``AFTER_ANALYSIS``.
"""
from __future__ import annotations

import logging
from typing import Callable

from app.marketdata import validate_symbol
from app.settings import Settings
from workers.queues import JobRef, enqueue, fetch_job, runner

log = logging.getLogger(__name__)
PENDING_TTL_S = 600
WAITING = ("queued", "deferred", "scheduled")


def _fixed_id(exchange: str, symbol: str) -> str:
    return f"analyze-{exchange}-{symbol.replace('/', '-')}"


def enqueue_analysis(exchange: str, symbol: str, settings: Settings) -> tuple[JobRef, bool]:
    """Enqueue ``analyze(exchange, symbol)`` unless one is already waiting; returns (job, enqueued?).

    Coalescing: while an analysis of the symbol is still *queued*, further requests return that job
    instead of adding another, so one burst of new bars across six timeframes costs one analysis
    (it reads whatever is stored when it starts).
    """
    exchange, symbol = exchange.strip().lower(), validate_symbol(symbol)
    run = runner()
    if run.mode == "rq":
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


def after_ingest(exchange: str, symbol: str, timeframe: str, new_closed_bars: int, settings: Settings) -> str | None:
    """New closed bars go to analysis; returns the analysis job id (None when there were none)."""
    if not new_closed_bars:
        return None
    job, enqueued = enqueue_analysis(exchange, symbol, settings)
    log.info("new closed bars: %s %s %s -> analysis %s (%s)", exchange, symbol, timeframe, job.id,
             "enqueued" if enqueued else "already queued")
    return job.id


def enqueue_prediction(exchange: str, symbol: str, settings: Settings) -> str | None:
    """Enqueue ``workers.ml.predict`` when the symbol has a champion model on any timeframe
    (a directory check: nothing heavy is imported otherwise). Returns the job id or None."""
    from app.mlops.predict import champions
    from app.mlops.service import registry

    if not champions(registry(settings), symbol, settings.timeframes):
        return None
    return enqueue("ml", "workers.ml.predict", exchange, symbol).id


def enqueue_alerts(exchange: str, symbol: str, settings: Settings) -> str | None:
    """Enqueue ``workers.alerts.evaluate`` (it returns at once when the symbol has no live rule)."""
    return enqueue("alerts", "workers.alerts.evaluate", exchange, symbol).id


def evaluate_alerts(exchange: str, symbol: str, settings: Settings) -> str | None:
    """Evaluate the symbol's alert rules now, in the analysis job, right after its snapshot is stored.

    Queuing a separate job cost a queue wait and a job start on the latency budget from bar to
    alert (bench/alerts.py); the evaluation itself is one query for the rules and one pass. Should
    it fail, it is enqueued on the alerts queue instead (where the queue's ``Retry`` applies), so an
    alert problem never fails the analysis. Returns a summary, or the fallback job's id.
    """
    from workers.alert_evaluation import evaluate_now

    try:
        out = evaluate_now(exchange, symbol)
    except Exception:  # noqa: BLE001 - logged, and the evaluation is retried as a job of its own
        log.exception("alert evaluation of %s %s failed inside the analysis job; enqueued instead", exchange, symbol)
        return enqueue_alerts(exchange, symbol, settings)
    return f"evaluated: {out['rules']} rules, {out['events']} events, {out['deliveries']} deliveries"


def after_prediction(exchange: str, symbol: str, settings: Settings) -> str | None:
    """Stored predictions feed the LSTM p(up) rules: evaluate the symbol's alerts again."""
    return enqueue_alerts(exchange, symbol, settings)


def enqueue_paper(exchange: str, symbol: str, settings: Settings) -> str | None:
    """Enqueue ``workers.paper.step`` when the symbol has an active paper strategy or an open manual
    paper order (indexed queries)."""
    from app.extensions import db
    from app.portfolio.store import active_strategies, has_open_orders

    if not active_strategies(db.session, exchange, symbol) and not has_open_orders(db.session, exchange, symbol):
        return None
    return enqueue("backtests", "workers.paper.step", exchange, symbol).id


# The stages that follow an analysis run, in order: (name, enqueue(exchange, symbol, settings) -> job id | None).
AFTER_ANALYSIS: tuple[tuple[str, Callable[[str, str, Settings], str | None]], ...] = (
    ("alerts", evaluate_alerts),
    ("ml_job", enqueue_prediction),
    ("paper_job", enqueue_paper),
)


def after_analysis(exchange: str, symbol: str, settings: Settings) -> dict[str, str | None]:
    """Enqueue every stage that follows analysis; returns ``{stage: job id or None}``."""
    return {name: stage(exchange, symbol, settings) for name, stage in AFTER_ANALYSIS}
