"""Alert jobs: thin shells over app.alerts (load, evaluate, store, enqueue deliveries; claim, send, record).

``evaluate(exchange, symbol)`` runs after every analysis (``workers.pipeline.AFTER_ANALYSIS``) and
after predictions: all live rules of the symbol in one pass over its closed bars; new events are
committed (unique per rule, symbol and bar, so a retry or a second worker records nothing twice)
and one ``deliver(delivery_id)`` job per (event, outside channel) is enqueued - unless the admin's
emergency stop is in force, which pauses delivery: the rows stay ``pending`` and ``sweep`` enqueues
them once it is lifted.

``deliver(delivery_id)`` follows the claim protocol of ``app.alerts.delivery``: claim (commit),
send, record (commit); a retryable failure raises so the alerts queue's ``Retry`` (2 s, 10 s, 30 s,
2 min, 10 min) runs it again.

``sweep()`` (every minute from ``rq cron``): re-evaluates every symbol with live rules (data that
arrived without an analysis, a lost job) and re-enqueues pending deliveries.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone

from flask import current_app
from rq import get_current_job

import app.hot as hot
from app.alerts import delivery as protocol
from app.alerts import store
from app.alerts.channels import Message, dispatch
from app.alerts.evaluate import evaluate_symbol
from app.alerts.inputs import load_bars
from app.alerts.kinds import KINDS
from app.extensions import db
from app.marketdata import validate_symbol
from app.settings import Settings
from workers.context import with_app_context
from workers.queues import enqueue

log = logging.getLogger(__name__)


class DeliveryRetry(RuntimeError):
    """A retryable channel failure: raised so RQ's Retry runs the delivery job again."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def enqueue_deliveries(delivery_ids: list[int], settings: Settings) -> list[str]:
    """One ``deliver`` job per delivery, unless the emergency stop pauses delivery (then none)."""
    if not delivery_ids or hot.system_state(settings).is_stopped():
        return []
    return [enqueue("alerts", "workers.alerts.deliver", did).id for did in delivery_ids]


@with_app_context
def evaluate(exchange: str, symbol: str) -> dict:
    settings: Settings = current_app.config["CW_SETTINGS"]
    exchange, symbol = exchange.strip().lower(), validate_symbol(symbol)
    now = _now()
    try:
        rules = store.active_rules(db.session, exchange, symbol, now)
        if not rules:
            return {"symbol": symbol, "rules": 0, "events": 0, "deliveries": 0}
        needs = {KINDS[r.kind].needs for r in rules} | {"candles"}
        bars = load_bars(db.session, exchange, symbol, {r.timeframe for r in rules}, now, needs)
        firings = evaluate_symbol(symbol, rules, bars, store.last_fired(db.session, rules, symbol),
                                  store.user_prefs(db.session, [r.user_id for r in rules]))
        created = store.record_firings(db.session, exchange, firings, now)
        db.session.commit()
    finally:
        db.session.remove()
    ids = [did for c in created for did in c["deliveries"].values()]
    jobs = enqueue_deliveries(ids, settings)
    return {"symbol": symbol, "rules": len(rules), "events": len(created), "deliveries": len(ids),
            "delivery_jobs": len(jobs)}


def _message(claim: protocol.Claim) -> Message:
    e = claim.event
    bar = e["bar_time"].isoformat() if hasattr(e["bar_time"], "isoformat") else str(e["bar_time"])
    event = {"id": e["id"], "rule_id": e["rule_id"], "exchange": e["exchange"], "symbol": e["symbol"],
             "timeframe": e["timeframe"], "bar_time": bar, "value": e["value"]}
    return Message(f"Candlewise alert: {e['symbol']} {e['timeframe']}", e["message"], event,
                   f"{e['id']}:{claim.channel}")


@with_app_context
def deliver(delivery_id: int) -> dict:
    settings: Settings = current_app.config["CW_SETTINGS"]
    if hot.system_state(settings).is_stopped():
        return {"delivery": delivery_id, "state": "paused"}  # stays pending; the sweep enqueues it later
    job = get_current_job()
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
        final = job is None or not getattr(job, "retries_left", 0)
        state = protocol.record(db.session, delivery_id, outcome, started, _now(), final)
        db.session.commit()
    finally:
        db.session.remove()
    if state == "pending":
        raise DeliveryRetry(f"delivery {delivery_id} via {claim.channel}: {outcome.error}")
    return {"delivery": delivery_id, "state": state, "code": outcome.code}


@with_app_context
def sweep() -> dict:
    from app.market import store as market_store

    settings: Settings = current_app.config["CW_SETTINGS"]
    now = _now()
    try:
        pairs = sorted({(ex, sym) for ex, sym, _tf in market_store.series_keys(db.session)
                        if sym in settings.watchlist})
        due = store.symbols_with_live_rules(db.session, now, pairs)
        pending = store.pending_deliveries(db.session, older_than=now - timedelta(minutes=1))
        db.session.commit()
    finally:
        db.session.remove()
    if hot.system_state(settings).is_stopped():
        return {"evaluations": 0, "deliveries": 0, "stopped": True}
    for ex, sym in due:
        enqueue("alerts", "workers.alerts.evaluate", ex, sym)
    return {"evaluations": len(due), "deliveries": len(enqueue_deliveries(pending, settings))}
