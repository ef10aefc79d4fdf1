"""One alert evaluation of a symbol, in the app context of whichever job runs it.

The analysis job calls :func:`evaluate_now` itself right after storing its snapshot
(``workers.pipeline.evaluate_alerts``: no second job to queue and start); ``workers.alerts.evaluate``
is the same pass as a job of its own (after predictions, from the sweep, and the fallback when
the in-line pass failed). Kept apart from ``workers.alerts`` so the pipeline can call it without
importing the worker's server factory.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app

import app.hot as hot
from app.alerts import store
from app.alerts.evaluate import evaluate_symbol
from app.alerts.inputs import load_bars
from app.alerts.kinds import KINDS
from app.extensions import db
from app.marketdata import validate_symbol
from app.settings import Settings
from workers.queues import enqueue


def _now() -> datetime:
    return datetime.now(timezone.utc)


def enqueue_deliveries(delivery_ids: list[int], settings: Settings) -> list[str]:
    """One ``deliver`` job per delivery, unless the emergency stop pauses delivery (then none)."""
    if not delivery_ids or hot.system_state(settings).is_stopped():
        return []
    return [enqueue("alerts", "workers.alerts.deliver", did).id for did in delivery_ids]


def evaluate_now(exchange: str, symbol: str) -> dict:
    """Every live rule of (exchange, symbol) on its bars since the last evaluation, in one pass; new
    events committed, their deliveries enqueued at once. Runs in the caller's app context."""
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
                                  store.user_prefs(db.session, [r.user_id for r in rules]),
                                  since=store.cursors(db.session, exchange, symbol))
        created = store.record_firings(db.session, exchange, firings, now)
        store.advance_cursors(db.session, exchange, symbol,
                              {tf: b.times[-1].to_pydatetime() for tf, b in bars.items() if len(b)}, now)
        db.session.commit()
    finally:
        db.session.remove()
    hot.stream_publisher(settings).alert_events(exchange, created)
    ids = [did for c in created for did in c["deliveries"].values()]
    jobs = enqueue_deliveries(ids, settings)
    return {"symbol": symbol, "rules": len(rules), "events": len(created), "deliveries": len(ids),
            "delivery_jobs": len(jobs)}
