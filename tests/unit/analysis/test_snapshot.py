"""app.analysis.snapshot: the document the Signals page shows, built once per analysis run."""
import json
from datetime import datetime, timezone

import pandas as pd
import pytest

from app.analysis.patterns import detect_events
from app.analysis.scoring import analyze_frames, analyze_latest
from app.analysis.snapshot import build_snapshot, event_records, recent_events
from app.analysis.types import FusedSignal, Reason, Signal
from tests.unit.analysis.analysis_synth import DEMO_END, demo_frames, demo_snapshot

END = DEMO_END


@pytest.fixture(scope="module")
def frames():
    return demo_frames()


@pytest.fixture(scope="module")
def snapshot(frames):
    return demo_snapshot(frames)


def _sig(tf, score, reasons):
    return Signal("BTC/USDT", tf, pd.Timestamp(END), score, 0.8, "buy", [Reason(t, p, c) for t, p, c in reasons])


def test_snapshot_is_json_and_ranks_reasons_by_points_times_share():
    signals = {"1h": _sig("1h", 70, [("RSI low on 1h", 10.0, "rsi"), ("small", 0.5, "obv")]),
               "1m": _sig("1m", 58, [("Trend up on 1m", 12.0, "trend")])}
    fused = FusedSignal("BTC/USDT", pd.Timestamp(END), 66.0, 0.7, "buy", 1.0,
                        {"1h": {"weight": 1.5, "share": 0.8}, "1m": {"weight": 0.5, "share": 0.2}}, [])
    snap = build_snapshot("demo", signals, fused, computed_at=END)
    assert json.loads(json.dumps(snap, allow_nan=False)) == snap
    # 10 x 0.8 = 8 beats 12 x 0.2 = 2.4 beats 0.5 x 0.8 = 0.4
    assert snap["top_reasons"] == ["RSI low on 1h", "Trend up on 1m", "small"]
    assert list(snap["timeframes"]) == ["1m", "1h"]  # TIMEFRAMES order
    assert snap["timeframes"]["1h"]["share"] == 0.8 and snap["computed_at"] == END.isoformat()


def test_recent_events_only_cover_the_last_bars_and_use_past_data(frames):
    frame = frames["15m"]
    events = recent_events(frame, "15m", bars=100)
    assert events and all(pd.Timestamp(e["time"]) >= frame.index[-100] for e in events)
    # detecting on a frame cut at bar t gives the same events up to t (no look-ahead)
    cut = frame.index[-40]
    early = [e for e in recent_events(frame.loc[:cut], "15m", bars=60)
             if pd.Timestamp(e["time"]) >= frame.index[-100]]
    assert early == [e for e in events if pd.Timestamp(e["time"]) <= cut]


def test_events_from_the_scoring_pass_equal_a_separate_detection(frames):
    """The analysis run takes its events from the indicator pass that scored the bar (computed once);
    they must be exactly what a separate ``detect_events`` call finds."""
    from app.analysis.config import ScoringConfig

    signals, fused, events = analyze_frames(frames, "BTC/USDT")
    assert (signals, fused) == analyze_latest(frames, "BTC/USDT")
    for tf, frame in frames.items():
        tail = frame.iloc[-ScoringConfig().history_bars:]  # what an analysis run loads and scores
        pd.testing.assert_frame_equal(events[tf], detect_events(tail, tf))
        assert event_records(events[tf], tail.index) == recent_events(tail, tf)


def test_keeping_the_latest_bars_events_gives_the_same_records_as_filtering_all(frames):
    """The analysis job builds only the latest EVENT_BARS bars' events; the snapshot is unchanged by it."""
    from app.analysis.config import ScoringConfig
    from app.analysis.snapshot import EVENT_BARS

    _, _, all_events = analyze_frames(frames, "BTC/USDT")
    _, _, recent = analyze_frames(frames, "BTC/USDT", events_bars=EVENT_BARS)
    for tf, frame in frames.items():
        tail = frame.iloc[-ScoringConfig().history_bars:]
        assert event_records(recent[tf], tail.index) == event_records(all_events[tf], tail.index)
        assert len(recent[tf]) <= len(all_events[tf])
    assert analyze_frames(frames, "BTC/USDT", events_bars=0)[2] == {}
