"""The job layer publishes after each stage: a real ingest job (demo source) publishes its new bars and a
real analysis job its snapshot, on the run's Redis."""
from __future__ import annotations

import json
import time

import redis


def _messages(pubsub, wanted: int, timeout: float = 10.0) -> list[dict]:
    out, deadline = [], time.monotonic() + timeout
    while len(out) < wanted and time.monotonic() < deadline:
        msg = pubsub.get_message(timeout=0.2)
        if msg and msg["type"] == "pmessage":
            out.append({"redis_channel": msg["channel"].decode(), **json.loads(msg["data"])})
    return out


def test_ingest_and_analysis_jobs_publish_bars_and_signals(stream_server_app, stream_redis_url):
    from workers.analysis import analyze
    from workers.ingest import refresh

    client = redis.Redis.from_url(stream_redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("cw:stream:*")
    try:
        with stream_server_app.app_context():
            result = refresh("demo", "ETH/USDT", "1h")
            assert result["written"] > 0
            bars = _messages(pubsub, 1)
            assert bars and bars[0]["redis_channel"] == "cw:stream:market_data", bars
            data = bars[0]["data"]
            assert (data["exchange"], data["symbol"], data["timeframe"]) == ("demo", "ETH/USDT", "1h")
            assert 0 < len(data["bars"]) <= 50 and data["bars"][-1]["time"] == result["last_bar"]
            assert refresh("demo", "ETH/USDT", "1h")["written"] == 0
            assert _messages(pubsub, 1, timeout=0.5) == []  # nothing new, nothing pushed
            analyze("demo", "ETH/USDT")
            signals = [m for m in _messages(pubsub, 1) if m["channel"] == "signals"]
            assert signals and signals[0]["data"]["symbol"] == "ETH/USDT" and signals[0]["user_id"] is None
            assert signals[0]["data"]["score"] is not None and "1h" in signals[0]["data"]["timeframes"]
    finally:
        pubsub.close()
        client.close()


def test_a_paper_fill_is_published_to_its_owner_only(stream_server_app, stream_redis_url):
    from datetime import timedelta

    from app.auth.users import create_user
    from app.backtest.config import Costs
    from app.extensions import db
    from app.market import store as candles
    from app.portfolio import store
    from app.portfolio.orders import Order
    from tests.unit.backtest.backtest_candles import make_candles
    from workers.paper import step

    bars = make_candles([100, 102, 98, 110], highs=[101, 104, 99, 112], lows=[99, 100, 95, 109],
                        closes=[101, 99, 97, 111], start="2026-01-01")
    client = redis.Redis.from_url(stream_redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("cw:stream:*")
    try:
        with stream_server_app.app_context():
            sid = candles.get_or_create_series(db.session.connection(), "demo", "SOL/USDT", "1h")
            candles.upsert_candles(db.session.connection(), sid, bars)
            owner = create_user("paper-owner@example.com", "correct-horse-battery").id
            order = store.place_order(db.session, owner, "demo", "SOL/USDT", "1h",
                                      Order("buy", "market", 1.0, bars.index[0] + timedelta(minutes=1), None, "gtc"),
                                      Costs(), 100.0)
            db.session.commit()
            assert step("demo", "SOL/USDT")["orders"] == [{"order_id": order.id, "status": "filled"}]
        got = _messages(pubsub, 1)
        assert [m["redis_channel"] for m in got] == [f"cw:stream:portfolio:{owner}"]
        assert got[0]["user_id"] == owner and got[0]["data"] == {
            "kind": "paper_order", "exchange": "demo", "symbol": "SOL/USDT", "order_id": order.id, "status": "filled"}
    finally:
        pubsub.close()
        client.close()
