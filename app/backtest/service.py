"""Backtests against the database: create runs, execute one, store it, read it back, build its reports.

The web side calls :func:`submit` (validate with
:func:`app.backtest.requests.parse_request`, insert ``queued`` rows, enqueue one
``workers.backtests.run`` job per row — through one ``workers.backtests.batch``
fan-out job when there are several). The job calls :func:`execute`, which
loads the stored candles, builds the strategy (the signal-score strategy gets
``app.analysis.scoring.score_series`` computed at run time, no look-ahead),
runs the engine (or a walk-forward, whose stitched out-of-sample result is the
headline) and the buy-and-hold benchmark, and stores metrics, trades and
curves. :func:`rebuild` turns a stored run back into ``BacktestResult``
objects, so every report is built from exactly what was stored.

Every read takes the ``user_id`` and returns only that user's runs
(:class:`RunNotFound` otherwise, which the download routes turn into 404).
"""
from __future__ import annotations

import io
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.backtest.config import BacktestConfig
from app.backtest.engine import TRADE_COLUMNS, BacktestResult
from app.backtest.metrics import compute_metrics
from app.backtest.reports import tear_sheet_html, to_dict, to_xlsx, trades_csv
from app.backtest.requests import RunSpec, parse_request
from app.backtest.runner import buy_and_hold, run_strategy
from app.backtest.strategies import STRATEGIES
from app.backtest.walkforward import walk_forward
from app.market import query, store
from app.models.backtest import Backtest, BacktestTrade

Progress = Callable[[float, str], None]
REPORTS = {  # download name -> (mimetype, file suffix)
    "trades.csv": ("text/csv", "trades.csv"),
    "result.json": ("application/json", "result.json"),
    "report.xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "report.xlsx"),
    "tearsheet.html": ("text/html", "tearsheet.html"),
}
HEADLINE = ("total_return", "annual_return", "sharpe", "sortino", "max_drawdown", "win_rate", "profit_factor",
            "n_trades", "exposure", "final_equity")


class RunNotFound(LookupError):
    """No such run for this user (or it has no result yet)."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _clean(value):
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def clean_metrics(metrics: dict) -> dict:
    """JSON-safe metrics: non-finite ratios become ``None``."""
    return {k: _clean(v) for k, v in metrics.items()}


# --- submit ------------------------------------------------------------------------------


def count_bars(exchange: str, symbol: str, timeframe: str, start: datetime, end: datetime, session: Session) -> int:
    conn = session.connection()
    sid = store.find_series(conn, exchange, symbol, timeframe)
    return 0 if sid is None else len(store.candle_times(conn, sid, start, end))


def validate(session: Session, form: dict) -> list[RunSpec]:
    """Parse a request against the stored catalog; raises ``InvalidRequest`` with every message."""
    cat = query.catalog()
    return parse_request(form, cat, lambda *a: count_bars(*a, session=session), has_model=_has_model)


def _has_model(symbol: str, timeframe: str) -> bool:
    from app.mlops.service import registry

    return registry().champion(symbol, timeframe) is not None


@dataclass(frozen=True)
class Submitted:
    ids: list[int]
    batch_id: str | None
    job_id: str  # the run job (one run) or the batch fan-out job


def create_rows(session: Session, user_id: int, specs: list[RunSpec]) -> tuple[list[Backtest], str | None]:
    batch_id = uuid.uuid4().hex if len(specs) > 1 else None
    rows = [Backtest(user_id=user_id, batch_id=batch_id, kind=spec.kind, status="queued", progress=0.0,
                     phase="queued", exchange=spec.exchange, symbol=spec.symbol, timeframe=spec.timeframe,
                     strategy=spec.strategy, params=spec.params, config=spec.to_json(), start_at=spec.start,
                     end_at=spec.end) for spec in specs]
    session.add_all(rows)
    session.flush()
    for row in rows:
        row.job_id = run_job_id(row.id)
    return rows, batch_id


def run_job_id(backtest_id: int) -> str:
    return f"backtest-{backtest_id}"


def submit(session: Session, user_id: int, form: dict) -> Submitted:
    """Validate, insert the rows, commit, enqueue. Nothing is written or enqueued on bad input."""
    from workers.queues import enqueue

    specs = validate(session, form)
    session.commit()  # end the read transaction: the inserts below start a write one (SQLite)
    rows, batch_id = create_rows(session, user_id, specs)
    session.commit()
    ids = [r.id for r in rows]
    if batch_id is None:
        job = enqueue("backtests", "workers.backtests.run", ids[0], job_id=run_job_id(ids[0]),
                      meta={"backtest_id": ids[0], "progress": 0.0, "phase": "queued"})
    else:
        job = enqueue("backtests", "workers.backtests.batch", batch_id, job_id=f"backtest-batch-{batch_id}",
                      meta={"batch_id": batch_id, "progress": 0.0, "phase": "queued"})
    return Submitted(ids, batch_id, job.id)


def batch_rows(session: Session, batch_id: str) -> list[Backtest]:
    return list(session.scalars(select(Backtest).where(Backtest.batch_id == batch_id).order_by(Backtest.id)))


# --- execute -----------------------------------------------------------------------------


def _update(session: Session, backtest_id: int, **values) -> None:
    """Write the row in a transaction that starts with the write.

    SQLite (embedded mode, several job threads) refuses to upgrade a read
    transaction whose snapshot another writer has since changed, so any read
    transaction is closed first; the UPDATE then waits for the write lock.
    """
    session.commit()
    session.execute(update(Backtest).where(Backtest.id == backtest_id).values(**values))
    session.commit()


def _set_phase(session: Session, backtest_id: int, progress: Progress, pct: float, phase: str) -> None:
    _update(session, backtest_id, progress=pct, phase=phase)
    progress(pct, phase)


def load_candles(session: Session, row: Backtest) -> pd.DataFrame:
    conn = session.connection()
    sid = store.find_series(conn, row.exchange, row.symbol, row.timeframe)
    if sid is None:
        raise ValueError(f"no stored {row.timeframe} candles for {row.symbol} on {row.exchange}")
    candles = store.load_candles(conn, sid, row.start_at, row.end_at)
    candles.attrs["symbol"] = row.symbol  # names the trades' symbol column
    return candles


def _series_for(strategy: str, candles: pd.DataFrame, timeframe: str) -> pd.Series | None:
    if strategy == "score_threshold":
        from app.analysis.scoring import score_series

        return score_series(candles, timeframe)["score"]
    if strategy == "lstm":     # the champion's predictions after its training span only
        from app.mlops.service import registry
        from ml.inference import out_of_sample

        _, trained = registry().load(candles.attrs["symbol"], timeframe)
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
        details = {"windows": [{k: _clean(v) for k, v in r.items()} for r in windows.to_dict("records")]}
        bench_candles = candles.loc[result.start:result.end]
    else:
        from app.backtest.strategies import get_strategy

        result = run_strategy(candles, get_strategy(row.strategy, series, **row.params), config)
        details, bench_candles = {}, candles
    return result, buy_and_hold(bench_candles, config), details


def encode_curves(result: BacktestResult, bench: BacktestResult) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, time=result.equity.index.as_unit("ns").asi8, equity=result.equity.to_numpy(),
                        position=result.positions.iloc[:, 0].to_numpy(np.int8),
                        bench_time=bench.equity.index.as_unit("ns").asi8, bench_equity=bench.equity.to_numpy(),
                        bench_position=bench.positions.iloc[:, 0].to_numpy(np.int8))
    return buf.getvalue()


def decode_curves(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(blob)) as z:
        return {k: z[k] for k in z.files}


def _trade_rows(backtest_id: int, trades: pd.DataFrame) -> list[dict]:
    rows = []
    for seq, t in enumerate(trades.itertuples(index=False)):
        rows.append({"backtest_id": backtest_id, "seq": seq, "symbol": str(t.symbol), "side": str(t.side),
                     "qty": float(t.qty), "entry_time": t.entry_time.to_pydatetime(),
                     "entry_price": float(t.entry_price), "exit_time": t.exit_time.to_pydatetime(),
                     "exit_price": float(t.exit_price), "pnl": float(t.pnl), "return_pct": float(t.return_pct),
                     "fees": float(t.fees), "slippage": float(t.slippage), "funding": float(t.funding),
                     "exit_reason": str(t.exit_reason), "bars_held": int(t.bars_held)})
    return rows


def execute(session: Session, backtest_id: int, progress: Progress = lambda pct, phase: None) -> dict:
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
        _set_phase(session, backtest_id, progress, 5, "loading candles")
        row = session.get(Backtest, backtest_id)
        candles = load_candles(session, row)
        if candles.empty:
            raise ValueError(f"no {row.timeframe} candles for {row.symbol} between {row.start_at} and {row.end_at}")
        if row.strategy == "score_threshold":
            _set_phase(session, backtest_id, progress, 15, "scoring bars")
        row = session.get(Backtest, backtest_id)
        series = _series_for(row.strategy, candles, row.timeframe)
        _set_phase(session, backtest_id, progress, 30, "walk-forward" if row.kind == "walk_forward" else "simulating")
        row = session.get(Backtest, backtest_id)
        result, bench, details = _run(row, candles, series)
        _set_phase(session, backtest_id, progress, 80, "storing results")
        details.update({"result_config": result.config, "bench_config": bench.config, "strategy": result.strategy,
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


def headline(row: Backtest) -> dict:
    m = row.metrics or {}
    return {"id": row.id, "status": row.status, "symbol": row.symbol, "strategy": row.strategy,
            "kind": row.kind, **{k: m.get(k) for k in HEADLINE}}


# --- read --------------------------------------------------------------------------------


def get_run(session: Session, user_id: int, backtest_id: int) -> Backtest:
    row = session.get(Backtest, int(backtest_id))
    if row is None or row.user_id != user_id:
        raise RunNotFound(f"no backtest {backtest_id}")
    return row


def list_runs(session: Session, user_id: int, limit: int = 100) -> list[Backtest]:
    stmt = (select(Backtest).where(Backtest.user_id == user_id)
            .order_by(Backtest.created_at.desc(), Backtest.id.desc()).limit(limit))
    return list(session.scalars(stmt))


def load_trades(session: Session, backtest_id: int) -> pd.DataFrame:
    t = BacktestTrade.__table__
    rows = session.execute(select(*(t.c[c] for c in TRADE_COLUMNS)).where(t.c.backtest_id == backtest_id)
                           .order_by(t.c.seq)).all()
    return _trades_frame([tuple(r) for r in rows])


def _trades_frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=TRADE_COLUMNS)
    for col in ("entry_time", "exit_time"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ("qty", "entry_price", "exit_price", "pnl", "return_pct", "fees", "slippage", "funding"):
        frame[col] = frame[col].astype(np.float64)
    frame["bars_held"] = frame["bars_held"].astype(np.int64)
    return frame


def _result(row: Backtest, times, equity, position, trades, config: dict, strategy: dict, n_bars: int
            ) -> BacktestResult:
    index = pd.DatetimeIndex(pd.to_datetime(times, utc=True), name="time")
    return BacktestResult(equity=pd.Series(equity, index=index, name="equity"),
                          positions=pd.DataFrame({row.symbol: position}, index=index), trades_data=trades,
                          config=config, symbols=(row.symbol,), timeframe=row.timeframe,
                          bar_seconds=float(row.details["bar_seconds"]), start=index[0], end=index[-1],
                          n_bars=n_bars, data_hash=row.data_hash, strategy=strategy)


def rebuild(session: Session, row: Backtest) -> tuple[BacktestResult, BacktestResult]:
    """The stored run and its buy-and-hold benchmark as ``BacktestResult`` objects."""
    if row.status != "finished" or row.curves is None:
        raise RunNotFound(f"backtest {row.id} has no result ({row.status})")
    c = decode_curves(row.curves)
    d = row.details
    result = _result(row, c["time"], c["equity"], c["position"], load_trades(session, row.id), d["result_config"],
                     d["strategy"], row.n_bars)
    bench = _result(row, c["bench_time"], c["bench_equity"], c["bench_position"],
                    trades_from_records(d["bench_trades"]), d["bench_config"], {"name": "buy_and_hold", "params": {}}, d["bench_n_bars"])
    return result, bench


def trades_to_records(trades: pd.DataFrame) -> list[dict]:
    out = []
    for r in _trade_rows(0, trades):
        r.pop("backtest_id"), r.pop("seq")
        out.append({k: v.isoformat() if isinstance(v, datetime) else v for k, v in r.items()})
    return out


def trades_from_records(records: list[dict]) -> pd.DataFrame:
    return _trades_frame([tuple(r[c] for c in TRADE_COLUMNS) for r in records])


def report(session: Session, user_id: int, backtest_id: int, name: str) -> tuple[bytes, str, str]:
    """(body, mimetype, filename) of one download of the user's own finished run."""
    if name not in REPORTS:
        raise RunNotFound(f"no report {name!r}")
    row = get_run(session, user_id, backtest_id)
    result, bench = rebuild(session, row)
    mimetype, suffix = REPORTS[name]
    filename = f"backtest-{row.id}-{row.strategy}-{row.symbol.replace('/', '')}-{row.timeframe}-{suffix}"
    if name == "trades.csv":
        body = trades_csv(result)
    elif name == "result.json":
        doc = to_dict(result, bench)
        doc["run"] = {"id": row.id, "kind": row.kind, "batch_id": row.batch_id, "request": row.config,
                      "walk_forward_windows": (row.details or {}).get("windows")}
        body = json.dumps(doc, allow_nan=False).encode("utf-8")
    elif name == "report.xlsx":
        body = to_xlsx(result, bench)
    else:
        body = tear_sheet_html(result, bench).encode("utf-8")
    return body, mimetype, filename


@dataclass(frozen=True)
class RunView:
    """What the page shows for one finished run."""

    row: Backtest
    result: BacktestResult
    benchmark: BacktestResult
    candles: pd.DataFrame  # the last ``candle_limit`` bars of the traded span


def run_view(session: Session, user_id: int, backtest_id: int, candle_limit: int = 2000) -> RunView:
    row = get_run(session, user_id, backtest_id)
    result, bench = rebuild(session, row)
    conn = session.connection()
    sid = store.find_series(conn, row.exchange, row.symbol, row.timeframe)
    end = result.end + pd.Timedelta(seconds=result.bar_seconds)
    candles = store.load_candles(conn, sid, result.start, end, limit=candle_limit)
    return RunView(row, result, bench, candles)
