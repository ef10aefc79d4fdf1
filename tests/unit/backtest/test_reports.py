"""Exports parse back to the same numbers."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from app.backtest import reports
from app.backtest.config import BacktestConfig
from app.backtest.drawdowns import worst_drawdowns
from app.backtest.metrics import compute_metrics
from app.backtest.runner import buy_and_hold, run_strategy
from app.backtest.strategies import get_strategy


@pytest.fixture
def pair(candles):
    config = BacktestConfig(stop_loss=0.03)
    return run_strategy(candles, get_strategy("ma_cross", fast=5, slow=20), config), buy_and_hold(candles, config)


def test_trades_csv_round_trip(pair):
    result, _ = pair
    back = pd.read_csv(io.BytesIO(reports.trades_csv(result)))
    assert len(back) == len(result.trades) > 5
    np.testing.assert_allclose(back.pnl.to_numpy(), result.trades.pnl.to_numpy())
    np.testing.assert_allclose(back.entry_price.to_numpy(), result.trades.entry_price.to_numpy())
    assert list(back.exit_reason) == list(result.trades.exit_reason.astype(str))
    assert (pd.to_datetime(back.entry_time, utc=True) == result.trades.entry_time).all()


def test_json_round_trip(pair):
    result, bench = pair
    doc = json.loads(reports.to_json(result, bench))
    m = compute_metrics(result)
    assert doc["metrics"]["strategy"]["sharpe"] == pytest.approx(m["sharpe"])
    assert doc["metrics"]["buy_and_hold"]["total_return"] == pytest.approx(compute_metrics(bench)["total_return"])
    assert doc["data"]["data_hash"] == result.data_hash and doc["data"]["n_bars"] == result.n_bars
    assert doc["config"]["costs"]["taker_fee"] == result.config["costs"]["taker_fee"]
    assert doc["strategy"]["params"]["fast"] == 5
    assert len(doc["trades"]) == len(result.trades)
    assert doc["trades"][0]["pnl"] == pytest.approx(result.trades.pnl.iloc[0])
    assert doc["equity"]["value"][-1] == pytest.approx(result.final_equity)


def test_xlsx_has_the_five_sheets_with_the_same_numbers(pair):
    result, bench = pair
    wb = load_workbook(io.BytesIO(reports.to_xlsx(result, bench)))
    assert wb.sheetnames == ["metrics", "trades", "monthly_returns", "drawdowns", "config"]
    rows = {r[0]: r[1:] for r in wb["metrics"].iter_rows(min_row=2, values_only=True)}
    m = compute_metrics(result)
    assert rows["final_equity"][0] == pytest.approx(m["final_equity"])
    assert rows["max_drawdown"][0] == pytest.approx(m["max_drawdown"])
    assert rows["total_return"][1] == pytest.approx(compute_metrics(bench)["total_return"])
    trades = list(wb["trades"].iter_rows(values_only=True))
    header = trades[0]
    assert len(trades) - 1 == len(result.trades)
    assert trades[1][header.index("pnl")] == pytest.approx(result.trades.pnl.iloc[0])
    config = {k: v for k, v in wb["config"].iter_rows(min_row=2, values_only=True)}
    assert float(config["costs.taker_fee"]) == result.config["costs"]["taker_fee"]
    assert config["data.data_hash"] == result.data_hash
    monthly = list(wb["monthly_returns"].iter_rows(values_only=True))
    assert monthly[0][0] == "year" and monthly[0][-1] == "total"


def test_xlsx_number_formats_and_frozen_headers(pair):
    result, bench = pair
    wb = load_workbook(io.BytesIO(reports.to_xlsx(result, bench)))
    assert {ws.title: ws.freeze_panes for ws in wb} == {"metrics": "B2", "trades": "A2", "monthly_returns": "B2",
                                                        "drawdowns": "A2", "config": "A2"}
    assert all(ws.cell(row=1, column=1).font.bold for ws in wb)
    metrics = {row[0].value: row for row in wb["metrics"].iter_rows(min_row=2)}
    assert metrics["total_return"][1].number_format == "0.00%" == metrics["max_drawdown"][2].number_format
    assert metrics["exposure"][1].number_format == "0.00%"
    assert metrics["sharpe"][1].number_format == "0.00" and metrics["n_trades"][1].number_format == "#,##0"
    assert metrics["final_equity"][1].number_format == "#,##0.00"
    assert metrics["best_trade_pct"][1].number_format == '0.00"%"'   # already in percent
    assert metrics["avg_holding_days"][1].number_format == '0.00" days"'
    assert metrics["sharpe"][3].value == "Sharpe ratio" and metrics["sharpe"][4].value == "ratio"

    trades = wb["trades"]
    header = [c.value for c in trades[1]]
    entry = trades.cell(row=2, column=header.index("entry_time") + 1)
    assert entry.is_date and entry.number_format == "yyyy-mm-dd hh:mm"
    assert entry.value == result.trades.entry_time.iloc[0].tz_convert("UTC").tz_localize(None).to_pydatetime()
    assert trades.cell(row=2, column=header.index("return_pct") + 1).number_format == '0.00"%"'
    assert trades.cell(row=2, column=header.index("pnl") + 1).number_format == "#,##0.00"

    monthly = wb["monthly_returns"]
    assert [c.value for c in monthly[1]] == ["year", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
                                             "Oct", "Nov", "Dec", "total"]
    jan = monthly.cell(row=2, column=2)
    assert jan.number_format == "0.00%" and jan.value == pytest.approx(result.final_equity / 10_000 - 1)

    worst = worst_drawdowns(result.equity, 5)
    dd = list(wb["drawdowns"].iter_rows())
    assert [c.value for c in dd[0]] == ["start", "trough", "recovery", "depth", "length_days", "recovered"]
    assert len(dd) - 1 == len(worst) == 5
    assert dd[1][0].is_date and dd[1][0].number_format == "yyyy-mm-dd hh:mm"
    assert dd[1][0].value == worst["start"].iloc[0].tz_localize(None).to_pydatetime()
    assert dd[1][3].number_format == "0.00%" and dd[1][3].value == pytest.approx(compute_metrics(result)["max_drawdown"])
    assert dd[1][4].number_format == '0.00" days"'


def test_csv_stays_plain(pair):
    result, _ = pair
    text = reports.trades_csv(result).decode()
    assert text.splitlines()[0].split(",") == list(result.trades.columns)
    assert "%" not in text and result.trades.entry_time.iloc[0].isoformat() in text
