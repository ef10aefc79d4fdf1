"""Alert jobs: thin shells over app.alerts (load, evaluate, store, enqueue deliveries; claim, send, record).

``evaluate(exchange, symbol)`` runs after every analysis (``workers.pipeline.AFTER_ANALYSIS``) and
after predictions: all live rules of the symbol in one pass over its closed bars since the last
evaluation (``store.cursors``: bars that closed together are each evaluated, in order); new events are
committed (unique per rule, symbol and bar, so a retry or a second worker records nothing twice)
and one ``deliver(delivery_id)`` job per (event, outside channel) is enqueued - unless the admin's
emergency stop is in force, which pauses delivery: the rows stay ``pending`` and ``sweep`` enqueues
them once it is lifted.

``deliver(delivery_id)`` follows the claim protocol of ``app.alerts.delivery``: claim (commit),
send, record (commit); a retryable failure raises so the alerts queue's ``Retry`` (2 s, 10 s, 30 s,
2 min, 10 min) runs it again. In embedded mode (no Redis: no RQ ``Retry``, and the in-process runner
retries at once) the job re-enqueues itself after the same intervals from a timer instead.

``sweep()`` (every minute from ``rq cron``): re-evaluates every symbol with live rules (data that
arrived without an analysis, a lost job: the evaluation catches up on every bar since its cursor),
flags (logs, and returns) the watched series whose newest bar is older than expected
(``app.alerts.staleness``; the Alerts page shows the same flag per rule) and re-enqueues pending
deliveries.
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta, timezone

from flask import current_app
from rq import get_current_job

import app.hot as hot
from app.alerts import delivery as protocol
from app.alerts import store
from app.alerts.channels import Message, dispatch
from app.alerts.staleness import stale_series
from app.extensions import db
from app.settings import Settings
from workers.alert_evaluation import enqueue_deliveries, evaluate_now
from workers.context import with_app_context
from workers.queues import POLICIES, enqueue, runner

log = logging.getLogger(__name__)
# a delivery waiting for its backoff retry is left to it this long (the longest interval, 10 min, plus
# the job's timeout and some slack) before the sweep treats the retry as lost
RETRY_GRACE_S = max(POLICIES["alerts"].retry_intervals) + POLICIES["alerts"].job_timeout + 240


class DeliveryRetry(RuntimeError):
    """A retryable channel failure: raised so RQ's Retry runs the delivery job again."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


@with_app_context
def evaluate(exchange: str, symbol: str) -> dict:
    """The alerts job: ``workers.alert_evaluation.evaluate_now`` inside the worker's app context."""
    return evaluate_now(exchange, symbol)


def _message(claim: protocol.Claim) -> Message:
    e = claim.event
    bar = e["bar_time"].isoformat() if hasattr(e["bar_time"], "isoformat") else str(e["bar_time"])
    event = {"id": e["id"], "rule_id": e["rule_id"], "exchange": e["exchange"], "symbol": e["symbol"],
             "timeframe": e["timeframe"], "bar_time": bar, "value": e["value"]}
    return Message(f"Candlewise alert: {e['symbol']} {e['timeframe']}", e["message"], event,
                   f"{e['id']}:{claim.channel}")


def _retry_later(delivery_id: int, attempt: int) -> float:
    """Embedded mode (no Redis, so no RQ ``Retry``): enqueue ``deliver`` again after the alerts queue's
    backoff interval for ``attempt``, from a timer thread, so the one job thread is not held while
    waiting. Should the process stop first, the row stays ``pending`` and the sweep sends it."""
    intervals = POLICIES["alerts"].retry_intervals
    delay = float(intervals[min(attempt, len(intervals)) - 1])
    server = current_app._get_current_object()

    def again() -> None:
        with server.app_context():
            enqueue("alerts", "workers.alerts.deliver", delivery_id, attempt=attempt)

    timer = threading.Timer(delay, again)
    timer.daemon, timer.name = True, f"cw-alert-retry-{delivery_id}-{attempt}"
    timer.start()
    return delay


@with_app_context
def deliver(delivery_id: int, attempt: int = 0) -> dict:
    """Claim, send, record (``app.alerts.delivery``). ``attempt``: the embedded mode's retry count
    (under RQ the job's own ``retries_left`` says whether a retry is left)."""
    settings: Settings = current_app.config["CW_SETTINGS"]
    if hot.system_state(settings).is_stopped():
        return {"delivery": delivery_id, "state": "paused"}  # stays pending; the sweep enqueues it later
    job = get_current_job()
    embedded = job is None and runner().mode == "inprocess"
    claimer = job.id if job is not None else f"direct-{uuid.uuid4().hex}"
    try:
        claim = protocol.claim(db.session, delivery_id, claimer, _now())
        db.session.commit()
        if claim.state != "claimed":
            return {"delivery": delivery_id, "state": claim.state}
        prefs = protocol.settings_row(db.session, claim.user_id)
        db.session.commit()  # end the read transaction before the network call
        started = _now()
        outcome = dispatch(claim.channel, _message(claim), prefs, settings)
        if job is not None:
            final = not getattr(job, "retries_left", 0)
        else:
            final = not embedded or attempt >= POLICIES["alerts"].retries
        state = protocol.record(db.session, delivery_id, outcome, started, _now(), final)
        db.session.commit()
    finally:
        db.session.remove()
    if state == "pending" and embedded:
        return {"delivery": delivery_id, "state": state, "code": outcome.code,
                "retry_in_s": _retry_later(delivery_id, attempt + 1)}
    if state == "pending":
        raise DeliveryRetry(f"delivery {delivery_id} via {claim.channel}: {outcome.error}")
    return {"delivery": delivery_id, "state": state, "code": outcome.code}


@with_app_context
def sweep() -> dict:
    """Every minute: re-evaluate the symbols with live rules (catching up on bars that arrived without
    an analysis), flag the series those rules watch whose data went stale, re-enqueue pending deliveries."""
    from app.market import store as market_store
    from app.market import watchlist

    settings: Settings = current_app.config["CW_SETTINGS"]
    now = _now()
    try:
        watched = set(watchlist.symbols(db.session, settings))
        pairs = sorted({(ex, sym) for ex, sym, _tf in market_store.series_keys(db.session) if sym in watched})
        due = store.symbols_with_live_rules(db.session, now, pairs)
        stale = stale_series(store.last_bars(db.session, store.watched_series(db.session, now, pairs)), now)
        pending = store.pending_deliveries(db.session, older_than=now - timedelta(minutes=1),
                                           retried_before=now - timedelta(seconds=RETRY_GRACE_S))
        db.session.commit()
    finally:
        db.session.remove()
    for (ex, sym, tf), last in stale.items():
        log.warning("alert rules on %s %s %s see stale data: newest bar %s", ex, sym, tf,
                    last.isoformat() if last else "none stored")
    flagged = [f"{ex}:{sym}:{tf}" for ex, sym, tf in stale]
    if hot.system_state(settings).is_stopped():
        return {"evaluations": 0, "deliveries": 0, "stopped": True, "stale": flagged}
    for ex, sym in due:
        enqueue("alerts", "workers.alerts.evaluate", ex, sym)
    return {"evaluations": len(due), "deliveries": len(enqueue_deliveries(pending, settings)), "stale": flagged}
