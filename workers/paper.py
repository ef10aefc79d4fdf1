"""Paper-trading jobs: step every active paper strategy of a symbol over its new closed bars, then fill
its open manual paper orders.

``step(exchange, symbol)`` runs on the ``backtests`` queue (its workers already load the engine)
after each analysis run (``workers.pipeline.AFTER_ANALYSIS``). It does nothing while the admin's
emergency stop is set (checked before every strategy), skips strategies whose kill switch is off
(``stopped``), and commits each strategy's new fills on their own, so a worker killed in the middle
leaves every strategy either stepped or not; the next run catches up from ``processed_through``
and the unique fill key keeps a replay from doubling anything.
"""
from __future__ import annotations

import logging

from flask import current_app

import app.hot as hot
from app.extensions import db
from app.mlops.service import registry
from app.models import PaperOrder
from app.portfolio import store, stepper
from workers.context import with_app_context

log = logging.getLogger(__name__)


@with_app_context
def step(exchange: str, symbol: str) -> dict:
    settings = current_app.config["CW_SETTINGS"]
    state = hot.system_state(settings)
    stop = state.stopped()
    if stop is not None:
        log.info("emergency stop in force (by %s): paper strategies of %s %s not stepped", stop["by"], exchange, symbol)
        return {"halted": True, "steps": []}
    series_for = stepper.strategy_series(registry(settings))
    steps = []
    for row in store.active_strategies(db.session, exchange, symbol):
        if state.is_stopped():
            return {"halted": True, "steps": steps}
        try:
            steps.append(stepper.step(db.session, row, series_for=series_for))
            db.session.commit()
            if steps[-1]["new_fills"]:
                hot.stream_publisher(settings).portfolio(row.user_id, {"kind": "paper_fills", **steps[-1]})
        except Exception:
            db.session.rollback()
            log.exception("paper strategy %s failed to step", row.id)
            raise
    filled = stepper.fill_orders(db.session, exchange, symbol)     # the manual paper orders of the symbol
    db.session.commit()
    publish = hot.stream_publisher(settings)
    for order in filled:  # the rows are in the session already: no query
        publish.portfolio(db.session.get(PaperOrder, order["order_id"]).user_id,
                          {"kind": "paper_order", "exchange": exchange, "symbol": symbol, **order})
    return {"halted": False, "steps": steps, "orders": filled}
