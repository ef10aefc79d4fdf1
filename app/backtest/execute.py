"""Executing one stored backtest request: load candles, run, store the result (a job calls this).

:func:`execute` loads the stored candles, builds the strategy (the signal-score strategy gets
``app.analysis.scoring.score_series`` computed at run time, no look-ahead), runs the engine (or a
walk-forward, whose stitched out-of-sample result is the headline) and the buy-and-hold benchmark,
and stores metrics, trades and curves. It reports progress through the ``progress(percent,
phase)`` callback it is given (the job layer writes that to the row and ``job.meta`` together).
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from app.backtest.config import BacktestConfig
from app.backtest.metrics import compute_metrics
from app.backtest.results import (_trade_rows, clean_metrics, encode_curves, headline, trades_to_records,
                                  utcnow)
from app.backtest.runner import buy_and_hold, run_strategy
from app.backtest.strategies import STRATEGIES
from app.backtest.walkforward import walk_forward
from app.market import store
from app.jsonsafe import json_safe
from app.models.backtest import Backtest, BacktestTrade
from ml.registry import Registry

Progress = Callable[[float, str], None]


def _update(session: Session, backtest_id: int, **values) -> None:
    """Write the row in a transaction that starts with the write.

    SQLite (embedded mode, several job threads) refuses to upgrade a read
    transaction whose snapshot another writer has since changed, so any read
    transaction is closed first; the UPDATE then waits for the write lock.
    """
    session.commit()
    session.execute(update(Backtest).where(Backtest.id == backtest_id).values(**values))
    session.commit()


def _end_read(session: Session) -> None:
    """End the read transaction before computing: no connection sits ``idle in transaction`` while the
    engine runs. What was read stays loaded (not expired), so the computation needs no second query."""
    real = session() if callable(session) and not isinstance(session, Session) else session  # a scoped_session
    keep, real.expire_on_commit = real.expire_on_commit, False
    try:
        real.commit()
    finally:
        real.expire_on_commit = keep


def load_candles(session: Session, row: Backtest) -> pd.DataFrame:
    conn = session.connection()
    sid = store.find_series(conn, row.exchange, row.symbol, row.timeframe)
    if sid is None:
        raise ValueError(f"no stored {row.timeframe} candles for {row.symbol} on {row.exchange}")
    candles = store.load_candles(conn, sid, row.start_at, row.end_at)
    candles.attrs["symbol"] = row.symbol  # names the trades' symbol column
    return candles


def _series_for(strategy: str, candles: pd.DataFrame, timeframe: str, models: Registry | None
                ) -> pd.Series | None:
    if strategy == "score_threshold":
        from app.analysis.scoring import score_series

        return score_series(candles, timeframe)["score"]
    if strategy == "lstm":     # the champion's predictions after its training span only
        from ml.inference import out_of_sample

        if models is None:
            raise ValueError("the lstm strategy needs the model registry")
        _, trained = models.load(candles.attrs["symbol"], timeframe)
        return out_of_sample(trained, candles)
    return None


def _run(row: Backtest, candles: pd.DataFrame, series: pd.Series | None):
    spec = row.config
    config = BacktestConfig.from_dict(spec["backtest"])
    wf = spec.get("walk_forward")
    cls = STRATEGIES[row.strategy]
    if wf:
        out = walk_forward(candles, cls, wf["grid"], config, train_bars=wf["train_bars"],
                           test_bars=wf["test_bars"], metric=wf["metric"], series=series)
        result = out.oos
        windows = out.windows.copy()
        for col in ("train_start", "train_end", "test_start", "test_end"):
            windows[col] = [t.isoformat() for t in windows[col]]
        details = {"windows": json_safe(windows.to_dict("records"))}
        bench_candles = candles.loc[result.start:result.end]
    else:
        from app.backtest.strategies import get_strategy

        result = run_strategy(candles, get_strategy(row.strategy, series, **row.params), config)
        details, bench_candles = {}, candles
    return result, buy_and_hold(bench_candles, config), details


def execute(session: Session, backtest_id: int, progress: Progress = lambda pct, phase: None,
            models: Registry | None = None) -> dict:
    """Run a stored request and store its result. Idempotent: a finished run is returned as is.

    On failure the row is marked ``failed`` with the message, and the error is re-raised (the job fails too).
    """
    row = session.get(Backtest, backtest_id)
    if row is None:
        raise ValueError(f"backtest {backtest_id} does not exist")
    if row.status == "finished":
        return headline(row)
    _update(session, backtest_id, status="running", started_at=utcnow(), error=None)
    try:
        progress(5, "loading candles")
        row = session.get(Backtest, backtest_id)
        candles = load_candles(session, row)
        _end_read(session)
        if candles.empty:
            raise ValueError(f"no {row.timeframe} candles for {row.symbol} between {row.start_at} and {row.end_at}")
        if row.strategy == "score_threshold":
            progress(15, "scoring bars")
        row = session.get(Backtest, backtest_id)
        _end_read(session)
        series = _series_for(row.strategy, candles, row.timeframe, models)
        progress(30, "walk-forward" if row.kind == "walk_forward" else "simulating")
        row = session.get(Backtest, backtest_id)
        _end_read(session)
        result, bench, details = _run(row, candles, series)
        progress(80, "storing results")
        details.update({"result_config": result.config, "bench_config": bench.config, "strategy": result.strategy,
                        "assumptions": json_safe(result.assumptions), "ruin": json_safe(result.ruin),
                        "bench_assumptions": json_safe(bench.assumptions), "bench_ruin": json_safe(bench.ruin),
                        "bar_seconds": result.bar_seconds, "bench_n_bars": bench.n_bars,
                        "bench_trades": trades_to_records(bench.trades)})
        trades = _trade_rows(backtest_id, result.trades)
        session.commit()
        session.execute(update(Backtest).where(Backtest.id == backtest_id).values(
            metrics=clean_metrics(compute_metrics(result)), benchmark_metrics=clean_metrics(compute_metrics(bench)),
            details=details, data_start=result.start.to_pydatetime(), data_end=result.end.to_pydatetime(),
            n_bars=result.n_bars, data_hash=result.data_hash, curves=encode_curves(result, bench),
            status="finished", progress=100.0, phase="done", finished_at=utcnow()))
        session.execute(delete(BacktestTrade).where(BacktestTrade.backtest_id == backtest_id))
        if trades:
            session.execute(insert(BacktestTrade), trades)
        session.commit()
    except Exception as exc:
        session.rollback()
        _update(session, backtest_id, status="failed", phase="failed", finished_at=utcnow(),
                error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    progress(100, "done")
    session.expire_all()
    return headline(session.get(Backtest, backtest_id))
