"""Stored backtest results: the rows a user owns, their trades and curves, rebuilt as ``BacktestResult``.

Every read takes the ``user_id`` and returns only that user's runs (:class:`RunNotFound`
otherwise, which the download routes turn into 404). :func:`rebuild` turns a stored run back
into ``BacktestResult`` objects, so every report is built from exactly what was stored.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.backtest.engine import TRADE_COLUMNS, BacktestResult
from app.jsonsafe import json_safe
from app.market import store
from app.models.backtest import Backtest, BacktestTrade

HEADLINE = ("total_return", "annual_return", "sharpe", "sortino", "max_drawdown", "win_rate", "profit_factor",
            "n_trades", "exposure", "final_equity")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def clean_metrics(metrics: dict) -> dict:
    """JSON-safe metrics: non-finite ratios become ``None``."""
    return json_safe(metrics)


class RunNotFound(LookupError):
    """No such run for this user (or it has no result yet)."""


def batch_rows(session: Session, batch_id: str) -> list[Backtest]:
    return list(session.scalars(select(Backtest).where(Backtest.batch_id == batch_id).order_by(Backtest.id)))


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


def headline(row: Backtest) -> dict:
    m = row.metrics or {}
    return {"id": row.id, "status": row.status, "symbol": row.symbol, "strategy": row.strategy,
            "kind": row.kind, **{k: m.get(k) for k in HEADLINE}}


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


def _result(row: Backtest, times, equity, position, trades, config: dict, strategy: dict, n_bars: int,
            assumptions: dict | None = None, ruin: dict | None = None) -> BacktestResult:
    index = pd.DatetimeIndex(pd.to_datetime(times, utc=True), name="time")
    return BacktestResult(equity=pd.Series(equity, index=index, name="equity"),
                          positions=pd.DataFrame({row.symbol: position}, index=index), trades_data=trades,
                          config=config, symbols=(row.symbol,), timeframe=row.timeframe,
                          bar_seconds=float(row.details["bar_seconds"]), start=index[0], end=index[-1],
                          n_bars=n_bars, data_hash=row.data_hash, strategy=strategy, assumptions=assumptions or {},
                          ruin=ruin)


def rebuild(session: Session, row: Backtest) -> tuple[BacktestResult, BacktestResult]:
    """The stored run and its buy-and-hold benchmark as ``BacktestResult`` objects."""
    if row.status != "finished" or row.curves is None:
        raise RunNotFound(f"backtest {row.id} has no result ({row.status})")
    c = decode_curves(row.curves)
    d = row.details
    result = _result(row, c["time"], c["equity"], c["position"], load_trades(session, row.id), d["result_config"],
                     d["strategy"], row.n_bars, d.get("assumptions"), d.get("ruin"))
    bench = _result(row, c["bench_time"], c["bench_equity"], c["bench_position"],
                    trades_from_records(d["bench_trades"]), d["bench_config"], {"name": "buy_and_hold", "params": {}},
                    d["bench_n_bars"], d.get("bench_assumptions"), d.get("bench_ruin"))
    return result, bench


def trades_to_records(trades: pd.DataFrame) -> list[dict]:
    out = []
    for r in _trade_rows(0, trades):
        r.pop("backtest_id"), r.pop("seq")
        out.append({k: v.isoformat() if isinstance(v, datetime) else v for k, v in r.items()})
    return out


def trades_from_records(records: list[dict]) -> pd.DataFrame:
    return _trades_frame([tuple(r[c] for c in TRADE_COLUMNS) for r in records])


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
