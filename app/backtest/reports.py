"""Data exports of a ``BacktestResult``: trades CSV, JSON and an XLSX workbook.

Every export is bytes/str built in memory (no files, no network). In the CSV
and JSON times are ISO 8601 UTC strings; the XLSX workbook keeps numbers and
times as typed cells with Excel number formats (UTC wall-clock times). Non-finite metrics (an infinite profit
factor, an undefined ratio) are written as empty cells / ``null``. The HTML
tear sheet, which draws charts, is rendered in ``app.figures.tearsheet``.
"""
from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd

from app.backtest.drawdowns import worst_drawdowns
from app.backtest.engine import BacktestResult
from app.jsonsafe import json_safe
from app.backtest.metrics import METRIC_LABELS, METRIC_UNITS, monthly_returns, summary


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


# Excel number formats by metric unit (``METRIC_UNITS``); money otherwise
XLSX_FORMATS = {"fraction": "0.00%", "percent": '0.00"%"', "days": '0.00" days"', "count": "#,##0",
                "ratio": "0.00", "money": "#,##0.00"}
XLSX_TIME = "yyyy-mm-dd hh:mm"
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_TRADE_FORMATS = {"qty": "#,##0.########", "entry_time": XLSX_TIME, "entry_price": "#,##0.00######",
                  "exit_time": XLSX_TIME, "exit_price": "#,##0.00######", "pnl": "#,##0.00",
                  "return_pct": '0.00"%"', "fees": "#,##0.00", "slippage": "#,##0.00", "funding": "#,##0.00",
                  "bars_held": "#,##0"}


def _utc_naive(values: pd.Series) -> pd.Series:
    """Excel has no time zones: UTC wall-clock times (the header says UTC)."""
    return pd.to_datetime(values, utc=True).dt.tz_convert("UTC").dt.tz_localize(None)


def _format_sheet(ws, widths: dict[int, int], freeze: str) -> None:
    from openpyxl.styles import Font

    ws.freeze_panes = freeze
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for col, width in widths.items():
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = width


def to_xlsx(result: BacktestResult, benchmark: BacktestResult | None = None) -> bytes:
    """Workbook with sheets ``metrics``, ``trades``, ``monthly_returns``, ``drawdowns`` (the five worst), ``config``.

    Numbers stay numbers with Excel number formats (percent for fractions, dates
    for times in UTC, thousands separators for money); every sheet's header row
    is bold and frozen (and the first column where it names the row)."""
    table = summary(result, benchmark).map(clean)
    metrics = table.reset_index()
    metrics["label"] = [METRIC_LABELS[k] for k in metrics["metric"]]
    metrics["unit"] = [METRIC_UNITS.get(k, "money") for k in metrics["metric"]]
    trades = result.trades.copy()
    for col in ("symbol", "side", "exit_reason"):
        trades[col] = trades[col].astype(str)
    trades["entry_time"] = _utc_naive(trades["entry_time"])
    trades["exit_time"] = _utc_naive(trades["exit_time"])
    monthly = monthly_returns(result.equity, result.initial_cash)
    monthly.columns = [*MONTH_NAMES, "total"]
    monthly = monthly.reset_index()
    worst = worst_drawdowns(result.equity, 5)
    for col in ("start", "trough", "recovery"):
        worst[col] = _utc_naive(worst[col])
    config = config_rows(result)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        metrics.to_excel(xl, sheet_name="metrics", index=False)
        trades.to_excel(xl, sheet_name="trades", index=False)
        monthly.to_excel(xl, sheet_name="monthly_returns", index=False)
        worst.to_excel(xl, sheet_name="drawdowns", index=False)
        config.to_excel(xl, sheet_name="config", index=False)

        ws = xl.sheets["metrics"]
        value_cols = range(2, 2 + len(table.columns))
        for row, unit in enumerate(metrics["unit"], start=2):
            for col in value_cols:
                ws.cell(row=row, column=col).number_format = XLSX_FORMATS[unit]
        _format_sheet(ws, {1: 28, **{c: 16 for c in value_cols}, value_cols[-1] + 1: 34, value_cols[-1] + 2: 10},
                      "B2")
        ws = xl.sheets["trades"]
        for col, name in enumerate(trades.columns, start=1):
            if name in _TRADE_FORMATS:
                for row in range(2, len(trades) + 2):
                    ws.cell(row=row, column=col).number_format = _TRADE_FORMATS[name]
        _format_sheet(ws, {c: 18 for c in range(1, len(trades.columns) + 1)}, "A2")
        ws = xl.sheets["monthly_returns"]
        for row in range(2, len(monthly) + 2):
            for col in range(2, 15):
                ws.cell(row=row, column=col).number_format = "0.00%"
        _format_sheet(ws, {c: 9 for c in range(1, 15)}, "B2")
        ws = xl.sheets["drawdowns"]
        formats = {"start": XLSX_TIME, "trough": XLSX_TIME, "recovery": XLSX_TIME, "depth": "0.00%",
                   "length_days": XLSX_FORMATS["days"]}
        for col, name in enumerate(worst.columns, start=1):
            for row in range(2, len(worst) + 2):
                if name in formats:
                    ws.cell(row=row, column=col).number_format = formats[name]
        _format_sheet(ws, {c: 18 for c in range(1, len(worst.columns) + 1)}, "A2")
        _format_sheet(xl.sheets["config"], {1: 32, 2: 60}, "A2")
    return buf.getvalue()
