"""Data exports of a ``BacktestResult``: trades CSV, JSON and an XLSX workbook.

Every export is bytes/str built in memory (no files, no network). Times are
written as ISO 8601 UTC strings. Non-finite metrics (an infinite profit
factor, an undefined ratio) are written as empty cells / ``null``. The HTML
tear sheet, which draws charts, is rendered in ``app.figures.tearsheet``.
"""
from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd

from app.backtest.engine import BacktestResult
from app.jsonsafe import json_safe
from app.backtest.metrics import monthly_returns, summary


def _iso(values: pd.Series | pd.Index) -> list[str]:
    return [t.isoformat() for t in pd.DatetimeIndex(values).tz_convert("UTC")]


clean = json_safe  # the name the report code and the tear sheet use


def _trades_table(result: BacktestResult) -> pd.DataFrame:
    t = result.trades.copy()
    for col in ("symbol", "side", "exit_reason"):
        t[col] = t[col].astype(str)
    t["entry_time"] = _iso(t["entry_time"])
    t["exit_time"] = _iso(t["exit_time"])
    return t


def data_info(result: BacktestResult) -> dict:
    return {"symbols": list(result.symbols), "timeframe": result.timeframe, "start": result.start.isoformat(),
            "end": result.end.isoformat(), "n_bars": result.n_bars, "data_hash": result.data_hash}


def trades_csv(result: BacktestResult) -> bytes:
    """All trades as UTF-8 CSV with a header row."""
    return _trades_table(result).to_csv(index=False).encode("utf-8")


def to_dict(result: BacktestResult, benchmark: BacktestResult | None = None) -> dict:
    """The full result as plain JSON-ready data."""
    table = summary(result, benchmark)
    monthly = monthly_returns(result.equity, result.initial_cash)
    return {
        "strategy": result.strategy,
        "config": result.config,
        "data": data_info(result),
        "metrics": {col: {k: clean(v) for k, v in table[col].items()} for col in table.columns},
        "monthly_returns": {str(y): {m: clean(v) for m, v in row.items()} for y, row in monthly.iterrows()},
        "trades": [{k: clean(v) for k, v in row.items()} for row in _trades_table(result).to_dict("records")],
        "equity": {"time": _iso(result.equity.index), "value": [float(v) for v in result.equity.to_numpy()]},
    }


def to_json(result: BacktestResult, benchmark: BacktestResult | None = None) -> str:
    return json.dumps(to_dict(result, benchmark), allow_nan=False)


def config_items(result: BacktestResult) -> list[tuple[str, object]]:
    """The full configuration, flattened: ``costs.taker_fee``, ``data.n_bars``, ... with their raw values."""
    flat = {}
    for k, v in result.config.items():
        if isinstance(v, dict):
            flat.update({f"costs.{ck}" if k == "costs" else f"{k}.{ck}": cv for ck, cv in v.items()})
        else:
            flat[k] = v
    flat.update({f"data.{k}": v for k, v in data_info(result).items() if k != "symbols"})
    flat["data.symbols"] = ", ".join(result.symbols)
    flat["strategy"] = json.dumps(result.strategy)
    return list(flat.items())


def config_rows(result: BacktestResult) -> pd.DataFrame:
    items = config_items(result)
    return pd.DataFrame({"key": [k for k, _ in items], "value": [("" if v is None else str(v)) for _, v in items]})


def to_xlsx(result: BacktestResult, benchmark: BacktestResult | None = None) -> bytes:
    """Workbook with sheets ``metrics``, ``trades``, ``monthly_returns``, ``config``."""
    table = summary(result, benchmark).map(clean)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        table.reset_index().to_excel(xl, sheet_name="metrics", index=False)
        _trades_table(result).to_excel(xl, sheet_name="trades", index=False)
        monthly_returns(result.equity, result.initial_cash).reset_index().to_excel(
            xl, sheet_name="monthly_returns", index=False)
        config_rows(result).to_excel(xl, sheet_name="config", index=False)
    return buf.getvalue()
