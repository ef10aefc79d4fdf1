"""What the Alerts page draws: the rule preview chart and the rule and history table rows (pure)."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from app.figures import TEMPLATE
from app.figures.market import candlestick_figure

MARKER = "#ffca28"


def preview_figure(candles: pd.DataFrame, fired_times: list, title: str) -> go.Figure:
    """The last bars with a marker above each bar the rule would have fired on."""
    fig = candlestick_figure(candles, title=title)
    if fired_times:
        highs = candles.loc[fired_times, "high"]
        fig.add_trace(go.Scatter(x=fired_times, y=highs * 1.002, mode="markers", name="would fire",
                                 marker=dict(symbol="triangle-down", size=11, color=MARKER)), row=1, col=1)
    fig.update_layout(template=TEMPLATE, height=420)
    return fig


def _when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else ""


def _stale_note(r, stale: dict) -> str:
    """' · stale data ...' when a series the rule watches has no recent bars."""
    hits = sorted((sym, last) for (ex, sym, tf), last in stale.items()
                  if ex == r.exchange and tf == r.timeframe and (r.symbol is None or sym == r.symbol))
    if not hits:
        return ""
    if r.symbol is not None:
        return f" · stale data (last bar {_when(hits[0][1]) or 'none'})"
    return " · stale data: " + ", ".join(sym for sym, _ in hits)


def rule_rows(rules, stats: dict[int, dict], describe, now: datetime, stale: dict | None = None) -> list[dict]:
    rows = []
    for r in rules:
        s = stats.get(r.id, {"triggers": 0, "last_fired": None, "success": {}})
        if r.finished:
            state = "finished"
        elif r.expires_at is not None and r.expires_at <= now:
            state = "expired"
        else:
            state = "paused" if r.paused else "active" + _stale_note(r, stale or {})
        success = ", ".join(f"{ch} {sent}/{total} ({100 * sent / total:.0f} %)" if total else f"{ch} -"
                            for ch, (sent, total) in sorted(s["success"].items()))
        rows.append({"id": r.id, "name": r.name, "symbol": r.symbol or "watch-list", "timeframe": r.timeframe,
                     "condition": describe(r.kind, r.params), "frequency": r.frequency.replace("_", " "),
                     "channels": ", ".join(r.channels), "state": state, "triggers": s["triggers"],
                     "last_fired": _when(s["last_fired"]), "delivered": success})
    return rows


def event_rows(events: list[dict]) -> list[dict]:
    rows = []
    for e in events:
        parts = []
        for d in e["deliveries"]:
            codes = "/".join(str(a["response_code"] or a["status"]) for a in d["attempts"])
            parts.append(f"{d['channel']}: {d['status']}" + (f" ({codes})" if codes else ""))
        rows.append({"id": e["id"], "fired": _when(e["fired_at"]), "bar": _when(e["bar_time"]), "symbol": e["symbol"],
                     "timeframe": e["timeframe"], "message": e["message"], "read": "" if e["read_at"] else "new",
                     "deliveries": "; ".join(parts) or "in-app"})
    return rows
