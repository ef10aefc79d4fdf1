"""Predict with the champion models (and their challengers, in shadow) and store the predictions.

``predict_symbol`` runs in the ``ml.predict`` job after each analysis: for
every timeframe of the symbol with a champion it predicts p(up) at the latest
closed bar from the latest candles only and upserts a ``predictions`` row —
one for the champion and one for the challenger (the newest version that is
not the champion, ``role="challenger"``: stored for the live A/B, never shown
as the signal). A prediction the out-of-distribution rule withholds is stored
with ``p_up`` empty and the reason; the spread across the fold models too.
Loaded models are kept per process (keyed by registry path and version), so a
worker loads a champion once, not every minute. ``latest_predictions`` is what
the Signals page reads: stored rows plus the registry's out-of-sample metrics,
without importing TensorFlow.
"""
from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.mlops.live import live_accuracy
from app.mlops.service import load_series
from app.models import Prediction
from ml.edge import has_edge
from ml.features import WARMUP
from ml.registry import Registry

_LOADED: dict[tuple, object] = {}
_LOCK = threading.Lock()
TAIL_BARS = 200          # extra history for the features' trailing windows


def _model(reg: Registry, symbol: str, timeframe: str, version: int):
    key = (str(reg.root), symbol, timeframe, version)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = reg.load(symbol, timeframe, version)[1]
        return _LOADED[key]


def champions(models: Registry, symbol: str, timeframes) -> dict:
    """{timeframe: ModelVersion} for the timeframes of ``symbol`` that have a champion."""
    found = {tf: models.champion(symbol, tf) for tf in timeframes}
    return {tf: v for tf, v in found.items() if v is not None}


def predict_symbol(session: Session, models: Registry, exchange: str, symbol: str, timeframes) -> list[dict]:
    from ml.inference import assess

    out = []
    for timeframe, champion in champions(models, symbol, timeframes).items():
        pairs = [("champion", champion, _model(models, symbol, timeframe, champion.version))]
        contender = models.challenger(symbol, timeframe, champion)
        if contender is not None:
            try:
                pairs.append(("challenger", contender, _model(models, symbol, timeframe, contender.version)))
            except ValueError:
                pass                                   # an unloadable challenger never stops the champion
        candles = load_series(session, exchange, symbol, timeframe,          # once for both versions
                              limit=max(t.config.lookback for *_, t in pairs) + WARMUP + TAIL_BARS)
        for role, version, trained in pairs:
            try:
                pred = assess(trained, candles, version.version)
            except ValueError:
                continue                               # too little history for this timeframe yet
            key = dict(exchange=exchange, symbol=symbol, timeframe=timeframe, bar_time=pred.time.to_pydatetime(),
                       model_version=version.version)
            values = dict(p_up=pred.p_up, p_raw=pred.p_raw, spread=pred.spread, withheld=pred.reason, role=role)
            row = session.execute(select(Prediction).filter_by(**key)).scalar_one_or_none()
            if row is None:
                session.add(Prediction(**key, **values))
            elif row.outcome is None:                  # a scored row is final
                for name, value in values.items():
                    setattr(row, name, value)
            out.append({"timeframe": timeframe, "bar_time": pred.time.isoformat(), "p_up": pred.p_up,
                        "version": version.version, "role": role, "spread": pred.spread, "withheld": pred.reason})
    session.commit()
    return out


def latest_predictions(session: Session, models: Registry, symbol: str, timeframes) -> list[dict]:
    """Per timeframe with a champion: its newest stored prediction and out-of-sample record."""
    rows = []
    for timeframe, champion in champions(models, symbol, timeframes).items():
        pred = session.execute(
            select(Prediction).filter_by(symbol=symbol, timeframe=timeframe, model_version=champion.version)
            .order_by(Prediction.bar_time.desc()).limit(1)).scalar_one_or_none()
        live = live_accuracy(session, symbol, timeframe, champion.version)
        s = champion.summary or {}
        lstm, base, pers = (s.get(k, {}) for k in ("lstm", "base_rate", "persistence"))
        beats = has_edge(s)
        rows.append({"timeframe": timeframe, "version": champion.version,
                     "bar_time": pred.bar_time if pred else None, "p_up": pred.p_up if pred else None,
                     "oos_n": lstm.get("n"), "oos_accuracy": lstm.get("accuracy"),
                     "base_rate_accuracy": base.get("accuracy"), "persistence_accuracy": pers.get("accuracy"),
                     "beats_baselines": beats, "spread": pred.spread if pred else None,
                     "withheld": pred.withheld if pred else None, **live})
    return rows
