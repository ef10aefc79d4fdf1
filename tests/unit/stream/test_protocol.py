"""app.stream.protocol: client messages are checked field by field; who gets which published message."""
from __future__ import annotations

import json

import pytest

from app.stream.protocol import (MAX_FRAME_BYTES, MAX_SYMBOLS, ProtocolError, Request, parse_client_message,
                                 refused_channels, wants)


def test_subscribe_unsubscribe_and_ping():
    req = parse_client_message(json.dumps({"type": "subscribe", "channels": ["alerts", "market_data", "alerts"],
                                           "symbols": ["eth/usdt", "BTC/USDT"]}))
    assert req == Request("subscribe", ("market_data", "alerts"), ("BTC/USDT", "ETH/USDT"))
    assert parse_client_message('{"type": "subscribe", "channels": ["signals"]}').symbols is None
    assert parse_client_message('{"type": "unsubscribe", "channels": ["signals"]}') == Request("unsubscribe",
                                                                                               ("signals",))
    assert parse_client_message('{"type": "ping"}') == Request("ping")


@pytest.mark.parametrize("text, field, words", [
    (b"binary", "message", "text frames"),
    ("{", "message", "not valid JSON"),
    ('"subscribe"', "message", "JSON object"),
    ('{"channels": ["alerts"]}', "type", "type must be one of"),
    ('{"type": "subscribe", "channels": []}', "channels", "non-empty list"),
    ('{"type": "subscribe", "channels": "alerts"}', "channels", "non-empty list"),
    ('{"type": "subscribe", "channels": [1]}', "channels", "non-empty list"),
    ('{"type": "subscribe", "channels": ["alerts", "admin"]}', "channels", "unknown channel 'admin'"),
    ('{"type": "subscribe", "channels": ["signals"], "symbols": "BTC/USDT"}', "symbols", "non-empty list"),
    ('{"type": "subscribe", "channels": ["signals"], "symbols": ["BTC"]}', "symbols", "BASE/QUOTE"),
    ('{"type": "subscribe", "channels": ["signals"], "user_id": 2}', "user_id", "unknown field"),
    ('{"type": "unsubscribe", "channels": ["signals"], "symbols": ["BTC/USDT"]}', "symbols", "channels only"),
    (json.dumps({"type": "subscribe", "channels": ["signals"],
                 "symbols": [f"A{i}/USDT" for i in range(MAX_SYMBOLS + 1)]}), "symbols", f"at most {MAX_SYMBOLS}"),
    ("x" * (MAX_FRAME_BYTES + 1), "message", "at most"),
])
def test_bad_messages_name_their_field(text, field, words):
    with pytest.raises(ProtocolError) as info:
        parse_client_message(text)
    assert info.value.field == field and words in info.value.message


def test_every_channel_needs_the_read_scope():
    assert refused_channels(("market_data", "alerts"), {"read"}) == []
    assert refused_channels(("market_data", "alerts"), {"trade"}) == ["market_data", "alerts"]


def test_a_user_only_gets_their_own_alerts_and_portfolio():
    alert = {"channel": "alerts", "user_id": 5, "data": {"symbol": "BTC/USDT"}}
    mine, theirs = frozenset({"alerts", "portfolio"}), frozenset({"alerts"})
    assert wants(alert, mine, None, user_id=5)
    assert not wants(alert, theirs, None, user_id=6)
    assert not wants({**alert, "user_id": None}, mine, None, user_id=5)
    assert not wants(alert, frozenset({"market_data"}), None, user_id=5)  # not subscribed


def test_market_channels_follow_the_symbol_filter():
    bar = {"channel": "market_data", "user_id": None, "data": {"symbol": "ETH/USDT"}}
    assert wants(bar, frozenset({"market_data"}), None, 1)
    assert wants(bar, frozenset({"market_data"}), frozenset({"ETH/USDT"}), 1)
    assert not wants(bar, frozenset({"market_data"}), frozenset({"BTC/USDT"}), 1)
