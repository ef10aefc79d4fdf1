"""The stream process end to end: real uvicorn on a free port, real Redis pub/sub, tokens in PostgreSQL."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.integration.stream.conftest import bearer


def open_ws(stream, token: str | None, **kw):
    return connect(stream.url, additional_headers=bearer(token) if token else {}, open_timeout=5, **kw)


def frames(ws, timeout: float = 3.0, skip=("heartbeat",)):
    """Frames received within ``timeout`` seconds from now, heartbeats skipped."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            doc = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0)))
        except TimeoutError:
            return
        if doc["type"] not in skip:
            yield doc


def next_frame(ws, timeout: float = 3.0, skip=("heartbeat",)) -> dict:
    for doc in frames(ws, timeout, skip):
        return doc
    raise AssertionError(f"no frame within {timeout} s")


def subscribe(ws, *channels, symbols=None) -> dict:
    welcome = next_frame(ws)
    assert welcome["type"] == "welcome"
    msg = {"type": "subscribe", "channels": list(channels)}
    if symbols is not None:
        msg["symbols"] = symbols
    ws.send(json.dumps(msg))
    reply = next_frame(ws)
    assert reply["type"] == "subscribed" and set(channels) <= set(reply["channels"]), reply
    return welcome


def close_code(ws, timeout: float = 5.0) -> int:
    with pytest.raises(ConnectionClosed) as info:
        for _ in range(1000):
            ws.recv(timeout=timeout)
    return info.value.rcvd.code if info.value.rcvd else None


# --- alerts: the owner within a second, nobody else -------------------------------------------------


def _fire_rule(server_app, user_id: int, level: float) -> tuple[float, float]:
    """Store candles crossing ``level`` and a rule of ``user_id`` on them; run the real alert job.
    Returns (monotonic time the job started, when it returned)."""
    from app.extensions import db
    from tests.integration.alerts.helpers import EXCHANGE, SYMBOL, add_candles, add_rule, crossing_candles
    from workers.alerts import evaluate

    with server_app.app_context():
        candles = crossing_candles()
        candles[["open", "high", "low", "close"]] += level - 100.0
        add_candles(db.session, candles)
        add_rule(db.session, user_id, channels=("inapp",), name=f"cross {level}", params={"level": level})
        db.session.commit()
        started = time.monotonic()
        evaluate(EXCHANGE, SYMBOL)
        return started, time.monotonic()


def test_an_alert_reaches_its_owner_within_a_second_of_being_stored_and_nobody_else(
        stream, stream_server_app, make_token):
    from app.extensions import db
    from app.models import AlertEvent

    alice_token, alice, _ = make_token()
    bob_token, bob, _ = make_token()
    with open_ws(stream, alice_token) as a, open_ws(stream, bob_token) as b:
        subscribe(a, "alerts")
        subscribe(b, "alerts")
        got: dict = {}

        def read_alice():
            doc = next_frame(a, timeout=10)
            got["at"], got["doc"] = time.monotonic(), doc

        reader = threading.Thread(target=read_alice)
        reader.start()
        started, returned = _fire_rule(stream_server_app, alice, 100.0)
        reader.join(15)
        doc = got["doc"]
        print(f"alert job returned -> owner's client: {(got['at'] - returned) * 1000:.0f} ms "
              f"(job start -> client {(got['at'] - started) * 1000:.0f} ms)")
        assert doc["type"] == "event" and doc["channel"] == "alerts", doc
        # the event row was committed before the job published it, so receipt - job start bounds the latency
        assert got["at"] - returned < 1.0 and got["at"] - started < 3.0, (got["at"] - started, returned - started)
        with stream_server_app.app_context():
            row = db.session.get(AlertEvent, doc["data"]["event_id"])
            assert row is not None and row.user_id == alice and doc["data"]["symbol"] == row.symbol
        # bob's first alert is his own: alice's (published earlier on the same Redis) never reached him
        _fire_rule(stream_server_app, bob, 200.0)
        first = next_frame(b, timeout=5)
        assert first["channel"] == "alerts"
        with stream_server_app.app_context():
            assert db.session.get(AlertEvent, first["data"]["event_id"]).user_id == bob
        assert all(f["type"] != "event" for f in frames(a, timeout=0.5))  # and alice did not get bob's


# --- authentication -------------------------------------------------------------------------------


def test_missing_invalid_expired_revoked_and_scopeless_tokens_are_closed_with_a_code(
        stream, stream_server_app, make_token, expire_token):
    from app.auth.tokens import revoke_token
    from app.extensions import db

    expired, _, expired_id = make_token()
    expire_token(expired_id)
    revoked, uid, revoked_id = make_token()
    with stream_server_app.app_context():
        assert revoke_token(db.session, uid, revoked_id)
    trade_only, _, _ = make_token(scopes=("trade",))
    for token, code in ((None, 4401), ("cw_not-a-real-token", 4401), ("Basic abc", 4401), (expired, 4401),
                        (revoked, 4401), (trade_only, 4403)):
        with open_ws(stream, token) as ws:
            assert close_code(ws) == code, token


def test_a_token_revoked_while_connected_is_cut_off(stream, stream_server_app, make_token):
    from app.auth.tokens import revoke_token
    from app.extensions import db

    token, uid, tid = make_token()
    with open_ws(stream, token) as ws:
        subscribe(ws, "signals")
        with stream_server_app.app_context():
            assert revoke_token(db.session, uid, tid)
        assert close_code(ws, timeout=5) == 4401  # STREAM_RECHECK_S=1 in these tests


# --- messages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("message, field", [
    ("not json", "message"),
    ("[1, 2]", "message"),
    (json.dumps({"type": "shout"}), "type"),
    (json.dumps({"type": "subscribe"}), "channels"),
    (json.dumps({"type": "subscribe", "channels": ["secrets"]}), "channels"),
    (json.dumps({"type": "subscribe", "channels": ["market_data"], "symbols": ["BTC-USDT"]}), "symbols"),
    (json.dumps({"type": "subscribe", "channels": ["alerts"], "user_id": 1}), "user_id"),
    ("x" * 5000, "message"),
])
def test_a_bad_message_gets_an_error_frame_naming_the_field_and_changes_nothing(stream, make_token, publisher,
                                                                                message, field):
    token, _, _ = make_token()
    with open_ws(stream, token) as ws:
        subscribe(ws, "signals", symbols=["ETH/USDT"])
        ws.send(message)
        error = next_frame(ws)
        assert error["type"] == "error" and error["field"] == field and error["message"], error
        ws.send(json.dumps({"type": "ping"}))
        assert next_frame(ws)["type"] == "pong"  # still open, and the subscription is unchanged:
        publisher.publish("signals", {"symbol": "BTC/USDT", "score": 1})
        publisher.publish("market_data", {"symbol": "ETH/USDT"})
        publisher.publish("signals", {"symbol": "ETH/USDT", "score": 2})
        event = next_frame(ws)
        assert event["channel"] == "signals" and event["data"] == {"symbol": "ETH/USDT", "score": 2}


def test_heartbeats_symbol_filter_and_unsubscribe(stream, make_token, publisher):
    token, _, _ = make_token()
    with open_ws(stream, token) as ws:
        welcome = subscribe(ws, "market_data", "predictions", symbols=["BTC/USDT"])
        assert welcome["heartbeat_s"] == 0.5
        assert next_frame(ws, timeout=2, skip=())["type"] == "heartbeat"
        ws.send(json.dumps({"type": "unsubscribe", "channels": ["predictions"]}))
        assert next_frame(ws)["channels"] == ["market_data"]
        publisher.publish("predictions", {"symbol": "BTC/USDT"})
        publisher.publish("market_data", {"symbol": "ETH/USDT"})
        publisher.publish("market_data", {"symbol": "BTC/USDT", "n": 1})
        event = next_frame(ws)
        assert (event["channel"], event["data"]) == ("market_data", {"symbol": "BTC/USDT", "n": 1})


# --- a slow client ----------------------------------------------------------------------------------


def _raw_handshake(port: int, token: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads (a stuck consumer)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall((f"GET /stream/v1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0], head
    payload = json.dumps({"type": "subscribe", "channels": ["market_data"]}).encode()
    mask = b"\x00\x00\x00\x00"  # a masked client frame (zero mask keeps the payload as is)
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + payload)
    return sock


def test_a_slow_client_is_disconnected_and_never_slows_the_others(stream, make_token, publisher):
    token, _, _ = make_token()
    slow = _raw_handshake(stream.port, token)
    try:
        with open_ws(stream, token, max_size=None) as fast:
            subscribe(fast, "market_data")
            time.sleep(0.2)  # the slow client's subscribe has been handled
            before = stream.health()
            big = "x" * 64_000
            n = 200  # ~13 MB: far more than the slow socket's buffers plus its queue of 16 frames
            received, latest = 0, 0.0
            sent_at = time.monotonic()
            for i in range(n):
                publisher.publish("market_data", {"symbol": "BTC/USDT", "i": i, "pad": big})
                if i % 20 == 19:  # the fast client keeps up while the slow one falls behind
                    for doc in frames(fast, timeout=0.01):
                        received, latest = received + (doc["type"] == "event"), doc["data"]["i"]
            for doc in frames(fast, timeout=15):
                if doc["type"] == "event":
                    received, latest = received + 1, doc["data"]["i"]
                if received == n:
                    break
            assert received == n and latest == n - 1  # every message, in order
            assert time.monotonic() - sent_at < 30
            deadline = time.monotonic() + 10
            while stream.health()["connections"] > before["connections"] - 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            health = stream.health()
            assert health["connections"] == before["connections"] - 1, health
            assert health["dropped_slow"] == before["dropped_slow"] + 1, health
    finally:
        slow.close()


# --- memory -----------------------------------------------------------------------------------------

IDLE_CONNECTIONS = 200


def test_200_idle_connections_cost_under_100_mb_and_a_user_is_capped(stream, make_token):
    """The stream process's resident memory before and after 200 authenticated, subscribed, idle clients
    (four users with 50 each, the cap of these tests: a 51st connection of a user is closed with 4429)."""
    import asyncio

    import psutil
    from websockets.asyncio.client import connect as aconnect

    tokens = [make_token()[0] for _ in range(4)]
    server = psutil.Process(stream.proc.pid)
    base_connections = stream.health()["connections"]
    before = server.memory_info().rss

    async def hold():
        async def one(token):
            ws = await aconnect(stream.url, additional_headers=bearer(token), open_timeout=20)
            await ws.send(json.dumps({"type": "subscribe", "channels": ["market_data", "alerts", "portfolio"]}))
            return ws

        sockets = []
        for token in tokens:
            sockets += await asyncio.gather(*(one(token) for _ in range(IDLE_CONNECTIONS // len(tokens))))
        deadline = time.monotonic() + 20
        while stream.health()["connections"] < base_connections + IDLE_CONNECTIONS and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # a few heartbeats pass through every connection
        during = server.memory_info().rss
        connected = stream.health()["connections"] - base_connections
        extra = await aconnect(stream.url, additional_headers=bearer(tokens[0]), open_timeout=20)
        try:
            await asyncio.wait_for(extra.wait_closed(), 5)
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))
        return during, connected, extra.close_code

    during, connected, capped = asyncio.run(hold())
    assert capped == 4429
    delta_mb = (during - before) / 2**20
    print(f"stream RSS {before / 2**20:.1f} MB -> {during / 2**20:.1f} MB with {connected} idle connections "
          f"(+{delta_mb:.1f} MB)")
    assert connected == IDLE_CONNECTIONS
    assert delta_mb < 100, delta_mb
