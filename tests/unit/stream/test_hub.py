"""app.stream.hub: a full send queue cuts off that client only; each message is parsed and framed once."""
from __future__ import annotations

import asyncio
import json

from app.stream.hub import Connection, Hub
from app.stream.protocol import CLOSE_GOING_AWAY, CLOSE_SLOW_CONSUMER


def _message(i: int, channel: str = "market_data", user_id=None) -> str:
    return json.dumps({"channel": channel, "user_id": user_id, "data": {"symbol": "BTC/USDT", "i": i}, "at": "t"})


def test_a_slow_client_is_cut_off_and_the_others_get_every_message():
    async def scenario():
        hub = Hub()
        slow, fast = Connection(1, frozenset({"read"}), queue_max=3), Connection(2, frozenset({"read"}), 1000)
        for conn in (slow, fast):
            conn.channels = frozenset({"market_data"})
            hub.add(conn)
        sent = [hub.dispatch(_message(i)) for i in range(10)]
        return hub, slow, fast, sent

    hub, slow, fast, sent = asyncio.run(scenario())
    assert sent == [2, 2, 2, 1, 1, 1, 1, 1, 1, 1]  # the 4th message found the slow queue full
    assert slow.done.is_set() and slow.close_code == CLOSE_SLOW_CONSUMER
    assert fast.queue.qsize() == 10 and not fast.done.is_set()
    assert hub.stats()["dropped_slow"] == 1
    frames = [json.loads(fast.queue.get_nowait()) for _ in range(10)]
    assert [f["data"]["i"] for f in frames] == list(range(10)) and frames[0]["type"] == "event"


def test_per_user_messages_reach_only_their_owner_and_bad_messages_are_dropped():
    async def scenario():
        hub = Hub()
        alice, bob = Connection(1, frozenset({"read"}), 10), Connection(2, frozenset({"read"}), 10)
        for conn in (alice, bob):
            conn.channels = frozenset({"alerts"})
            hub.add(conn)
        counts = [hub.dispatch(_message(1, "alerts", user_id=1)), hub.dispatch(b"not json"), hub.dispatch("[1]")]
        hub.shutdown()
        return alice, bob, counts

    alice, bob, counts = asyncio.run(scenario())
    assert counts == [1, 0, 0]
    assert alice.queue.qsize() == 1 and bob.queue.qsize() == 0
    assert alice.close_code == bob.close_code == CLOSE_GOING_AWAY


def test_one_user_gets_at_most_max_per_user_connections():
    async def scenario():
        hub = Hub()
        added = [hub.add(Connection(1, frozenset({"read"}), 10), max_per_user=2) for _ in range(3)]
        return added, hub.add(Connection(2, frozenset({"read"}), 10), max_per_user=2), hub.stats()["connections"]

    assert asyncio.run(scenario()) == ([True, True, False], True, 3)


def test_the_handshake_closes_with_try_again_when_the_token_cannot_be_checked():
    """The ASGI app end to end in memory: a lookup that fails (database away) closes with 1013, not a crash."""
    from app.settings import Settings
    from app.stream.app import create_stream_app
    from app.stream.protocol import CLOSE_TRY_AGAIN, CLOSE_UNAUTHORIZED

    def broken(token):
        raise ConnectionError("database is away")

    async def handshake(lookup, headers):
        app = create_stream_app(Settings(redis_url="redis://127.0.0.1:1/0"), lookup=lookup, redis=object())
        sent, inbox = [], [{"type": "websocket.connect"}]

        async def receive():
            return inbox.pop(0) if inbox else {"type": "websocket.disconnect", "code": 1000}

        async def send(message):
            sent.append(message)

        scope = {"type": "websocket", "path": "/stream/v1", "headers": headers, "query_string": b"",
                 "scheme": "ws", "server": ("127.0.0.1", 8060), "client": ("127.0.0.1", 5), "root_path": "",
                 "subprotocols": [], "app": app}
        await app.router(scope, receive, send)  # the router alone: no lifespan, no Redis
        return sent

    sent = asyncio.run(handshake(broken, [(b"authorization", b"Bearer cw_x")]))
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"] and sent[1]["code"] == CLOSE_TRY_AGAIN
    sent = asyncio.run(handshake(lambda token: None, []))
    assert sent[1]["code"] == CLOSE_UNAUTHORIZED
