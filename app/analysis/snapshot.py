"""The snapshot: the JSON document the Signals page shows for one symbol (pure).

Built once per analysis job from the signals and the events that the same indicator pass found;
stored in the fused ``signals`` row's details and in hot state (``app.hot.signals``).
"""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd

from app.analysis.types import FusedSignal, Signal
from app.marketdata import TIMEFRAMES

EVENT_BARS = 300  # events of the latest N bars per timeframe go into the snapshot (chart markers)


def event_records(events: pd.DataFrame, index: pd.DatetimeIndex, bars: int = EVENT_BARS) -> list[dict]:
    """Detected events (``detect_events``'s frame) within the last ``bars`` bars of ``index``, JSON-ready."""
    if len(index) == 0 or len(events) == 0:
        return []
    events = events[events["time"] >= index[max(0, len(index) - bars)]]
    return [{"time": pd.Timestamp(r.time).isoformat(), "event": r.event, "kind": r.kind,
             "direction": int(r.direction), "strength": round(float(r.strength), 3)}
            for r in events.itertuples(index=False)]


def recent_events(frame: pd.DataFrame, timeframe: str, bars: int = EVENT_BARS) -> list[dict]:
    """Events detected on ``frame`` within its last ``bars`` bars, JSON-ready, oldest first."""
    from app.analysis.patterns import detect_events

    if len(frame) == 0:
        return []
    return event_records(detect_events(frame, timeframe), frame.index, bars)


def build_snapshot(exchange: str, signals: dict[str, Signal], fused: FusedSignal,
                   events: dict[str, list[dict]] | None = None, computed_at: datetime | None = None) -> dict:
    """The JSON document the page shows for one symbol (Redis value and the fused row's details).

    ``timeframes`` maps tf -> the timeframe's ``Signal.to_dict()`` plus its
    fusion weight and effective share; ``top_reasons`` ranks every
    timeframe's reasons by points x share (what moved the fused score most).
    """
    computed_at = computed_at or datetime.now(timezone.utc)
    fused_d = fused.to_dict()
    per_tf = {}
    ranked = []
    for tf in [t for t in TIMEFRAMES if t in signals]:
        d = signals[tf].to_dict()
        info = fused.timeframes.get(tf, {})
        d["weight"] = info.get("weight", 0.0)
        d["share"] = info.get("share", 0.0)
        d["events"] = (events or {}).get(tf, [])
        per_tf[tf] = d
        ranked += [(abs(r["points"]) * d["share"], f"{r['text']}") for r in d["reasons"]]
    ranked.sort(key=lambda x: -x[0])
    return {
        "exchange": exchange, "symbol": fused.symbol, "bar_time": fused_d["bar_time"],
        "computed_at": computed_at.astimezone(timezone.utc).isoformat(),
        "fused": fused_d, "timeframes": per_tf,
        "top_reasons": [text for weight, text in ranked[:3] if weight > 0],
    }
