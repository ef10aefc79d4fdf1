"""app.figures.portfolio: the page's figures and table rows from the domain's numbers."""
import pandas as pd

from app.figures import TEMPLATE
from app.figures import portfolio as figures


def test_equity_figure_has_equity_deposits_benchmark_and_drawdown():
    days = pd.date_range("2026-01-01", periods=3, freq="D", tz="UTC")
    eq = pd.DataFrame({"equity": [100.0, 110.0, 99.0], "net_deposits": [100.0] * 3,
                       "drawdown": [0.0, 0.0, 99 / 110 - 1]}, index=days)
    fig = figures.equity_figure(eq, pd.Series([100.0, 105.0, 90.0], index=days))
    assert [t.name for t in fig.data] == ["equity", "net deposits", "BTC buy-and-hold", "drawdown %"]
    assert fig.data[3].y[-1] == (99 / 110 - 1) * 100
    assert fig.layout.template.layout.paper_bgcolor == "rgba(0,0,0,0)"
    assert TEMPLATE == "candlewise"
    empty = figures.equity_figure(eq.iloc[:0])
    assert not empty.data and "add a transaction" in empty.layout.annotations[0].text


def test_allocation_skips_non_positive_values():
    fig = figures.allocation_figure([{"asset": "BTC/USDT", "value": 60.0}, {"asset": "cash", "value": -5.0}])
    assert list(fig.data[0].labels) == ["BTC/USDT"]


def test_rows_are_formatted_for_the_tables():
    rows = figures.holding_rows([{"asset": "BTC/USDT", "quantity": 0.5, "avg_cost": 1000.0, "price": None,
                                  "market_value": 500.0, "unrealised": None, "unrealised_pct": None,
                                  "realised": 12.345}])
    assert rows[0]["price"] == "—" and rows[0]["unrealised_pct"] == "—" and rows[0]["realised"] == "12.35"
    recon = figures.reconciliation_rows({"rows": [{
        "trade_no": 0, "leg": "entry", "status": "missing", "fields": [], "reason": "why", "paper": None,
        "backtest": {"time": "2026-01-01T05:00:00+00:00", "price": 101.5}}]})
    assert recon[0]["backtest_time"] == "2026-01-01 05:00" and recon[0]["paper_price"] == ""
    assert recon[0]["backtest_price"] == "101.5" and recon[0]["reason"] == "why"


def test_paper_rows_link_to_the_market_chart_with_their_trades():
    rows = figures.paper_table_rows([{"id": 7, "symbol": "BTC/USDT", "timeframe": "1m", "cash": 10_000.0,
                                      "equity": None, "pnl": None, "through": "2026-01-01T00:05:00+00:00"}])
    assert rows[0]["chart"] == "[trades on the chart](/?paper=7)"
    assert rows[0]["through"] == "2026-01-01 00:05"
