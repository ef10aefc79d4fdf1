"""Live A/B of the stored predictions: score them when their bar closes, report per model version.

* ``score_pending(session, exchange, symbol, timeframes, now)``: every stored
  prediction without an outcome whose next bar has closed (``bar_time + 2 *
  timeframe <= now``) gets ``outcome`` (``ml.live.outcomes`` on the stored
  candles up to the newest closed bar) and ``scored_at``. Idempotent; returns
  how many rows it scored. Only rows from the last ``SCORE_LOOKBACK_BARS``
  bars are looked at, so one job's work stays bounded.
* ``live_frames(session, symbol, timeframe, versions)``: per version the
  stored rows as an ``ml.live`` frame (``y``, ``p_up`` by bar time).
* ``live_report(session, models, symbol, timeframe, window)``: the champion
  and the challenger (``Registry.challenger``), each version's live
  metrics over its last ``window`` scored bars (accuracy, log loss, ECE, the
  reliability curve, the live base rate), and ``ml.live.review``: the
  Diebold–Mariano comparison on the same bars and whether the champion is
  flagged. ``window`` is the ``ML_LIVE_WINDOW`` setting.
* ``live_accuracy(session, symbol, timeframe, version)``: the small numbers the
  Signals card shows next to p(up).

Reads and writes the ``predictions`` table only; no TensorFlow.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.market import store
from app.marketdata import timeframe_delta
from app.models import Prediction
from ml.live import MIN_SAMPLES, TEST, live_metrics, outcomes, review, rolling
from ml.registry import Registry

SCORE_LOOKBACK_BARS = 1000      # rows older than this many bars that never got an outcome are left alone


def score_pending(session: Session, exchange: str, symbol: str, timeframes, now: datetime) -> int:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    done = 0
    for timeframe in timeframes:
        step = timeframe_delta(timeframe)
        due = session.execute(select(Prediction).filter_by(exchange=exchange, symbol=symbol, timeframe=timeframe)
                              .where(Prediction.outcome.is_(None), Prediction.bar_time <= now - 2 * step,
                                     Prediction.bar_time > now - SCORE_LOOKBACK_BARS * step)
                              .order_by(Prediction.bar_time)).scalars().all()
        if not due:
            continue
        conn = session.connection()
        sid = store.find_series(conn, exchange, symbol, timeframe)
        if sid is None:
            continue
        last_closed = pd.Timestamp(now - step)          # open time of the newest bar that can have closed
        candles = store.load_candles(conn, sid, start=due[0].bar_time)
        got = outcomes(candles["close"], [pd.Timestamp(r.bar_time) for r in due], last_closed)
        for row, y in zip(due, got):
            if np.isfinite(y):
                row.outcome, row.scored_at = float(y), now
                done += 1
    session.commit()
    return done


def live_frames(session: Session, symbol: str, timeframe: str, versions, exchange: str | None = None
                ) -> dict[int, pd.DataFrame]:
    out = {}
    for version in versions:
        q = select(Prediction.bar_time, Prediction.outcome, Prediction.p_up).filter_by(
            symbol=symbol, timeframe=timeframe, model_version=version)
        if exchange is not None:
            q = q.filter_by(exchange=exchange)
        rows = session.execute(q.order_by(Prediction.bar_time)).all()
        index = pd.DatetimeIndex([pd.Timestamp(r[0]) for r in rows], name="bar_time")
        out[version] = pd.DataFrame({"y": [r[1] for r in rows], "p_up": [r[2] for r in rows]}, index=index,
                                    dtype="float64")
    return out


def live_report(session: Session, models: Registry, symbol: str, timeframe: str, window: int,
                exchange: str | None = None, min_samples: int = MIN_SAMPLES) -> dict | None:
    champion = models.champion(symbol, timeframe)
    if champion is None:
        return None
    contender = models.challenger(symbol, timeframe, champion)
    versions = [champion.version] + ([contender.version] if contender else [])
    frames = live_frames(session, symbol, timeframe, versions, exchange)
    per_version = {}
    for v, frame in frames.items():
        last = rolling(frame, window)
        per_version[v] = {"role": "champion" if v == champion.version else "challenger",
                          "stored": int(len(frame)), "withheld": int(frame["p_up"].isna().sum()),
                          "metrics": live_metrics(last["y"], last["p_up"], last["base"])}
    verdict = review(frames[champion.version], frames.get(contender.version) if contender else None, window,
                     min_samples)
    return {"symbol": symbol, "timeframe": timeframe, "window": window, "test": TEST,
            "champion": champion.version, "challenger": contender.version if contender else None,
            "versions": per_version, "review": verdict}


def live_accuracy(session: Session, symbol: str, timeframe: str, version: int) -> dict:
    """``{"live_n", "live_accuracy"}`` of a version's scored predictions (all of them)."""
    p = Prediction
    hit = ((p.p_up > 0.5) & (p.outcome == 1.0)) | ((p.p_up <= 0.5) & (p.outcome == 0.0))
    n, right = session.execute(
        select(func.count(), func.sum(case((hit, 1), else_=0)))
        .where(p.symbol == symbol, p.timeframe == timeframe, p.model_version == version,
               p.outcome.is_not(None), p.p_up.is_not(None))).one()
    return {"live_n": int(n or 0), "live_accuracy": (float(right) / n) if n else None}
