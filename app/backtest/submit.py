"""Submitting backtests: validate a request against what is stored and the user's quota, then insert one
``queued`` row per run (phase ``waiting``: :mod:`app.backtest.fairness` decides when it goes on the queue).

Nothing here enqueues: ``workers.backtests.submit`` calls :func:`create_runs`, then dispatches the
user's share of ``run`` jobs (``workers.backtests.dispatch``).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from app.backtest import fairness
from app.backtest.requests import RunSpec, parse_request
from app.market import query, store
from app.models.backtest import Backtest
from ml.registry import Registry


def count_bars(exchange: str, symbol: str, timeframe: str, start: datetime, end: datetime, session: Session) -> int:
    """Stored bars of the series in ``[start, end)``, counted by the database."""
    conn = session.connection()
    sid = store.find_series(conn, exchange, symbol, timeframe)
    return 0 if sid is None else store.count_candles(conn, sid, start, end)


def validate(session: Session, form: dict, models: Registry | None = None,
             choice: query.SeriesChoice | None = None) -> list[RunSpec]:
    """Parse a request against the stored catalog; raises ``InvalidRequest`` with every message.

    ``models`` is the LSTM registry (the ``lstm`` strategy needs a champion); None: no models.
    ``choice`` picks the exchange per symbol, as the pages do (``query.choice_from(settings)``)."""
    cat = query.catalog(session, choice=choice)
    has_model = (lambda symbol, tf: models.champion(symbol, tf) is not None) if models else (lambda *_: False)
    return parse_request(form, cat, lambda *a: count_bars(*a, session=session), has_model=has_model)


def create_rows(session: Session, user_id: int, specs: list[RunSpec]) -> tuple[list[Backtest], str | None]:
    batch_id = uuid.uuid4().hex if len(specs) > 1 else None
    rows = [Backtest(user_id=user_id, batch_id=batch_id, kind=spec.kind, status="queued", progress=0.0,
                     phase=fairness.WAITING, exchange=spec.exchange, symbol=spec.symbol, timeframe=spec.timeframe,
                     strategy=spec.strategy, params=spec.params, config=spec.to_json(), start_at=spec.start,
                     end_at=spec.end) for spec in specs]
    session.add_all(rows)
    session.flush()
    for row in rows:
        row.job_id = run_job_id(row.id)
    return rows, batch_id


def run_job_id(backtest_id: int) -> str:
    return f"backtest-{backtest_id}"


def create_runs(session: Session, user_id: int, form: dict, models: Registry | None = None,
                max_open: int | None = None, choice: query.SeriesChoice | None = None,
                admit: Callable[[list], None] | None = None) -> tuple[list[Backtest], str | None]:
    """Validate, check the quota, insert the rows and commit; returns them with the batch id (None for one run).

    Nothing is written on bad input (``InvalidRequest``) or when the runs would take the user over
    ``max_open`` queued and running runs (``fairness.QuotaExceeded``, also an ``InvalidRequest``;
    None: no limit). ``admit(specs)``, called once the request is valid and within the quota, may refuse
    it by raising (the per-user rate limit); nothing is written then either.
    """
    specs = validate(session, form, models, choice)
    session.commit()  # end the read transaction: the inserts below start a write one (SQLite)
    if max_open is not None:
        fairness.lock_user(session, user_id)
        try:
            fairness.check_quota(session, user_id, len(specs), max_open)
        except fairness.QuotaExceeded:
            session.rollback()
            raise
    if admit is not None:
        try:
            admit(specs)
        except Exception:
            session.rollback()
            raise
    rows, batch_id = create_rows(session, user_id, specs)
    session.commit()
    return rows, batch_id
