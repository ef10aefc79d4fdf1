"""app.hot.stream: channel names per user, the message envelope, payloads, and publishing that never fails a job."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from app.hot.stream import MAX_BARS, NullPublisher, Publisher, bars_payload, redis_channel, signal_payload


class FakeRedis:
    def __init__(self, fail: bool = False):
        self.sent, self.fail = [], fail

    def publish(self, channel, message):
        if self.fail:
            raise ConnectionError("redis is away")
        self.sent.append((channel, json.loads(message)))
        return 1


def test_public_and_per_user_channels():
    assert redis_channel("cw", "market_data") == "cw:stream:market_data"
    assert redis_channel("cw", "alerts", 7) == "cw:stream:alerts:7"
    assert redis_channel("x", "portfolio", 3) == "x:stream:portfolio:3"
    with pytest.raises(ValueError, match="user_id"):
        redis_channel("cw", "alerts")            # an alert always belongs to one user
    with pytest.raises(ValueError, match="user_id"):
        redis_channel("cw", "portfolio", True)
    with pytest.raises(ValueError, match="public"):
        redis_channel("cw", "signals", 3)
    with pytest.raises(ValueError, match="unknown stream channel"):
        redis_channel("cw", "orders")


def test_alert_events_go_to_each_owner_with_a_utc_envelope():
    redis = FakeRedis()
    sent = Publisher(redis, "cw").alert_events("demo", [
        {"event_id": 1, "rule_id": 10, "user_id": 5, "symbol": "BTC/USDT", "deliveries": {"webhook": 3}},
        {"event_id": 2, "rule_id": 11, "user_id": 6, "symbol": "ETH/USDT", "deliveries": {}}])
    assert sent == 2
    (ch1, m1), (ch2, m2) = redis.sent
    assert (ch1, ch2) == ("cw:stream:alerts:5", "cw:stream:alerts:6")
    assert m1["user_id"] == 5 and m1["channel"] == "alerts"
    assert m1["data"] == {"event_id": 1, "rule_id": 10, "exchange": "demo", "symbol": "BTC/USDT"}  # no delivery ids
    assert m1["at"].endswith("+00:00")


def test_bars_payload_keeps_the_last_bars_as_plain_numbers():
    idx = pd.date_range("2026-01-01", periods=MAX_BARS + 5, freq="1h", tz="UTC")
    frame = pd.DataFrame({c: range(len(idx)) for c in ("open", "high", "low", "close", "volume")}, index=idx,
                         dtype="float64")
    doc = bars_payload("demo", "BTC/USDT", "1h", frame)
    assert len(doc["bars"]) == MAX_BARS and doc["bars"][-1]["time"] == idx[-1].isoformat()
    assert doc["bars"][0]["close"] == 5.0 and isinstance(doc["bars"][0]["close"], float)
    redis = FakeRedis()
    assert Publisher(redis).bars("demo", "BTC/USDT", "1h", frame.iloc[:0]) == 0 and redis.sent == []


def test_signal_payload_is_the_fused_score_and_per_timeframe_scores():
    snap = {"exchange": "demo", "symbol": "BTC/USDT", "bar_time": "2026-01-01T00:00:00+00:00",
            "fused": {"score": 71.5, "label": "buy", "confidence": 0.6},
            "timeframes": {"1h": {"score": 70, "label": "buy", "indicators": {"rsi": 55}}}}
    doc = signal_payload(snap)
    assert doc["score"] == 71.5 and doc["timeframes"] == {"1h": {"score": 70, "label": "buy"}}


def test_a_redis_failure_is_logged_without_the_message_and_does_not_raise(caplog):
    sent = Publisher(FakeRedis(fail=True)).portfolio(4, {"secret_note": "do-not-log"})
    assert sent == 0
    assert "stream publish to cw:stream:portfolio:4 failed" in caplog.text and "do-not-log" not in caplog.text


def test_embedded_mode_publishes_nothing_but_checks_the_same(tmp_path):
    from app.hot import stream_publisher
    from app.settings import Settings

    publisher = stream_publisher(Settings(database_url=f"sqlite:///{tmp_path}/x.db"))
    assert isinstance(publisher, NullPublisher)
    assert publisher.signal({"symbol": "BTC/USDT"}) == 0
    with pytest.raises(ValueError):
        publisher.publish("alerts", {})
    assert isinstance(stream_publisher(Settings(redis_url="redis://127.0.0.1:1/0")), Publisher)


def test_predictions_are_one_message_per_symbol_and_none_when_empty():
    redis = FakeRedis()
    rows = [{"timeframe": "1h", "bar_time": "2026-01-01T00:00:00+00:00", "p_up": 0.61, "version": 3}]
    assert Publisher(redis).predictions("demo", "BTC/USDT", []) == 0
    assert Publisher(redis).predictions("demo", "BTC/USDT", rows) == 1
    (channel, message), = redis.sent
    assert channel == "cw:stream:predictions" and message["data"]["predictions"] == rows
