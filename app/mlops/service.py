"""Train, evaluate and register LSTM models from stored candles.

``train_and_register`` is what the ``ml.train`` job and ``flask ml train`` run:
walk-forward evaluation first (out-of-sample metrics against the naive
baselines), then a final model on all the candles, saved as a new version; it
becomes the champion only if ``ml.registry.should_promote`` says so.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from app.market import store
from ml.config import TrainConfig
from ml.edge import edge_label
from ml.registry import ModelVersion, Registry, should_promote

Progress = Callable[[float, str], None]
MIN_CANDLES = 500


def registry(settings) -> Registry:
    """The model registry at ``settings.model_dir`` (shared by the web process and every worker)."""
    return Registry(settings.model_dir)


def load_series(session: Session, exchange: str, symbol: str, timeframe: str, limit: int | None = None
                ) -> pd.DataFrame:
    conn = session.connection()
    sid = store.find_series(conn, exchange, symbol, timeframe)
    if sid is None:
        raise ValueError(f"no stored {timeframe} candles for {symbol} on {exchange}")
    candles = store.load_candles(conn, sid, limit=limit)     # the latest ``limit`` bars
    candles.attrs["symbol"] = symbol
    return candles


@dataclass(frozen=True)
class TrainOutcome:
    version: ModelVersion
    promoted: bool
    reason: str

    def to_dict(self) -> dict:
        return {"symbol": self.version.symbol, "timeframe": self.version.timeframe, "version": self.version.version,
                "promoted": self.promoted, "reason": self.reason, "summary": self.version.summary}


def train_and_register(session: Session, models: Registry, exchange: str, symbol: str, timeframe: str, *,
                       config: dict | None = None, folds: int = 3, max_candles: int | None = 20_000,
                       progress: Progress | None = None) -> TrainOutcome:
    from app.backtest.engine import prepare
    from ml.evaluate import walk_forward
    from ml.training import train

    cfg = TrainConfig.from_dict(config)
    report = progress or (lambda pct, phase: None)
    report(1, "loading candles")
    candles = load_series(session, exchange, symbol, timeframe, limit=max_candles)
    if len(candles) < MIN_CANDLES:
        raise ValueError(f"need at least {MIN_CANDLES} {timeframe} candles of {symbol} to train, "
                         f"got {len(candles)}")
    data_hash = prepare(candles, symbol=symbol).data_hash
    evaluation = walk_forward(candles, cfg, folds=folds,
                              progress=lambda pct, phase: report(5 + 0.75 * pct, f"walk-forward {phase}"))
    final = train(candles, cfg, progress=lambda pct, phase: report(80 + 0.18 * pct, f"final model {phase}"))
    reg = models
    champion = reg.champion(symbol, timeframe)
    version = reg.save(symbol, timeframe, final, walk_forward=evaluation.to_dict(), data_hash=data_hash)
    promote, reason = should_promote(evaluation.summary, champion.summary if champion else None)
    if promote:
        reg.promote(symbol, timeframe, version.version)
    report(100, "promoted" if promote else "stored, not promoted")
    return TrainOutcome(version, promote, reason)


def model_rows(models: Registry, symbols: tuple[str, ...], timeframes: tuple[str, ...]) -> list[dict]:
    """One row per stored version: out-of-sample metrics next to the baselines."""
    reg = models
    rows = []
    for symbol in symbols:
        for timeframe in timeframes:
            champion = reg.champion(symbol, timeframe)
            for v in reversed(reg.versions(symbol, timeframe)):
                s = v.summary or {}
                lstm, base, pers = (s.get(k, {}) for k in ("lstm", "base_rate", "persistence"))
                rows.append({
                    "symbol": symbol, "timeframe": timeframe, "version": v.version,
                    "champion": bool(champion and champion.version == v.version),
                    "trained_until": v.meta.get("trained_until", "")[:16].replace("T", " "),
                    "oos_n": lstm.get("n"), "oos_accuracy": lstm.get("accuracy"),
                    "base_rate_accuracy": base.get("accuracy"), "persistence_accuracy": pers.get("accuracy"),
                    "oos_log_loss": lstm.get("log_loss"), "base_rate_log_loss": base.get("log_loss"),
                    "persistence_log_loss": pers.get("log_loss"),
                    "edge": edge_label(s),
                })
    return rows
