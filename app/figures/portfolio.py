"""Figures and table rows for the Portfolio page (pure: the domain's numbers in, figures out)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures import DOWN, TEMPLATE, UP, thin

_LAYOUT = dict(template=TEMPLATE, margin=dict(l=50, r=20, t=40, b=30),
               legend=dict(orientation="h", y=1.02, x=0, yanchor="bottom"))


def money(value) -> str:
    return "—" if value is None else f"{value:,.2f}"


def allocation_figure(rows: list[dict]) -> go.Figure:
    shown = [r for r in rows if r["value"] > 0]
    fig = go.Figure(go.Pie(labels=[r["asset"] for r in shown], values=[r["value"] for r in shown], hole=0.45,
                           textinfo="label+percent", sort=False))
    fig.update_layout(title="Allocation", showlegend=False, **_LAYOUT)
    if not shown:
        fig.add_annotation(text="nothing held yet", showarrow=False)
    return fig


def equity_figure(equity: pd.DataFrame, bench: pd.Series | None = None) -> go.Figure:
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05)
    if len(equity):
        eq = thin(equity["equity"])
        fig.add_trace(go.Scatter(x=eq.index, y=eq.values, name="equity", line=dict(color=UP)), row=1, col=1)
        net = thin(equity["net_deposits"])
        fig.add_trace(go.Scatter(x=net.index, y=net.values, name="net deposits",
                                 line=dict(color="#999", dash="dot")), row=1, col=1)
        if bench is not None:
            b = thin(bench)
            fig.add_trace(go.Scatter(x=b.index, y=b.values, name="BTC buy-and-hold",
                                     line=dict(color="#f0b429")), row=1, col=1)
        dd = thin(equity["drawdown"] * 100)
        fig.add_trace(go.Scatter(x=dd.index, y=dd.values, name="drawdown %", fill="tozeroy",
                                 line=dict(color=DOWN)), row=2, col=1)
    else:
        fig.add_annotation(text="add a transaction to see the equity history", showarrow=False)
    fig.update_layout(title="Daily equity and drawdown", hovermode="x unified", **_LAYOUT)
    fig.update_yaxes(title_text="quote", row=1, col=1)
    fig.update_yaxes(title_text="DD %", row=2, col=1)
    return fig


def holding_rows(positions: list[dict]) -> list[dict]:
    return [{"asset": p["asset"], "quantity": round(p["quantity"], 8), "avg_cost": money(p["avg_cost"]),
             "price": money(p["price"]), "value": money(p["market_value"]), "unrealised": money(p["unrealised"]),
             "unrealised_pct": "—" if p["unrealised_pct"] is None else f"{p['unrealised_pct']:.2f}%",
             "realised": money(p["realised"])} for p in positions]


def summary_items(summary: dict) -> list[tuple[str, str]]:
    exposure = summary["exposure_pct"]
    return [("Equity", money(summary["equity"])), ("Cash", money(summary["cash"])),
            ("Realised P&L", money(summary["realised"])), ("Unrealised P&L", money(summary["unrealised"])),
            ("Total P&L", money(summary["total_pnl"])),
            ("Exposure", "—" if exposure is None else f"{exposure:.1f}%")]


def transaction_rows(transactions) -> list[dict]:
    return [{"id": t.id, "time": t.time.strftime("%Y-%m-%d %H:%M"), "kind": t.kind, "asset": t.asset,
             "quantity": t.quantity, "price": t.price, "fee": t.fee, "note": t.note}
            for t in sorted(transactions, key=lambda t: (t.time, t.id or 0), reverse=True)]


def paper_table_rows(rows: list[dict]) -> list[dict]:
    return [{**r, "cash": money(r["cash"]), "equity": money(r["equity"]), "pnl": money(r["pnl"]),
             "through": r["through"][:16].replace("T", " "),
             "chart": f"[trades on the chart](/?paper={int(r['id'])})"} for r in rows]


def fill_rows(fills) -> list[dict]:
    return [{"trade": f.trade_no, "leg": f.leg, "side": f.side, "time": pd.Timestamp(f.time).strftime("%Y-%m-%d %H:%M"),
             "qty": round(f.qty, 8), "price": round(f.price, 6), "fee": round(f.fee, 6), "reason": f.reason}
            for f in fills]


def reconciliation_rows(report: dict) -> list[dict]:
    def side(d, key):
        return "" if d is None else str(d[key])[:16].replace("T", " ") if key == "time" else f"{d[key]:.6g}"

    return [{"trade": r["trade_no"], "leg": r["leg"], "status": r["status"], "fields": ", ".join(r["fields"]),
             "paper_time": side(r["paper"], "time"), "backtest_time": side(r["backtest"], "time"),
             "paper_price": side(r["paper"], "price"), "backtest_price": side(r["backtest"], "price"),
             "reason": r["reason"]} for r in report["rows"]]


def order_rows(orders) -> list[dict]:
    def when(t):
        return "" if t is None else pd.Timestamp(t).strftime("%Y-%m-%d %H:%M")

    return [{"id": o.id, "placed": when(o.placed_at), "symbol": o.symbol, "timeframe": o.timeframe, "side": o.side,
             "type": o.type, "qty": o.qty, "price": "" if o.price is None else o.price, "tif": o.tif,
             "status": o.status, "filled": when(o.filled_at),
             "fill_price": "" if o.fill_price is None else round(o.fill_price, 6),
             "fee": "" if o.fee is None else round(o.fee, 6)} for o in orders]
