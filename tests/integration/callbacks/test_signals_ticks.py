"""Signals' interval ticks over HTTP: an empty 204 when nothing changed, a chart Patch when only the bars
moved, every part again when the analysis stored a new snapshot, shared figures built once per version."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import login
from tests.integration.callbacks.ticks import dash_call, seed_series, upsert

OVERVIEW = "..signals-heatmap.figure...signals-table.data...signals-status.children...signals-overview-seen.data.."
DETAIL = ("..signals-summary.children...signals-breakdown.children...signals-chart.figure...signals-history.figure"
          "...signals-detail-seen.data..")
LSTM = "..signals-lstm.children...signals-lstm-seen.data.."
INTERVAL = {"id": "signals-interval", "property": "n_intervals", "value": 1}


def _analyze(server, symbol, now):
    from app.analysis.analyze import analyze_symbol
    from app.extensions import db

    with server.app_context():
        analyze_symbol(db.session, "demo", symbol, now=now)
        db.session.commit()


@pytest.fixture
def symbol(dash_server):
    sym = f"TS{uuid.uuid4().hex[:6].upper()}/USDT"
    df = seed_series(dash_server, sym, n=420)
    _analyze(dash_server, sym, datetime(2026, 1, 1, tzinfo=timezone.utc))
    return sym, df


@pytest.fixture
def trader(dash_server, make_dash_user):
    client = dash_server.test_client()
    email, _ = make_dash_user("sig-ticks")
    assert login(client, email).status_code == 302
    return client


def _detail(client, symbol, seen):
    inputs = [{"id": "signals-symbol", "property": "value", "value": symbol},
              {"id": "signals-timeframe", "property": "value", "value": "1m"}, INTERVAL]
    return dash_call(client, DETAIL, inputs, [{"id": "signals-detail-seen", "property": "data", "value": seen}])


def test_detail_sends_nothing_unchanged_a_patch_for_bars_and_everything_for_a_new_snapshot(dash_server, trader,
                                                                                           symbol):
    sym, df = symbol
    first = _detail(trader, sym, None)
    assert first.status_code == 200
    out = first.get_json()["response"]
    assert {"signals-summary", "signals-breakdown", "signals-chart", "signals-history"} <= set(out)
    assert "fused" in str(out["signals-summary"]["children"])
    seen = out["signals-detail-seen"]["data"]
    assert seen["n"] == 300 and seen["last"] == df.index[-1].isoformat()

    assert _detail(trader, sym, seen).status_code == 204  # nothing changed: nothing sent

    upsert(dash_server, sym, df.iloc[-1:].assign(close=df["close"].iloc[-1] * 1.01,
                                                 high=df["high"].iloc[-1] * 1.02))
    moved = _detail(trader, sym, seen).get_json()["response"]
    assert set(moved) == {"signals-chart", "signals-detail-seen"}  # the snapshot is the same: only the bars
    ops = moved["signals-chart"]["figure"]["operations"]
    assert {"operation": "Assign", "location": ["data", 0, "close", 299],
            "params": {"value": pytest.approx(df["close"].iloc[-1] * 1.01)}} in ops
    seen = moved["signals-detail-seen"]["data"]

    _analyze(dash_server, sym, datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=1))
    again = _detail(trader, sym, seen).get_json()["response"]
    assert {"signals-summary", "signals-breakdown", "signals-history"} <= set(again)
    # the moved bar made a new event: a new snapshot's events need the whole chart
    assert again["signals-detail-seen"]["data"]["events"] != seen["events"]
    assert "data" in again["signals-chart"]["figure"]
    seen = again["signals-detail-seen"]["data"]

    _analyze(dash_server, sym, datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=2))
    later = _detail(trader, sym, seen).get_json()["response"]
    assert {"signals-summary", "signals-breakdown", "signals-history"} <= set(later)  # a new snapshot ...
    # ... over the same bars with the same events: the chart is left as it is
    assert "signals-chart" not in later and later["signals-detail-seen"]["data"]["events"] == seen["events"]
    # a tab that shows other events gets the whole chart again
    other = {**seen, "snap": "an older snapshot", "events": "other events"}
    rebuilt = _detail(trader, sym, other).get_json()["response"]
    assert "data" in rebuilt["signals-chart"]["figure"]
    assert rebuilt["signals-detail-seen"]["data"]["events"] == seen["events"]


def test_overview_and_lstm_send_nothing_on_an_unchanged_tick(trader, symbol):
    r = dash_call(trader, OVERVIEW, [INTERVAL], [{"id": "signals-overview-seen", "property": "data", "value": None}])
    out = r.get_json()["response"]
    assert symbol[0] in out["signals-heatmap"]["figure"]["data"][0]["y"]
    assert any(row["symbol"] == symbol[0] for row in out["signals-table"]["data"])
    seen = out["signals-overview-seen"]["data"]
    again = dash_call(trader, OVERVIEW, [INTERVAL], [{"id": "signals-overview-seen", "property": "data", "value": seen}])
    assert again.status_code == 204

    inputs = [{"id": "signals-symbol", "property": "value", "value": symbol[0]}, INTERVAL]
    r = dash_call(trader, LSTM, inputs, [{"id": "signals-lstm-seen", "property": "data", "value": None}])
    out = r.get_json()["response"]
    assert "No champion LSTM model" in str(out["signals-lstm"]["children"])
    seen = out["signals-lstm-seen"]["data"]
    assert dash_call(trader, LSTM, inputs, [{"id": "signals-lstm-seen", "property": "data", "value": seen}]
                     ).status_code == 204


def test_shared_detail_figures_are_built_once_per_version(dash_server, trader, make_dash_user, symbol, monkeypatch):
    import callbacks.signals as signals

    first = _detail(trader, symbol[0], None).get_json()["response"]

    def must_not_build(*a, **k):
        raise AssertionError("a shared figure was rebuilt although its version had not changed")

    monkeypatch.setattr(signals.views, "events_figure", must_not_build)
    monkeypatch.setattr(signals.views, "history_figure", must_not_build)
    other = dash_server.test_client()
    login(other, make_dash_user("sig-other")[0])
    served = _detail(other, symbol[0], None).get_json()["response"]
    assert served["signals-chart"] == first["signals-chart"] and served["signals-history"] == first["signals-history"]


def test_unchanged_ticks_read_no_bars_snapshots_or_predictions(dash_server, trader, symbol):
    """The tick gate on Signals: under the change counters its last check saw, none of the three interval
    callbacks reads the tables it shows; a new snapshot makes the next detail tick look again."""
    from tests.integration.callbacks.test_market_ticks import _statements

    sym, _df = symbol
    seen = _detail(trader, sym, None).get_json()["response"]["signals-detail-seen"]["data"]
    over = dash_call(trader, OVERVIEW, [INTERVAL], [{"id": "signals-overview-seen", "property": "data", "value": None}])
    over_seen = over.get_json()["response"]["signals-overview-seen"]["data"]
    inputs = [{"id": "signals-symbol", "property": "value", "value": sym}, INTERVAL]
    lstm_seen = dash_call(trader, LSTM, inputs, [{"id": "signals-lstm-seen", "property": "data", "value": None}]
                          ).get_json()["response"]["signals-lstm-seen"]["data"]
    sent, stop = _statements(dash_server)
    try:
        assert _detail(trader, sym, seen).status_code == 204
        assert dash_call(trader, OVERVIEW, [INTERVAL], [{"id": "signals-overview-seen", "property": "data",
                                                         "value": over_seen}]).status_code == 204
        assert dash_call(trader, LSTM, inputs, [{"id": "signals-lstm-seen", "property": "data",
                                                 "value": lstm_seen}]).status_code == 204
        assert not [s for s in sent if any(t in s for t in ("candles", "signals", "predictions"))], sent
    finally:
        stop()
    _analyze(dash_server, sym, datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=1))
    again = _detail(trader, sym, seen).get_json()["response"]
    assert {"signals-summary", "signals-breakdown", "signals-history"} <= set(again)
